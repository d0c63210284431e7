"""Outside systems that hear from us or answer us: outbound webhooks (webhooks) and text
messages through Twilio (sms: the escalation's and the visitors' senders). The alarm panel's
inbound side is a route (server/api/hooks.py) and a command (server/commands/alarm_panel.py);
the relay bridge is its own program (server/bridge.py).

Each sender reports its outcomes to a policy (server/policies.py); `services` is the app's
parts (server/services.py), passed in and named without an import, which would run up to the
top floor.

May import: server.basics, server.rules, server.store, server.evidence, server.operations,
server.channels, server.commands.
"""
