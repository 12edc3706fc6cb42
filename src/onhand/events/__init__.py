"""Events: the transactional outbox and everything that delivers it."""
