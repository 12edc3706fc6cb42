"""Checkout holds: reserve, commit, release, extend, expire, and group commit for hot SKUs."""
