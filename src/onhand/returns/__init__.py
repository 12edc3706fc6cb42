"""Returns (RMA): requested, approved, received into quality control, inspected per line."""
