"""The state tables as projections of the log: one projector per event type,
in one module per domain word, as the commands are (server/commands/).

Recording an event runs its projector in the same transaction (`commands.Tx.record`), and
`rebuild` runs them all again over a copy of the log, so the state can always be rebuilt and
compared with the live one. A projector reads only its event (site, seq, ts, actor, payload)
and the state the earlier events left: never the clock, never the request.
"""

from __future__ import annotations

from collections.abc import Callable

from ...basics.clock import parse_iso
from ..events import EVENT_TYPES

PROJECTORS: dict[str, Callable] = {}


def projects(*types: str):
    def register(projector: Callable) -> Callable:
        for type_ in types:
            assert type_ in EVENT_TYPES and type_ not in PROJECTORS, type_
            PROJECTORS[type_] = projector
        return projector

    return register


def apply(db, event: dict) -> None:
    """Apply one event to the state tables (inside the transaction that appends it)."""
    PROJECTORS[event["type"]](db, event, event["payload"])


def ms_or_none(text: str | None) -> int | None:
    return parse_iso(text) if text else None


def staff_id_of(event: dict) -> int | None:
    return event["actor"].get("staff_id")


STATE_TABLES = {
    "sites": "id",
    "zones": "site, id",
    "staff": "id",
    "chain_admins": "staff_id",
    "credentials": "id",
    "enrollment_links": "code_hash",
    "incidents": "id",
    "roll_call": "incident_id, staff_id",
    "sweeps": "incident_id, zone",
    "help_requests": "id",
    "backup_requests": "id",
    "backup_declines": "backup_id, staff_id",
    "public_notices": "site",
    "push_subscriptions": "id",
    "alarm_panel_secrets": "id",
    "alarm_panel_signals": "site, event_id",
    "alarm_panel_links": "site",
    "pre_alarms": "id",
    "push_outcomes": "subscription_id",
    "test_alarms": "id",
    "test_alarm_phones": "test_id, staff_id",
    "escalations": "incident_id, staff_id, step",
    "webhooks": "id",
    "mailbox_states": "site, mailbox",
    "assembly_points": "site, id",
    "visitors": "id",
    "accounted": "incident_id, person, person_id",
    "reported_inside": "incident_id, person, person_id",
    "mailbox_passwords": "site, mailbox",
}


# Each module registers its projectors with `projects` when imported.
from . import (  # noqa: E402,F401
    alarm_panel,
    backup_requests,
    clock,
    devices,
    escalation,
    help_requests,
    incidents,
    mustering,
    notices,
    privacy,
    readiness,
    roll_call,
    sites,
    staff,
    webhooks,
    zones,
)

assert set(PROJECTORS) == set(EVENT_TYPES), set(EVENT_TYPES) - set(PROJECTORS)
