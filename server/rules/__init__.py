"""The domain's rules, as plain functions over a database connection, with no writing and no
I/O of their own: who is asking and what each role may do (auth), what each fire-alarm panel
signal does (alarm_panel), who is on the roll and who is accounted for (mustering), how long
personal data is kept (privacy), who is due an escalation and when (escalation), a visitor's
personal link and closing time (visitors).

May import: server.basics.
"""
