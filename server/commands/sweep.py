"""What staff do during an incident: the alarm reached me, got it, sweep my zone, a person
needs help, I am safe. A repeat that changes nothing is answered but not logged again."""

from __future__ import annotations

from ..auth import EVERYONE, MANAGERS
from ..errors import Conflict, Forbidden, NotFound
from ..state import help_request_view
from . import command
from .fields import Field
from .incidents import require_active_incident

SWEEP_EVENTS = {"claimed": "zone.claimed", "clear": "zone.cleared", "blocked": "zone.blocked"}


def _person(tx) -> int:
    # A chain admin may run another site's incident, but is not in that site's roll call.
    if tx.identity.staff_id is None or tx.identity.site != tx.site:
        raise Forbidden("Only a staff member of this site can report this.")
    return tx.identity.staff_id


def _unchanged(tx) -> dict:
    return {"changed": False, "seq": tx.current_seq()}


def _mark_roll_call(tx, columns: tuple[str, ...], event_type: str) -> dict:
    """Record my roll-call step, unless its column (the first of `columns`) is already set;
    the projector also fills the steps before it (projectors.ROLL_CALL_COLUMNS)."""
    staff_id = _person(tx)
    incident = require_active_incident(tx.db, tx.site)
    row = tx.db.execute(
        f"SELECT {columns[0]} FROM roll_call WHERE incident_id = ? AND staff_id = ?",
        [incident["id"], staff_id],
    ).fetchone()
    if row is not None and row[0] is not None:
        return _unchanged(tx)
    event = tx.record(event_type, {"incident_id": incident["id"], "staff_id": staff_id})
    return {"changed": True, "seq": event["seq"]}


@command("record_delivery", EVERYONE)
def record_delivery(tx, params: dict) -> dict:
    """The app's automatic receipt: the alarm reached this phone."""
    return _mark_roll_call(tx, ("delivered_at",), "alarm.delivered")


@command("acknowledge", EVERYONE)
def acknowledge(tx, params: dict) -> dict:
    """The person tapped "got it" (which also proves delivery)."""
    return _mark_roll_call(tx, ("acknowledged_at", "delivered_at"), "alarm.acknowledged")


@command("report_safe", EVERYONE)
def report_safe(tx, params: dict) -> dict:
    """The person is at the assembly point."""
    return _mark_roll_call(tx, ("safe_at", "acknowledged_at", "delivered_at"), "staff.safe")


def _sweep(tx, zone: str) -> tuple[dict, dict]:
    """The zone (404 if unknown) and its sweep row in the active incident (409 if none)."""
    rows = list(tx.db.query("SELECT * FROM zones WHERE site = ? AND id = ?", [tx.site, zone]))
    if not rows:
        raise NotFound(f"There is no zone '{zone}' on this site.")
    incident = require_active_incident(tx.db, tx.site)
    sweep = next(
        tx.db.query(
            """SELECT w.*, s.name AS staff_name FROM sweeps w LEFT JOIN staff s ON s.id = w.staff_id
               WHERE w.incident_id = ? AND w.zone = ?""",
            [incident["id"], zone],
        ),
        None,
    )
    if sweep is None:  # a zone added while the incident runs: its first sweep event adds it
        sweep = {
            "incident_id": incident["id"],
            "zone": zone,
            "status": "unchecked",
            "staff_id": None,
            "staff_name": None,
            "note": None,
        }
    return incident, sweep


def _set_sweep(
    tx, incident: dict, zone: str, status: str, note: str | None, assigned_to: int | None = None
) -> dict:
    """Record the zone's new sweep status: by me, or by the person a manager assigned to it."""
    staff_id = assigned_to or _person(tx)
    name = tx.db.execute("SELECT name FROM staff WHERE id = ?", [staff_id]).fetchone()[0]
    event = tx.record(
        "zone.assigned" if assigned_to else SWEEP_EVENTS[status],
        {
            "incident_id": incident["id"],
            "zone": zone,
            "staff_id": staff_id,
            "name": name,
            "note": note,
        },
    )
    return {"changed": True, "seq": event["seq"], "zone": zone, "sweep": status}


@command("claim_zone", EVERYONE, zone=Field(required=True, max_length=100))
def claim_zone(tx, params: dict) -> dict:
    incident, sweep = _sweep(tx, params["zone"])
    if sweep["status"] == "claimed":
        if sweep["staff_id"] == tx.identity.staff_id:
            return _unchanged(tx)
        raise Conflict(f"{sweep['staff_name']} is already sweeping this zone.", zone=params["zone"])
    if sweep["status"] == "clear":
        raise Conflict("This zone is already reported clear.", zone=params["zone"])
    return _set_sweep(tx, incident, params["zone"], "claimed", None)


@command("clear_zone", EVERYONE, zone=Field(required=True, max_length=100))
def clear_zone(tx, params: dict) -> dict:
    incident, sweep = _sweep(tx, params["zone"])
    if sweep["status"] == "clear":
        return _unchanged(tx)
    return _set_sweep(tx, incident, params["zone"], "clear", None)


@command(
    "block_zone",
    EVERYONE,
    zone=Field(required=True, max_length=100),
    note=Field(max_length=500),
)
def block_zone(tx, params: dict) -> dict:
    incident, sweep = _sweep(tx, params["zone"])
    if sweep["status"] == "blocked" and sweep["note"] == params["note"]:
        return _unchanged(tx)
    return _set_sweep(tx, incident, params["zone"], "blocked", params["note"])


@command(
    "assign_zone",
    MANAGERS,
    zone=Field(required=True, max_length=100),
    staff_id=Field("int", required=True),
)
def assign_zone(tx, params: dict) -> dict:
    """The duty manager sends someone to sweep a zone nobody has swept yet, or a blocked one."""
    incident, sweep = _sweep(tx, params["zone"])
    person = tx.db.execute(
        "SELECT id FROM staff WHERE id = ? AND site = ?", [params["staff_id"], tx.site]
    ).fetchone()
    if person is None:
        raise NotFound(f"There is no staff member {params['staff_id']} on this site.")
    if sweep["status"] == "clear":
        raise Conflict("This zone is already reported clear.", zone=params["zone"])
    if sweep["status"] == "claimed" and sweep["staff_id"] == params["staff_id"]:
        return _unchanged(tx)
    return _set_sweep(tx, incident, params["zone"], "claimed", None, assigned_to=params["staff_id"])


@command(
    "request_help",
    EVERYONE,
    location=Field(required=True, max_length=200),
    note=Field(max_length=500),
)
def request_help(tx, params: dict) -> dict:
    """A person needs help getting out, at this location."""
    staff_id = _person(tx)
    incident = require_active_incident(tx.db, tx.site)
    help_id = tx.new_id("help_requests")
    event = tx.record(
        "help.requested",
        {
            "incident_id": incident["id"],
            "help_id": help_id,
            "staff_id": staff_id,
            "location": params["location"],
            "note": params["note"],
        },
    )
    return {"changed": True, "seq": event["seq"], "help_request": _help_request(tx, help_id)}


@command("resolve_help", EVERYONE, help_id=Field("int", required=True))
def resolve_help(tx, params: dict) -> dict:
    row = next(
        tx.db.query(
            """SELECT h.* FROM help_requests h JOIN incidents i ON i.id = h.incident_id
               WHERE h.id = ? AND i.site = ?""",
            [params["help_id"], tx.site],
        ),
        None,
    )
    if row is None:
        raise NotFound(f"There is no help request {params['help_id']} on this site.")
    if row["resolved_at"] is not None:
        return _unchanged(tx)
    staff_id = _person(tx)
    event = tx.record(
        "help.resolved",
        {"incident_id": row["incident_id"], "help_id": row["id"], "staff_id": staff_id},
    )
    return {"changed": True, "seq": event["seq"], "help_request": _help_request(tx, row["id"])}


def _help_request(tx, help_id: int) -> dict:
    return help_request_view(
        next(tx.db.query("SELECT * FROM help_requests WHERE id = ?", [help_id]))
    )
