"""Background work: the outbox relay, job functions and the workers that run them (arq on
Redis, or in process when there is no REDIS_URL)."""
