"""Browser tests of the admin console."""
