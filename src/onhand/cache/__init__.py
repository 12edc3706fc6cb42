"""Redis availability cache: write-through by the dispatcher, reconciled against the database."""
