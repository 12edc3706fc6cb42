"""Read-only aggregates for the admin console: tiles, history with balances, holds, series."""
