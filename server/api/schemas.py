"""JSON schemas for the OpenAPI document: a command's input from its `Field` declarations, and
the shape of every answer. Enumerations come from the tuples the code checks against (kinds,
roles, languages, channels, event types, the id and text rules), never copied; the shapes of
the answers are tested against the real answers (tests/test_schemathesis.py)."""

from __future__ import annotations

from dataclasses import fields

from ..basics.names import CONTROL_CHARACTERS, END_REASONS, KINDS, LANGUAGES, LARGEST_INTEGER, SLUG
from ..channels import CHANNELS, EMAIL_PROVIDERS, NoticeSettings
from ..channels.mailboxes.checks import REASONS as MAILBOX_REASONS
from ..commands import socket_actions
from ..commands.devices import BASE64URL
from ..commands.fields import Field
from ..commands.readiness import OUTCOMES as PUSH_OUTCOMES
from ..commands.readiness import PURPOSES as PUSH_PURPOSES
from ..commands.webhooks import FORMATS as WEBHOOK_FORMATS
from ..live.phone_readiness import REASONS as READINESS_REASONS
from ..live.presence import NOTIFICATION_STATES
from ..rules.alarm_panel import ACTIONS as PANEL_ACTIONS
from ..rules.alarm_panel import LONGEST_COUNTDOWN_SECONDS
from ..rules.auth import ACTOR_ROLES, ROLES
from ..rules.escalation import LONGEST_SECONDS as LONGEST_ESCALATION
from ..rules.escalation import PHONE_NUMBER
from ..rules.mustering import CLOCK_TIME, HOW
from ..rules.visitors import VISITOR_ASKS
from ..store.events import EVENT_TYPES
from ..store.projectors.roll_call import ROLL_CALL_COLUMNS
from ..store.projectors.zones import SWEEP_STATUS


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(required: dict, optional: dict | None = None, closed: bool = True) -> dict:
    """An object with these properties (all of `required` present); no others when `closed`."""
    schema = {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


def extended(base: dict, **more: dict) -> dict:
    """`base` (made by obj) with more required properties."""
    return {
        **base,
        "required": base["required"] + list(more),
        "properties": {**base["properties"], **more},
    }


def enum(values) -> dict:
    return {"type": "string", "enum": list(values)}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


# --- the input rules (server/basics/names.py, server/commands/fields.py) -------------------------

TEXT = {"type": "string", "pattern": f"^[^{CONTROL_CHARACTERS}]*$"}
SLUG_ID = {"type": "string", "pattern": f"^{SLUG.pattern}$"}  # sites and zones
ID = {"type": "integer", "minimum": 1, "maximum": LARGEST_INTEGER}

JSON_TYPES = {bool: "boolean", int: "integer", str: "string", dict: "object", list: "array"}
FIELD_TYPES = {
    "text": TEXT,
    "bool": {"type": "boolean"},
    "int": ID,
    "time": {"type": "string", "format": "date-time"},
}

# A site's public-channel settings: the fields of notices.NoticeSettings, each of the type of
# its default (site_config.check_notices); any left out keeps its default.
NOTICE_SETTINGS = obj(
    {},
    {
        f.name: {"type": JSON_TYPES[type(getattr(NoticeSettings(), f.name))]}
        | ({"items": {}} if isinstance(getattr(NoticeSettings(), f.name), list) else {})
        | ({"minimum": 0} if f.name == "restored_minutes" else {})
        for f in fields(NoticeSettings)
    },
)
# PushSubscription.toJSON() as a browser gives it (commands/devices.py).
PUSH_SUBSCRIPTION = obj(
    {
        "endpoint": {"type": "string", "format": "uri", "maxLength": 2000},
        "keys": obj(
            {
                name: {"type": "string", "pattern": BASE64URL.pattern, "maxLength": 200}
                for name in ("p256dh", "auth")
            },
            closed=False,
        ),
    },
    closed=False,
)
# What the fire-alarm panel's signals do on a site (server/rules/alarm_panel.py).
ALARM_PANEL_POLICY = obj(
    {},
    {
        **{signal: enum(actions) for signal, actions in PANEL_ACTIONS.items()},
        "countdown_seconds": {
            "type": "integer",
            "minimum": 1,
            "maximum": LONGEST_COUNTDOWN_SECONDS,
        },
        "kind": enum(KINDS),
    },
)
# A site's whole set-up in the site file's shape (site_config.py; `flask site-import`).
SITE_CONFIG = obj(
    {"site": SLUG_ID, "name": {**TEXT, "minLength": 1}},
    {
        "timezone": {"type": "string", "description": "an IANA time zone, e.g. Europe/Helsinki"},
        "languages": {**array(enum(LANGUAGES)), "minItems": 1},
        "assembly_points": array(obj({"id": SLUG_ID, "name": TEXT}, {"where": TEXT})),
        "zones": array(
            obj(
                # an assembly point's id; a free text (older files) becomes a place of its own
                {"id": SLUG_ID, "name": TEXT, "assembly_point": TEXT},
                {"exits": array({"type": "string", "minLength": 1})},
            )
        ),
        "staff": array(
            obj(
                {"name": TEXT, "role": enum(ROLES)},
                {
                    "home_zone": {"type": ["string", "null"]},
                    "language": enum(LANGUAGES),
                    "phone": {"type": "string", "pattern": f"^{PHONE_NUMBER.pattern}$"},
                    "marshal": {"type": "boolean"},
                },
            )
        ),
        "notices": NOTICE_SETTINGS,
        "scripts": {"type": "object", "description": "language -> kind -> {title, lines}"},
        "alarm_panel": ALARM_PANEL_POLICY,
        "escalation": obj(
            {},
            {
                "seconds": {"type": "integer", "minimum": 1, "maximum": LONGEST_ESCALATION},
                "sms": {"type": "boolean"},
            },
        ),
        "visitors": obj(
            {}, {"closes_at": {"type": "string", "pattern": f"^{CLOCK_TIME.pattern}$"}}
        ),
    },
)
# The commands' object fields, by name.
OBJECTS = {"settings": NOTICE_SETTINGS, "subscription": PUSH_SUBSCRIPTION, "config": SITE_CONFIG}


def field_schema(field: Field, name: str = "") -> dict:
    """A command's input field as JSON schema (text is stripped, and required text must not
    be empty; times in UTC between the years 1970 and 9998)."""
    if field.kind == "choice":
        return enum(field.choices)
    if field.kind == "list":
        return array({**TEXT, "minLength": 1, "maxLength": field.max_length})
    if field.kind == "object":
        return OBJECTS.get(name, {"type": "object"})
    schema = dict(FIELD_TYPES[field.kind])
    if field.kind == "text":
        schema["maxLength"] = field.max_length
        if field.required:
            schema["minLength"] = 1
    return schema


def body_schema(inputs: dict[str, Field]) -> dict:
    """A command's JSON body: exactly these fields; null for one that is not required is the
    same as leaving it out."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name, f in inputs.items() if f.required],
        "properties": {
            name: field_schema(f, name) if f.required else nullable(field_schema(f, name))
            for name, f in inputs.items()
        },
    }


# --- the answers ---------------------------------------------------------------------------

STRING = {"type": "string"}
BOOL = {"type": "boolean"}
COUNT = {"type": "integer", "minimum": 0}
SEQ = COUNT
TIME = {"type": "string", "format": "date-time"}
SOMETIME = nullable(TIME)
MAYBE_TEXT = nullable(STRING)
MAYBE_ID = nullable(ID)
ANY_OBJECT = {"type": "object"}
SWEEPS = ("unchecked", *dict.fromkeys(SWEEP_STATUS.values()))

SCHEMAS = {
    "Problem": obj(
        {
            "type": STRING,
            "title": STRING,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": STRING,
        },
        {"field": STRING},
        closed=False,  # a conflict may name what it is about (zone, incident_id)
    ),
    # The log keeps a person by staff_id and role; the name is added where it is read (a
    # report's entries are as the log has them: the name beside, as actor_name).
    "Actor": obj({"staff_id": MAYBE_ID, "role": enum(ACTOR_ROLES)}, {"name": STRING}),
    "Incident": obj(
        {
            "id": ID,
            "site": STRING,
            "kind": enum(KINDS),
            "drill": BOOL,
            "message": MAYBE_TEXT,
            "eta": SOMETIME,
            "started_at": TIME,
            "started_by": MAYBE_ID,
            "start_seq": SEQ,
            "ended_at": SOMETIME,
            "ended_by": MAYBE_ID,
            "end_reason": nullable(enum(END_REASONS)),
            "end_seq": nullable(SEQ),
        }
    ),
    "Zone": obj(
        {
            "id": STRING,
            "name": STRING,
            "exits": array(STRING),
            "assembly_point": STRING,  # its name, as people read it
            "assembly_point_id": STRING,
            "sweep": enum(SWEEPS),
            "by": MAYBE_ID,
            "by_name": MAYBE_TEXT,
            "note": MAYBE_TEXT,
            "updated_at": SOMETIME,
            "asked": MAYBE_ID,
            "asked_name": MAYBE_TEXT,
            "declined": MAYBE_ID,
            "declined_name": MAYBE_TEXT,
        }
    ),
    "RollCall": obj(
        {
            "enrolled": COUNT,
            "delivered": COUNT,
            "acknowledged": COUNT,
            "safe": COUNT,
            # everyone on site (staff on the roll and visitors), accounted for and not
            "on_site": COUNT,
            "accounted": COUNT,
            "unaccounted": COUNT,
            "staff": array(ref("StaffOnRoll")),
        },
        # Everyone on the site's roll, and those of them with no phone (no alarm reaches
        # them); the visitors on site (responders only).
        {"people": COUNT, "no_phone": COUNT, "visitors": array(ref("VisitorOnRoll"))},
    ),
    "Accounted": obj(
        {
            "how": enum(HOW),
            "by": nullable(obj({"staff_id": ID, "name": STRING})),
            "assembly_point": MAYBE_TEXT,
            "at": TIME,
        }
    ),
    "ReportedInside": obj({"location": STRING, "by": MAYBE_ID, "at": TIME}),
    "StaffOnRoll": obj(
        {
            "person": enum(["staff"]),
            "staff_id": ID,
            "name": STRING,
            "role": enum(ROLES),
            "home_zone": MAYBE_TEXT,
            "expected_assembly_point": MAYBE_TEXT,
            "enrolled": BOOL,
            "delivered_at": SOMETIME,
            "acknowledged_at": SOMETIME,
            "safe_at": SOMETIME,
            "accounted": nullable(ref("Accounted")),
            "reported_inside": nullable(ref("ReportedInside")),
        },
        {"last_known": array(ref("LastKnown"))},
    ),
    "VisitorOnRoll": obj(
        {
            "person": enum(["visitor"]),
            "visitor_id": ID,
            "name": MAYBE_TEXT,  # None once erased
            "company": MAYBE_TEXT,
            "host_staff_id": MAYBE_ID,
            "home_zone": MAYBE_TEXT,  # their host's
            "expected_assembly_point": MAYBE_TEXT,
            "self_signed": BOOL,
            "signed_in_at": TIME,
            "left_at": SOMETIME,
            "accounted": nullable(ref("Accounted")),
            "reported_inside": nullable(ref("ReportedInside")),
        },
        # the log entry that signed them in (in a report, which its bundle carries)
        {"last_known": array(ref("LastKnown")), "signed_in_seq": nullable(SEQ)},
    ),
    # Where an unaccounted person was last known to be, the most telling first.
    "LastKnown": obj(
        {"source": enum(["reported_inside", "help_request", "sweeping", "home_zone"])},
        {"where": STRING, "zone": STRING},
    ),
    "AssemblyPoint": obj({"id": SLUG_ID, "name": STRING, "where": MAYBE_TEXT}),
    "MusterCounts": obj({"on_site": COUNT, "accounted": COUNT, "unaccounted": COUNT}),
    "HelpRequest": obj(
        {
            "id": ID,
            "incident_id": ID,
            "raised_by": ID,
            "location": STRING,
            "note": MAYBE_TEXT,
            "raised_at": TIME,
            "resolved_at": SOMETIME,
            "resolved_by": MAYBE_ID,
        }
    ),
    "BackupRequest": obj(
        {
            "id": ID,
            "raised_by": ID,
            "location": STRING,
            "note": MAYBE_TEXT,
            "raised_at": TIME,
            "ended_at": SOMETIME,
            "outcome": nullable(enum(("cancelled", "answered"))),
        },
        {
            "ended_by": MAYBE_ID,  # who answered or cancelled it
            "ended_by_name": MAYBE_TEXT,
            # to the one who asked: whose phones it reaches
            "reaches": obj({"guards": COUNT, "managers": COUNT}),
            "declined": array(STRING),  # to the one who asked: who cannot come
        },
    ),
    "State": obj(
        {
            "site": obj(
                {
                    "id": SLUG_ID,
                    "name": STRING,
                    "timezone": STRING,
                    "languages": array(enum(LANGUAGES)),
                }
            ),
            "seq": SEQ,
            "incident": nullable(ref("Incident")),
            "zones": array(ref("Zone")),
            "assembly_points": array(ref("AssemblyPoint")),
            "roll_call": ref("RollCall"),
            "help_requests": array(ref("HelpRequest")),
        },
        {
            # a staff member's own latest backup request (responders read them all instead)
            "my_backup_request": nullable(ref("BackupRequest")),
            # responders only
            "backup_requests": array(ref("BackupRequest")),
            "alarm_panel": ref("AlarmPanel"),
            "escalations": array(
                obj(
                    {
                        "staff_id": ID,
                        "step": ID,
                        "channel": enum(("push", "sms")),
                        "at": TIME,
                        "outcome": nullable(enum(("accepted", "failed", "expired"))),
                    }
                )
            ),
            "mailbox_states": array(ref("MailboxState")),
        },
    ),
    # A customer-service mailbox's automatic reply as the console shows it (state.mailbox_views).
    "MailboxState": obj(
        {
            "mailbox": STRING,
            "provider": enum(EMAIL_PROVIDERS),
            "reply": nullable(enum(("ours", "earlier", "off", "theirs"))),
            "since": SOMETIME,
            "failing": nullable(obj({"since": TIME, "status": nullable(ID), "retry_at": SOMETIME})),
        }
    ),
    # The fire-alarm panel as the console shows it (server/rules/alarm_panel.py panel_view).
    "AlarmPanel": obj(
        {
            "link": nullable(obj({"state": enum(["up", "down"]), "since": TIME})),
            "pre_alarm": nullable(
                obj({"id": ID, "detail": MAYBE_TEXT, "started_at": TIME, "deadline": TIME})
            ),
            "notes": array(
                obj({"event": enum(list(PANEL_ACTIONS)), "detail": MAYBE_TEXT, "at": TIME})
            ),
        }
    ),
    "Event": obj(
        {
            "seq": SEQ,
            "type": enum(sorted(EVENT_TYPES)),
            "ts": TIME,
            "actor": ref("Actor"),
            "payload": ANY_OBJECT,
        }
    ),
    # An event this reader may not read, or a run of them (to last_seq): only the numbers.
    "Redacted": obj({"type": enum(["redacted"]), "seq": SEQ}, {"last_seq": SEQ}),
    "Me": obj(
        {
            "site": SLUG_ID,
            "role": enum(ROLES),
            "name": STRING,
            "staff_id": MAYBE_ID,
            "chain_admin": BOOL,
            "home_zone": MAYBE_TEXT,
            "language": enum(LANGUAGES),
            "marshal": BOOL,
        },
        {"csrf_token": STRING},  # signed in by cookie
    ),
}

CHANGED = obj({"changed": BOOL, "seq": SEQ})
INCIDENT_RESULT = extended(SCHEMAS["Incident"], seq=SEQ)
SWEEP_RESULT = obj({"changed": BOOL, "seq": SEQ}, {"zone": STRING, "sweep": enum(SWEEPS)})
HELP_RESULT = obj({"changed": BOOL, "seq": SEQ}, {"help_request": ref("HelpRequest")})
BACKUP_RESULT = extended(CHANGED, backup_request=ref("BackupRequest"))
ENROLLMENT_LINK = obj({"code": STRING, "path": STRING, "expires_at": TIME, "seq": SEQ})

# What each command answers, by name; docs.py fails to build for a command routed without one.
RESULTS = {
    "start_incident": INCIDENT_RESULT,
    "update_incident": INCIDENT_RESULT,
    # What the console warned about: the zones not swept clear, the help requests still open.
    "end_incident": extended(
        INCIDENT_RESULT,
        unchecked_zones=array(obj({"zone": STRING, "name": STRING, "sweep": enum(SWEEPS)})),
        open_help_requests=array(obj({"help_id": ID, "location": STRING, "staff_id": ID})),
    ),
    "record_delivery": CHANGED,
    "acknowledge": CHANGED,
    "report_safe": obj({"changed": BOOL, "seq": SEQ}, {"accounted": nullable(ref("Accounted"))}),
    "claim_zone": SWEEP_RESULT,
    "clear_zone": SWEEP_RESULT,
    "block_zone": SWEEP_RESULT,
    "assign_zone": SWEEP_RESULT,
    "decline_zone": SWEEP_RESULT,
    "decline_backup": BACKUP_RESULT,
    "request_help": HELP_RESULT,
    "resolve_help": HELP_RESULT,
    "request_backup": BACKUP_RESULT,
    "cancel_backup": BACKUP_RESULT,
    "answer_backup": BACKUP_RESULT,
    "configure_notices": obj({"settings": NOTICE_SETTINGS, "seq": SEQ}),
    "set_mailbox_password": extended(CHANGED, mailbox=STRING, password_set=BOOL),
    "import_site": obj({"site": SLUG_ID, "zones": COUNT, "staff": COUNT, "seq": SEQ}),
    "set_language": CHANGED,
    "subscribe_push": obj({"subscription_id": ID, "seq": SEQ}),
    "send_test_alarm": extended(CHANGED, test_id=ID, people=COUNT),
    "answer_test_alarm": CHANGED,
    "add_webhook": extended(
        CHANGED,
        webhook_id=ID,
        origin=STRING,
        events=array(enum(EVENT_TYPES)),
        format=enum(WEBHOOK_FORMATS),
        secret=STRING,
    ),
    "remove_webhook": CHANGED,
    "send_test_webhook": CHANGED,
    "confirm_pre_alarm": extended(CHANGED, pre_alarm_id=ID, incident_id=ID),
    "dismiss_pre_alarm": extended(CHANGED, pre_alarm_id=ID),
    "account_person": extended(CHANGED, accounted=ref("Accounted")),
    "report_inside": CHANGED,
    "sign_in_visitor": extended(CHANGED, visitor_id=ID, token=STRING, link=STRING),
    "sign_in_visitor_self": extended(CHANGED, visitor_id=ID, token=STRING, link=STRING),
    "sign_out_visitor": extended(CHANGED, visitor_id=ID),
    "sign_out_visitor_self": extended(CHANGED, visitor_id=ID),
    "report_visitor_safe": obj(
        {"changed": BOOL, "seq": SEQ, "accounted": nullable(ref("Accounted"))}
    ),
    # The route adds the link as a URL and as a QR code (SVG) to the command's answer.
    "create_enrollment_link": extended(ENROLLMENT_LINK, url=STRING, qr_svg=STRING),
}

# The answers of the routes that read.
SITES = obj(
    {
        "sites": array(
            obj(
                {
                    "id": SLUG_ID,
                    "name": STRING,
                    "incident": nullable(
                        obj({"id": ID, "kind": enum(KINDS), "drill": BOOL, "started_at": TIME})
                    ),
                }
            )
        )
    }
)
INCIDENTS = obj({"incidents": array(ref("Incident"))})
WEBHOOKS = obj(
    {
        "webhooks": array(
            obj(
                {
                    "id": ID,
                    "origin": STRING,
                    "events": array(enum(EVENT_TYPES)),
                    "format": enum(WEBHOOK_FORMATS),
                    "include_names": BOOL,
                    "created_at": TIME,
                    "removed_at": nullable(TIME),
                    "pending": COUNT,
                }
            )
        )
    }
)
WEBHOOK_DELIVERIES = obj(
    {
        "deliveries": array(
            obj(
                {
                    "id": ID,
                    "webhook_id": ID,
                    "event_id": STRING,
                    "seq": SEQ,
                    "type": enum(EVENT_TYPES),
                    "state": enum(("pending", "delivered", "gave_up")),
                    "attempts": array(
                        obj(
                            {
                                "at": TIME,
                                "status": nullable({"type": "integer"}),
                                "error": nullable(STRING),
                                "milliseconds": COUNT,
                            }
                        )
                    ),
                    "next_at": nullable(TIME),
                    "created_at": TIME,
                    "delivered_at": nullable(TIME),
                }
            )
        )
    }
)
PUSH_OUTCOME = enum(PUSH_OUTCOMES)
READINESS = obj(
    {
        "site": SLUG_ID,
        "ready": COUNT,
        "total": COUNT,
        "people": array(
            obj(
                {
                    "staff_id": ID,
                    "name": STRING,
                    "role": enum(ROLES),
                    "ready": BOOL,
                    "reasons": array(enum(READINESS_REASONS)),
                    "enrolled": BOOL,
                    "notifications": nullable(enum(NOTIFICATION_STATES)),
                    "subscriptions": COUNT,
                    "push": nullable(
                        obj(
                            {
                                "outcome": PUSH_OUTCOME,
                                "status": nullable({"type": "integer"}),
                                "at": TIME,
                                "purpose": enum(PUSH_PURPOSES),
                            }
                        )
                    ),
                    "connected": BOOL,
                    "last_connected": nullable(TIME),
                    "app_version": nullable(STRING),
                    "test": nullable(
                        obj(
                            {
                                "test_id": ID,
                                "sent_at": TIME,
                                "push": nullable(PUSH_OUTCOME),
                                "answered_at": nullable(TIME),
                            }
                        )
                    ),
                }
            )
        ),
        # Each customer-service mailbox, as last tried in the background (mailboxes/checks.py).
        "mailboxes": array(
            obj(
                {
                    "mailbox": STRING,
                    "provider": enum(EMAIL_PROVIDERS),
                    "ready": nullable(BOOL),
                    "reason": nullable(enum(MAILBOX_REASONS)),
                    "status": nullable({"type": "integer"}),
                    "checked_at": SOMETIME,
                    "warning": nullable(
                        obj({"reason": enum(["reaches_unlisted"]), "mailbox": STRING})
                    ),
                }
            )
        ),
    }
)
EVENTS = obj({"events": array({"oneOf": [ref("Event"), ref("Redacted")]}), "seq": SEQ})


def per(keys, value: dict) -> dict:
    """An object from each of `keys` (or some of them) to `value`."""
    return {"type": "object", "propertyNames": enum(keys), "additionalProperties": value}


# The wording per language and incident kind (server/texts/<lang>.json).
SCRIPT = per(KINDS, obj({"title": STRING, "lines": array(STRING)}))
CLOSED = per(KINDS, obj({"headline": STRING, "body": STRING}))
SCRIPTS = obj(
    {
        "languages": array(enum(LANGUAGES)),
        "language_names": per(LANGUAGES, STRING),
        "scripts": per(LANGUAGES, SCRIPT),
    }
)
# The words the app reads instead of keeping copies (api/sites.py `vocabulary`).
ROLL_CALL_COLUMN = enum(sorted({column for c in ROLL_CALL_COLUMNS.values() for column in c}))
VOCABULARY = obj(
    {
        "languages": array(enum(LANGUAGES)),
        "default_language": enum(LANGUAGES),
        "language_names": per(LANGUAGES, STRING),
        "roles": array(enum(ROLES)),
        "managers": array(enum(ROLES)),
        "responders": array(enum(ROLES)),
        "kinds": array(enum(KINDS)),
        "end_reasons": array(enum(END_REASONS)),
        "sweeps": per(SWEEP_STATUS, enum(SWEEPS)),
        "roll_call": per(ROLL_CALL_COLUMNS, array(ROLL_CALL_COLUMN)),
        "email_providers": array(enum(EMAIL_PROVIDERS)),
        "socket_actions": per(sorted(socket_actions()), STRING),
    }
)
SETUP = obj(
    {
        "config": SITE_CONFIG,
        "kinds": array(enum(KINDS)),
        "defaults": obj(
            {
                "notices": NOTICE_SETTINGS,
                "closed": per(LANGUAGES, CLOSED),
                "scripts": per(LANGUAGES, SCRIPT),
            }
        ),
    }
)
REPORT = obj(
    {
        "site": obj(
            {"id": SLUG_ID, "name": STRING, "timezone": STRING, "languages": array(STRING)}
        ),
        "incident": ref("Incident"),
        "generated_at": TIME,
        "events": array(
            obj(
                {
                    "seq": SEQ,
                    "ts": TIME,
                    "local_time": TIME,
                    "type": enum(sorted(EVENT_TYPES)),
                    "actor": ref("Actor"),
                    # the actor's name and the entry's personal fields as read now (sealed
                    # in the log, "(erased)" once erased: server/store/personal.py)
                    "actor_name": nullable(STRING),
                    "payload": ANY_OBJECT,
                    "personal": ANY_OBJECT,
                    "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                }
            )
        ),
        "channels": array(
            obj(
                {
                    "channel": enum(CHANNELS),
                    "language": enum(LANGUAGES),
                    "text": STRING,
                    "from": TIME,
                    "until": SOMETIME,
                    "from_seq": SEQ,
                    "until_seq": nullable(SEQ),
                }
            )
        ),
        "closures": obj(
            {
                "per_channel": obj(
                    {
                        channel: obj(
                            {
                                "closed_at": SOMETIME,
                                "reopened_at": SOMETIME,
                                "closed_seconds": nullable({"type": "number"}),
                            }
                        )
                        for channel in CHANNELS
                    }
                ),
                "total_closed_seconds": nullable({"type": "number"}),
            }
        ),
        "roll_call": ref("RollCall"),
        # When the last person was accounted for; from the alarm, when that was everyone.
        "accounting": obj(
            {
                "last_accounted_at": SOMETIME,
                "everyone_accounted": BOOL,
                "seconds_to_everyone": nullable({"type": "number"}),
            }
        ),
        "assembly_points": array(ref("AssemblyPoint")),
        "zones": array(ref("Zone")),
        "help_requests": array(ref("HelpRequest")),
        "backup_requests": array(ref("BackupRequest")),
        "verification": obj(
            {"ok": BOOL, "count": COUNT, "last_hash": MAYBE_TEXT, "problem": MAYBE_TEXT}
        ),
        "proof": obj({"fingerprint": MAYBE_TEXT, "bundle_sha256": MAYBE_TEXT}),
    }
)

# Mustering (api/mustering.py).
VISITORS_NOW = obj({"visitors": array(ref("VisitorOnRoll"))})
PEOPLE_TO_ACCOUNT_FOR = obj(
    {
        "incident_id": ID,
        "assembly_points": array(ref("AssemblyPoint")),
        "counts": ref("MusterCounts"),
        "people": array({"oneOf": [ref("StaffOnRoll"), ref("VisitorOnRoll")]}),
    }
)
UNACCOUNTED = obj(
    {
        "incident_id": ID,
        "counts": ref("MusterCounts"),
        "people": array({"oneOf": [ref("StaffOnRoll"), ref("VisitorOnRoll")]}),
        "zones": array(
            obj({"id": STRING, "name": STRING, "sweep": enum(SWEEPS), "note": MAYBE_TEXT})
        ),
    }
)
MY_VISIT = obj(
    {
        "visitor_id": ID,
        "name": MAYBE_TEXT,
        "language": enum(LANGUAGES),
        "signed_in": BOOL,
        "incident": nullable(
            obj(
                {
                    "kind": enum(KINDS),
                    "drill": BOOL,
                    "asks": enum(VISITOR_ASKS),
                    "accounted": BOOL,
                }
            )
        ),
    }
)

# GET /api/me/data: everything held about a person (server/rules/privacy.py, api/people.py).
HELD_ABOUT_ME = obj(
    {
        "person": {"type": "object"},
        "devices": array(ANY_OBJECT),
        "push_subscriptions": array(ANY_OBJECT),
        "presence": array(ANY_OBJECT),
        "roll_calls": array(ANY_OBJECT),
        "help_requests": array(ANY_OBJECT),
        "backup_requests": array(ANY_OBJECT),
        "sweeps": array(ANY_OBJECT),
        "accounted": array(ANY_OBJECT),
        "reported_inside": array(ANY_OBJECT),
        "log": array(ANY_OBJECT),
    }
)

# GET /status/<site>.json: the public notice as data (server/channels/status.py).
PUBLIC_STATUS = obj(
    {
        "site": STRING,
        "name": STRING,
        "state": STRING,
        "since": MAYBE_TEXT,
        "eta": MAYBE_TEXT,
        "updated": MAYBE_TEXT,
        "version": COUNT,
        "languages": array(STRING),
        "notice": {"type": "object"},
        "screen": {"type": "object"},
    },
    closed=False,
)
