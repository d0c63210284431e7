"""Starting and ending an incident (duty managers and admins only)."""

from __future__ import annotations

from ..basics.clock import iso
from ..basics.errors import Conflict, Invalid
from ..basics.names import END_REASONS, KINDS, end_reasons_for
from ..rules.auth import MANAGERS
from ..store.state import active_incident, incident_view, zone_views
from . import Route, command
from .fields import Field
from .notices import close_notices, follow_eta, restore_notices


def require_active_incident(db, site: str) -> dict:
    incident = active_incident(db, site)
    if incident is None:
        raise Conflict("No incident is active on this site.")
    return incident


@command(
    "start_incident",
    MANAGERS,
    route=Route("/sites/<site>/incidents", "Start an incident (duty manager, admin)", 201),
    socket=True,
    kind=Field("choice", required=True, choices=KINDS),
    drill=Field("bool", default=False),
    message=Field(max_length=500),
    eta=Field("time", future=True),
    reserve=True,
)
def start_incident(tx, params: dict) -> dict:
    running = active_incident(tx.db, tx.site)
    if running is not None:
        raise Conflict(
            f"An incident ({running['kind']}) is already active since "
            f"{iso(running['started_at'])}; give the all-clear before starting another.",
            incident_id=running["id"],
        )
    incident_id = tx.new_id("incidents")
    event = tx.record(
        "incident.started",
        {
            "incident_id": incident_id,
            "kind": params["kind"],
            "drill": params["drill"],
            "message": params["message"],
            "eta": iso(params["eta"]),
        },
    )
    close_notices(tx, _row(tx, incident_id))
    return incident_answer(tx, incident_id, event["seq"])


@command(
    "end_incident",
    MANAGERS,
    route=Route("/sites/<site>/incidents/current/all-clear", "All-clear with a reason"),
    socket=True,
    reason=Field("choice", required=True, choices=END_REASONS),
    note=Field(max_length=500),
    reserve=True,
)
def end_incident(tx, params: dict) -> dict:
    """The all-clear. Its log entry and answer name what the console warns a person about:
    the zones not swept clear and the help requests still open when it was given."""
    incident = require_active_incident(tx.db, tx.site)
    allowed = end_reasons_for(bool(incident["drill"]))
    if params["reason"] not in allowed:
        kind = "a drill" if incident["drill"] else "a real alarm"
        raise Invalid(f"The all-clear of {kind} takes: {', '.join(allowed)}.", field="reason")
    still_open = open_at_all_clear(tx.db, tx.site, incident["id"])
    event = tx.record(
        "incident.ended",
        {
            "incident_id": incident["id"],
            "reason": params["reason"],
            "note": params["note"],
            **still_open,
        },
    )
    restore_notices(tx, incident)
    return {**incident_answer(tx, incident["id"], event["seq"]), **still_open}


def open_at_all_clear(db, site: str, incident_id: int) -> dict:
    """`unchecked_zones` (each zone not swept clear, with its sweep) and `open_help_requests`."""
    zones = [
        {"zone": zone["id"], "name": zone["name"], "sweep": zone["sweep"]}
        for zone in zone_views(db, site, incident_id)
        if zone["sweep"] != "clear"
    ]
    help_requests = [
        {"help_id": row["id"], "location": row["location"], "staff_id": row["raised_by"]}
        for row in db.query(
            "SELECT * FROM help_requests WHERE incident_id = ? AND resolved_at IS NULL ORDER BY id",
            [incident_id],
        )
    ]
    return {"unchecked_zones": zones, "open_help_requests": help_requests}


def _row(tx, incident_id: int) -> dict:
    return next(tx.db.query("SELECT * FROM incidents WHERE id = ?", [incident_id]))


def incident_answer(tx, incident_id: int, seq: int) -> dict:
    """The incident as the API shows it, with the seq of this command's incident.* event
    (notice.switched events may follow it)."""
    return {**incident_view(_row(tx, incident_id)), "seq": seq}


@command(
    "update_incident",
    MANAGERS,
    route=Route("/sites/<site>/incidents/current/update", "Change the eta or the message"),
    socket=True,
    eta=Field("time", future=True),
    clear_eta=Field("bool", default=False),
    message=Field(max_length=500),
)
def update_incident(tx, params: dict) -> dict:
    """Change the estimated reopening time (the public notices follow) or the staff message."""
    if params["eta"] is None and not params["clear_eta"] and params["message"] is None:
        raise Invalid("Send 'eta', 'clear_eta' or 'message'.")
    if params["eta"] is not None and params["clear_eta"]:
        raise Invalid("Send either 'eta' or 'clear_eta', not both.", field="clear_eta")
    incident = require_active_incident(tx.db, tx.site)
    eta = None if params["clear_eta"] else params["eta"] or incident["eta"]
    message = incident["message"] if params["message"] is None else params["message"]
    event = tx.record(
        "incident.updated", {"incident_id": incident["id"], "eta": iso(eta), "message": message}
    )
    follow_eta(tx, incident["id"], eta)
    return incident_answer(tx, incident["id"], event["seq"])
