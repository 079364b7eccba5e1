"""Use cases: the one place where state changes (each with its audit event)."""
