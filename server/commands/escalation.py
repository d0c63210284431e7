"""Escalation during an incident (server/rules/escalation.py): the server's own commands, run by its
timer and by the SMS sender."""

from __future__ import annotations

from ..basics.errors import Invalid
from ..basics.settings import sms_configured
from ..rules.auth import ADMINS
from ..rules.escalation import STEPS, due_attempts
from ..store.state import active_incident
from . import Tx, command
from .fields import Field


@command("escalate_alarm", ADMINS)
def escalate_alarm(tx: Tx, params: dict) -> dict:
    """Record an `alarm.escalated` for every attempt due now; nothing when none is (another
    worker was first, or the phone answered meanwhile)."""
    incident = active_incident(tx.db, tx.site)
    if incident is None:
        return tx.unchanged()
    due = due_attempts(tx.db, incident, tx.ts, sms_configured(tx.settings))
    if not due:
        return tx.unchanged()
    for staff_id, step in due:
        event = tx.record(
            "alarm.escalated",
            {
                "incident_id": incident["id"],
                "staff_id": staff_id,
                "step": step,
                "channel": STEPS[step],
                "kind": incident["kind"],
                "drill": bool(incident["drill"]),
            },
        )
    return tx.changed(event, attempts=len(due))


@command("record_sms_outcome", ADMINS, outcome=Field("object", required=True))
def record_sms_outcome(tx: Tx, params: dict) -> dict:
    """The SMS service's answer to an escalation's text message."""
    outcome = params["outcome"]
    if outcome.get("outcome") not in ("accepted", "failed"):
        raise Invalid("An SMS is accepted or failed.")
    names = ("incident_id", "staff_id", "step", "outcome", "status", "sid")
    event = tx.record("sms.sent", {name: outcome.get(name) for name in names})
    return tx.changed(event)
