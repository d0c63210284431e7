"""What lets a third party check the log: signed checkpoints of each site's log and their
witnesses (checkpoints), RFC 3161 timestamps (timestamps), the deployment's Ed25519 log key
(log_key).

May import: server.basics, server.rules, server.store.
"""
