"""The evidence report of one incident: as data (report), what each public channel said
(channels), worded for a reader in the site's language (document), as PDF (pdf), and the
evidence bundle that carries its own proof (bundle).

May import: everything below server.api (basics, rules, store, evidence, operations, channels,
commands).
"""
