"""Help requests: a person who needs help to get out, at a location, until someone resolves it."""

from __future__ import annotations

from ..basics.errors import NotFound
from ..rules.auth import EVERYONE
from ..store.state import help_request_view
from . import Route, command
from .fields import Field
from .incidents import require_active_incident


@command(
    "request_help",
    EVERYONE,
    route=Route("/sites/<site>/help-requests", "A person needs help getting out", 201),
    socket=True,
    location=Field(required=True, max_length=200),
    note=Field(max_length=500),
)
def request_help(tx, params: dict) -> dict:
    """A person needs help getting out, at this location."""
    staff_id = tx.person("report this")
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
    return tx.changed(event, help_request=_help_request(tx, help_id))


@command(
    "resolve_help",
    EVERYONE,
    route=Route("/sites/<site>/help-requests/<int:help_id>/resolve", "Help request resolved"),
    socket=True,
    help_id=Field("int", required=True),
)
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
        return tx.unchanged()
    staff_id = tx.person("report this")
    event = tx.record(
        "help.resolved",
        {"incident_id": row["incident_id"], "help_id": row["id"], "staff_id": staff_id},
    )
    return tx.changed(event, help_request=_help_request(tx, row["id"]))


def _help_request(tx, help_id: int) -> dict:
    return help_request_view(
        next(tx.db.query("SELECT * FROM help_requests WHERE id = ?", [help_id]))
    )
