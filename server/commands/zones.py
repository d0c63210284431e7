"""Zones: adding one to a site, and its sweep during an incident (unchecked, claimed, clear,
blocked). A repeat that changes nothing is answered but not logged again."""

from __future__ import annotations

from ..basics.errors import Conflict, NotFound
from ..rules.auth import ADMINS, EVERYONE, MANAGERS
from ..store.projectors.zones import SWEEP_STATUS
from . import Route, Tx, command
from .fields import PLACE_NAME, Field
from .incidents import require_active_incident
from .sites import checked_id, point_for

# The zone a sweep command is about: a field of its URL.
ZONE = Field(required=True, max_length=100)

# The event a person's own sweep records for each status: projectors.SWEEP_STATUS turned round
# (zone.assigned is in logs from before a sweep was asked, not recorded any more).
SWEEP_EVENTS = {status: type_ for type_, status in SWEEP_STATUS.items() if type_ != "zone.assigned"}


@command(
    "add_zone",
    ADMINS,
    id=Field(required=True, max_length=40),
    name=Field(required=True, max_length=PLACE_NAME),
    exits=Field("list", max_length=PLACE_NAME, default=[]),
    assembly_point=Field(required=True, max_length=PLACE_NAME),
)
def add_zone(tx: Tx, params: dict) -> dict:
    zone = checked_id(params["id"], "zone")
    if tx.db.execute("SELECT 1 FROM zones WHERE site = ? AND id = ?", [tx.site, zone]).fetchone():
        raise Conflict(f"The zone '{zone}' already exists.")
    position = tx.db.execute("SELECT COUNT(*) FROM zones WHERE site = ?", [tx.site]).fetchone()[0]
    point = point_for(tx, params["assembly_point"])  # an id, a name, or a new place
    event = tx.record(
        "zone.added",
        {
            **{k: params[k] for k in ("id", "name", "exits")},
            "assembly_point": point,
            "position": position,
        },
    )
    return {"zone": zone, "seq": event["seq"]}


@command(
    "add_assembly_point",
    ADMINS,
    id=Field(required=True, max_length=40),
    name=Field(required=True, max_length=PLACE_NAME),
    where=Field(max_length=PLACE_NAME),
)
def add_assembly_point(tx: Tx, params: dict) -> dict:
    point = checked_id(params["id"], "assembly point")
    taken = tx.db.execute("SELECT COUNT(*) FROM assembly_points WHERE site = ?", [tx.site])
    if tx.db.execute(
        "SELECT 1 FROM assembly_points WHERE site = ? AND id = ?", [tx.site, point]
    ).fetchone():
        raise Conflict(f"The assembly point '{point}' already exists.")
    event = tx.record(
        "assembly_point.added",
        {**{k: params[k] for k in ("id", "name", "where")}, "position": taken.fetchone()[0]},
    )
    return {"assembly_point": point, "seq": event["seq"]}


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
            "asked": None,
        }
    return incident, sweep


def _set_sweep(tx, incident: dict, zone: str, status: str, note: str | None) -> dict:
    """Record the zone's new sweep status, by me."""
    return _record(tx, SWEEP_EVENTS[status], incident, zone, tx.person("sweep a zone"), note)


def _record(tx, type_: str, incident: dict, zone: str, staff_id: int, note=None) -> dict:
    name = tx.db.execute("SELECT name FROM staff WHERE id = ?", [staff_id]).fetchone()[0]
    event = tx.record(
        type_,
        {
            "incident_id": incident["id"],
            "zone": zone,
            "staff_id": staff_id,
            "name": name,
            "note": note,
        },
    )
    sweep = "unchecked" if type_.startswith("zone.sweep_") else SWEEP_STATUS[type_]
    return tx.changed(event, zone=zone, sweep=sweep)


@command(
    "claim_zone",
    EVERYONE,
    route=Route("/sites/<site>/zones/<zone>/claim", "I am sweeping this zone"),
    socket=True,
    zone=ZONE,
)
def claim_zone(tx, params: dict) -> dict:
    incident, sweep = _sweep(tx, params["zone"])
    if sweep["status"] == "claimed":
        if sweep["staff_id"] == tx.identity.staff_id:
            return tx.unchanged()
        raise Conflict(f"{sweep['staff_name']} is already sweeping this zone.", zone=params["zone"])
    if sweep["status"] == "clear":
        raise Conflict("This zone is already reported clear.", zone=params["zone"])
    return _set_sweep(tx, incident, params["zone"], "claimed", None)


@command(
    "clear_zone",
    EVERYONE,
    route=Route("/sites/<site>/zones/<zone>/clear", "This zone is swept clear"),
    socket=True,
    zone=ZONE,
)
def clear_zone(tx, params: dict) -> dict:
    incident, sweep = _sweep(tx, params["zone"])
    if sweep["status"] == "clear":
        return tx.unchanged()
    return _set_sweep(tx, incident, params["zone"], "clear", None)


@command(
    "block_zone",
    EVERYONE,
    route=Route("/sites/<site>/zones/<zone>/block", "This zone cannot be swept"),
    socket=True,
    zone=ZONE,
    note=Field(max_length=500),
)
def block_zone(tx, params: dict) -> dict:
    incident, sweep = _sweep(tx, params["zone"])
    if sweep["status"] == "blocked" and sweep["note"] == params["note"]:
        return tx.unchanged()
    return _set_sweep(tx, incident, params["zone"], "blocked", params["note"])


@command(
    "assign_zone",
    MANAGERS,
    route=Route("/sites/<site>/zones/<zone>/assign", "Ask someone to sweep it"),
    socket=True,
    zone=ZONE,
    staff_id=Field("int", required=True),
)
def assign_zone(tx, params: dict) -> dict:
    """The duty manager asks someone to sweep a zone nobody sweeps yet, or a blocked one. It
    is a request: their phone asks them, and the zone counts as swept only once they accept
    (claim_zone); decline_zone frees it again."""
    incident, sweep = _sweep(tx, params["zone"])
    person = tx.db.execute(
        "SELECT id FROM staff WHERE id = ? AND site = ?", [params["staff_id"], tx.site]
    ).fetchone()
    if person is None:
        raise NotFound(f"There is no staff member {params['staff_id']} on this site.")
    if sweep["status"] == "clear":
        raise Conflict("This zone is already reported clear.", zone=params["zone"])
    if params["staff_id"] in (
        sweep["asked"],
        sweep["staff_id"] if sweep["status"] == "claimed" else None,
    ):
        return tx.unchanged()
    return _record(tx, "zone.sweep_requested", incident, params["zone"], params["staff_id"])


@command(
    "decline_zone",
    EVERYONE,
    route=Route("/sites/<site>/zones/<zone>/decline", "I cannot sweep the zone I was asked to"),
    socket=True,
    zone=ZONE,
)
def decline_zone(tx, params: dict) -> dict:
    """The person asked to sweep the zone cannot: the zone is free again, and the duty manager
    sees who declined."""
    incident, sweep = _sweep(tx, params["zone"])
    me = tx.person("answer a request to sweep")
    if sweep["asked"] != me:
        raise Conflict("Nobody asked you to sweep this zone.", zone=params["zone"])
    return _record(tx, "zone.sweep_declined", incident, params["zone"], me)
