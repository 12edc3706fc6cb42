"""onhand: the inventory backbone."""

__version__ = "0.1.0"
