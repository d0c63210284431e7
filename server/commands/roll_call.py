"""The roll call during an incident: the alarm reached my phone, got it, I am safe. Each step
is once per person; a repeat is answered but not logged again."""

from __future__ import annotations

from ..rules.auth import EVERYONE
from . import Route, command
from .fields import Field
from .incidents import require_active_incident
from .mustering import accounted_for, require_assembly_point


def _mark_roll_call(tx, columns: tuple[str, ...], event_type: str) -> dict:
    """Record my roll-call step, unless its column (the first of `columns`) is already set;
    the projector also fills the steps before it (projectors.ROLL_CALL_COLUMNS)."""
    staff_id = tx.person("answer the roll call")
    incident = require_active_incident(tx.db, tx.site)
    row = tx.db.execute(
        f"SELECT {columns[0]} FROM roll_call WHERE incident_id = ? AND staff_id = ?",
        [incident["id"], staff_id],
    ).fetchone()
    if row is not None and row[0] is not None:
        return tx.unchanged()
    event = tx.record(event_type, {"incident_id": incident["id"], "staff_id": staff_id})
    return tx.changed(event)


@command(
    "record_delivery",
    EVERYONE,
    route=Route("/sites/<site>/incidents/current/delivered", "The alarm reached my phone"),
    socket=True,
    reserve=True,
)
def record_delivery(tx, params: dict) -> dict:
    """The app's automatic receipt: the alarm reached this phone."""
    return _mark_roll_call(tx, ("delivered_at",), "alarm.delivered")


@command(
    "acknowledge",
    EVERYONE,
    route=Route("/sites/<site>/incidents/current/acknowledge", "I have the alarm (got it)"),
    socket=True,
    reserve=True,
)
def acknowledge(tx, params: dict) -> dict:
    """The person tapped "got it" (which also proves delivery)."""
    return _mark_roll_call(tx, ("acknowledged_at", "delivered_at"), "alarm.acknowledged")


@command(
    "report_safe",
    EVERYONE,
    route=Route("/sites/<site>/incidents/current/safe", "I am safe at the assembly point"),
    socket=True,
    reserve=True,
    assembly_point=Field(max_length=40),
    how=Field("choice", choices=("phone", "qr"), default="phone"),
)
def report_safe(tx, params: dict) -> dict:
    """The person is at the assembly point (`how`: qr when the phone scanned its sign). It
    accounts for them, unless a marshal was first: then it is answered and not logged."""
    staff_id = tx.person("answer the roll call")
    incident = require_active_incident(tx.db, tx.site)
    require_assembly_point(tx, params["assembly_point"])
    earlier = accounted_for(tx, incident["id"], "staff", staff_id)
    if earlier is not None:
        return tx.unchanged(accounted=earlier)
    event = tx.record(
        "staff.safe",
        {
            "incident_id": incident["id"],
            "staff_id": staff_id,
            "assembly_point": params["assembly_point"],
            "how": params["how"],
        },
    )
    return tx.changed(event, accounted=accounted_for(tx, incident["id"], "staff", staff_id))
