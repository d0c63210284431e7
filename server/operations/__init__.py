"""What an operator runs and watches: Prometheus metrics (metrics), rate limits on guessing
(rate_limits), consistent backups (backup), the Redis message queue between workers
(message_queue).

May import: server.basics, server.rules, server.store.
"""
