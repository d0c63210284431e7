"""The live path to the phones: Socket.IO connections and actions (realtime), the events of
each commit fanned out to the rooms (publish), Web Push to locked phones (push,
push_encryption), which phones are connected (presence) and whether each person's phone can be
reached (phone_readiness).

`services` is the app's parts (server/services.py), passed in and named without an import,
which would run up to the top floor.

May import: server.basics, server.rules, server.store, server.evidence, server.operations,
server.channels, server.commands.
"""
