"""Every event type the log can hold, with its meaning. docs/events.md lists the same types; a test
keeps the two in step, and `Tx.record` refuses a type that is not here."""

EVENT_TYPES = {
    "site.created": "a site was set up",
    "site.imported": "a site's whole set-up was imported from a file (the set-up is the payload)",
    "zone.added": "a zone (with exits and assembly point) was added to a site",
    "zone.changed": "a zone's name, exits, assembly point or place in the list changed",
    "zone.removed": "a zone with no history was removed from a site",
    "assembly_point.added": "an assembly point (id, name, where) was added to a site",
    "assembly_point.changed": "an assembly point's name, where or place in the list changed",
    "assembly_point.removed": "an assembly point no zone names and no incident used was removed",
    "staff.added": "a person was added to a site with a role, home zone and language",
    "staff.changed": "a person's role, home zone or language changed (a site import)",
    "staff.language_changed": "a person chose the language of their app and pushed alarms",
    "chain_admin.granted": "the person became an admin of every site of the chain",
    "token.created": "a bearer token was issued for a person (the token itself is never logged)",
    "enrollment.created": "a single-use enrollment link was made for a person",
    "device.enrolled": "a phone used an enrollment link and became an enrolled device",
    "push.subscribed": "a device subscribed to Web Push (the log keeps the push service's host)",
    "push.expired": "the push service said a subscription is gone (404 or 410); it was removed",
    "incident.started": "a duty manager started an incident (kind, drill, message, eta)",
    "incident.updated": "the estimated reopening time or the staff message changed",
    "incident.ended": "the all-clear, with a reason (resolved, false_alarm, drill_over)",
    "alarm.delivered": "the app's automatic receipt: the alarm reached this person's phone",
    "alarm.acknowledged": "the person tapped 'got it'",
    "zone.claimed": "a person is sweeping the zone",
    "zone.assigned": "a duty manager sent a person to sweep the zone (logs before sweep requests)",
    "zone.sweep_requested": "a duty manager asked a person to sweep the zone (until they answer)",
    "zone.sweep_declined": "the person asked to sweep the zone cannot: it is free again",
    "zone.cleared": "the zone is swept clear",
    "zone.blocked": "the zone cannot be swept (with a note)",
    "help.requested": "a person needs help getting out (location, note)",
    "help.resolved": "the help request was dealt with",
    "staff.safe": "the person is safe at the assembly point (by their phone, or the sign's QR code)",
    "person.accounted": "a marshal accounted for a person (staff or visitor) at an assembly point",
    "person.reported_inside": "a marshal reported a person still inside, with where",
    "visitor.signed_in": "a visitor or contractor signed in (at the desk, or at the entrance)",
    "visitor.left": "a visitor signed out (at the desk, themself, or by the server at closing)",
    "visitor.texted": "the SMS service's answer to the alarm's text message to a visitor",
    "backup.requested": "staff under threat asked for backup (responders only)",
    "backup.cancelled": "the backup request was cancelled (responders only)",
    "backup.answered": "a guard or duty manager is on the way (responders only)",
    "backup.declined": "a guard or duty manager cannot come; the request stays open (responders only)",
    "notice.issued": "the public notice every channel now shows (state, since, eta, version)",
    "notice.switched": "one public channel (or one mailbox's automatic reply) switched",
    "notice.switch_failed": "a mailbox's provider refused or missed a switch; it is tried again",
    "mailbox.password_set": "an admin kept a self-hosted mailbox's ManageSieve password "
    "(sealed), or forgot it (null)",
    "notice.reply_kept": "someone else changed a mailbox's automatic reply during the incident: "
    "the all-clear left theirs",
    "notice.updated": "the public notice changed without switching (a new estimated reopening time)",
    "notices.configured": "a site's public-channel settings or wording changed",
    "alarm_panel.secret_added": "a webhook secret was made for the site's alarm panel (sealed)",
    "alarm_panel.secrets_retired": "the alarm panel's older webhook secrets stopped working",
    "alarm_panel.signalled": "the fire-alarm panel sent a signal, and what the policy did",
    "alarm_panel.link_up": "the alarm panel's heartbeat is heard (again)",
    "alarm_panel.link_down": "the alarm panel's heartbeat stopped for three of its intervals",
    "pre_alarm.started": "the panel's pre-alarm: duty managers have until a deadline to answer",
    "pre_alarm.confirmed": "a duty manager (or the panel's fire alarm) confirmed the pre-alarm",
    "pre_alarm.dismissed": "a duty manager dismissed the pre-alarm: no evacuation",
    "pre_alarm.expired": "nobody answered the pre-alarm in time: the evacuation started by itself",
    "push.sent": "a round of pushes went out: each subscription's answer (accepted, failed, expired)",
    "test_alarm.sent": "a duty manager sent a test alarm to one person's phones or everyone's",
    "test_alarm.answered": "a phone's service worker answered a test alarm (its receipt)",
    "alarm.escalated": "a phone had not confirmed the alarm in time: pushed again, or an SMS",
    "sms.sent": "the SMS service's answer to an escalation's text message (accepted or failed)",
    "webhook.added": "an admin subscribed a URL to a site's events (URL and secret sealed)",
    "webhook.removed": "an admin removed a webhook subscription",
    "webhook.tested": "an admin asked for a test delivery to one webhook",
    "clock.stepped": "the system clock stepped (`by_ms`, negative: back); the log's times run on "
    "evenly across it",
    "person.erased": "a person's personal data was erased (on request, or its retention ended): "
    "their keys are gone, so the log's sealed fields about them read (erased)",
}

# The panel's signals and countdowns are for those who lead (responders): a floor staff phone
# hears of a fire alarm when the incident starts.
ALARM_PANEL_EVENTS = frozenset(
    type_ for type_ in EVENT_TYPES if type_.startswith(("alarm_panel.", "pre_alarm."))
)

# Events after which the public snapshots are written again.
SNAPSHOT_EVENTS = frozenset(
    {"site.created", "site.imported", "notice.issued", "notices.configured"}
)

# The roll call: one event per person per step, so a crowd of phones makes a crowd of them.
ROLL_CALL_EVENTS = frozenset({"alarm.delivered", "alarm.acknowledged", "staff.safe"})

# Who is accounted for and who is on site: they name people, visitors too.
MUSTER_EVENTS = frozenset(
    {
        "person.accounted",
        "person.reported_inside",
        "visitor.signed_in",
        "visitor.left",
        "visitor.texted",
    }
)

# Readable by those who watch the roll call (guards, duty managers, admins) only; the others
# receive the numbers, redacted, so that a gap in seq still always means a lost message.
RESPONDER_ONLY_EVENTS = (
    ROLL_CALL_EVENTS
    | MUSTER_EVENTS
    | frozenset(
        {
            "backup.requested",
            "backup.cancelled",
            "backup.answered",
            "backup.declined",
            "staff.added",
            "staff.changed",
            "staff.language_changed",
            "chain_admin.granted",
            "token.created",
            "enrollment.created",
            "device.enrolled",
            "push.subscribed",
            "push.expired",
            "push.sent",
            "test_alarm.sent",
            "test_alarm.answered",
            "alarm.escalated",
            "sms.sent",
            "webhook.added",
            "webhook.removed",
            "webhook.tested",
            # a mailbox provider's refusals and someone else's reply: the console's, not
            # every phone's (a provider's answer may name its tenant)
            "notice.switch_failed",
            "notice.reply_kept",
            "mailbox.password_set",  # an admin's business, even sealed
            "person.erased",
        }
    )
    | ALARM_PANEL_EVENTS
)

# Payload fields the log needs to rebuild the state but no client is ever sent: digests of
# secrets, the alarm panel's sealed secrets and the push subscription (a capability URL and
# its keys).
PRIVATE_FIELDS = frozenset(
    {
        "token_hash",
        "code_hash",
        "endpoint",
        "p256dh",
        "auth",
        "sealed",
        "url_sealed",
        "secret_sealed",
        "link_nonce",  # with the server's secret, a visitor's personal link
        "password_sealed",
    }
)


# What in an event identifies or describes a person (server/store/personal.py): each such field is
# stored sealed under a key of the person it is about (the event's visitor_id, else its
# staff_id, else its actor), so that deleting the key erases it while the chain still verifies.
# The key is the person's own ("person": names, phone numbers), or theirs for one incident,
# backup request or device, so that retention can end that part first. site.imported's
# "config.staff" is a list whose every item names its own person.
PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    "staff.added": {"name": "person", "phone": "person"},
    "staff.changed": {"phone": "person"},
    "site.imported": {"config.staff[].name": "person", "config.staff[].phone": "person"},
    "push.subscribed": {"endpoint": "device", "p256dh": "device", "auth": "device"},
    "zone.claimed": {"name": "person", "note": "incident"},
    "zone.cleared": {"name": "person", "note": "incident"},
    "zone.blocked": {"name": "person", "note": "incident"},
    "zone.assigned": {"name": "person", "note": "incident"},
    "zone.sweep_requested": {"name": "person", "note": "incident"},
    "zone.sweep_declined": {"name": "person", "note": "incident"},
    "help.requested": {"location": "incident", "note": "incident"},
    "backup.requested": {"name": "person", "location": "backup", "note": "backup"},
    "person.reported_inside": {"location": "incident"},
    "visitor.signed_in": {"person": "person"},
}

# What a sealed field reads once its key is gone. Names and what people wrote say so; what
# is used rather than read (a phone number, a push subscription) is simply absent.
ERASED = "(erased)"
ERASED_VALUES = {
    "phone": None,
    "endpoint": None,
    "p256dh": None,
    "auth": None,
    "person": {"name": ERASED, "company": None, "phone": None},
}
