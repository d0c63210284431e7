"""The log and its projections: the SQLite file and its schema (db), the append-only hash
chain (log), every event type (events), the state tables as one projector per event type
(projectors/), the views read from them (state), the one writer with group commit (writer), the
rebuild from the log (rebuild), personal data sealed in the log and erasable (personal, migration),
the checks at start (integrity), and the disk under it with its reserve (disk).

Every change goes through `Writer.submit` (server.commands' `execute` is its one caller for
commands; presence, webhooks and checkpoints hand it their own work).

May import: server.basics, server.rules.
"""
