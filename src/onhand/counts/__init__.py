"""Cycle counts: a programme per tenant, daily blind count tasks, tolerance and approval."""
