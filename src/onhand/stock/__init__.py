"""The stock ledger: the only package that writes balances (see ledger.change)."""
