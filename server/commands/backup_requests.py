"""Backup requests: staff under threat quietly call the guard or the duty manager, at any time.

Their events are readable by responders only (see events.RESPONDER_ONLY_EVENTS).
"""

from __future__ import annotations

from ..basics.errors import Forbidden, NotFound
from ..rules.auth import EVERYONE, RESPONDERS
from ..store.state import backup_request_view, responder_phones
from . import Route, command
from .fields import Field


@command(
    "request_backup",
    EVERYONE,
    route=Route("/sites/<site>/backup-requests", "I need backup here (any time)", 201),
    socket=True,
    location=Field(required=True, max_length=200),
    note=Field(max_length=500),
)
def request_backup(tx, params: dict) -> dict:
    staff_id = tx.person("ask for backup")
    open_request = next(
        tx.db.query(
            "SELECT id FROM backup_requests WHERE raised_by = ? AND ended_at IS NULL", [staff_id]
        ),
        None,
    )
    if open_request is not None:  # a second press while help is already on its way
        reaches = responder_phones(tx.db, tx.site, staff_id)
        return tx.unchanged(backup_request={**_view(tx, open_request["id"]), "reaches": reaches})
    backup_id = tx.new_id("backup_requests")
    event = tx.record(
        "backup.requested",
        {
            "backup_id": backup_id,
            "staff_id": staff_id,
            "name": tx.identity.name,
            "location": params["location"],
            "note": params["note"],
        },
    )
    reaches = responder_phones(tx.db, tx.site, staff_id)
    return tx.changed(event, backup_request={**_view(tx, backup_id), "reaches": reaches})


def _end(tx, backup_id: int, outcome: str) -> dict:
    row = next(
        tx.db.query(
            "SELECT * FROM backup_requests WHERE id = ? AND site = ?", [backup_id, tx.site]
        ),
        None,
    )
    if row is None:
        raise NotFound(f"There is no backup request {backup_id} on this site.")
    if row["raised_by"] != tx.identity.staff_id and tx.identity.role not in RESPONDERS:
        raise Forbidden("Only the person who asked, a guard or a duty manager can do this.")
    if row["ended_at"] is not None:
        return tx.unchanged(backup_request=_view(tx, backup_id))
    event = tx.record(
        f"backup.{outcome}", {"backup_id": backup_id, "staff_id": tx.identity.staff_id}
    )
    return tx.changed(event, backup_request=_view(tx, backup_id))


@command(
    "cancel_backup",
    EVERYONE,
    route=Route("/sites/<site>/backup-requests/<int:backup_id>/cancel", "Cancel a backup request"),
    socket=True,
    backup_id=Field("int", required=True),
)
def cancel_backup(tx, params: dict) -> dict:
    return _end(tx, params["backup_id"], "cancelled")


@command(
    "answer_backup",
    RESPONDERS,
    route=Route(
        "/sites/<site>/backup-requests/<int:backup_id>/answer", "On my way (guard, manager)"
    ),
    socket=True,
    backup_id=Field("int", required=True),
)
def answer_backup(tx, params: dict) -> dict:
    """A guard or duty manager is on the way; the request ends."""
    return _end(tx, params["backup_id"], "answered")


@command(
    "decline_backup",
    RESPONDERS,
    route=Route(
        "/sites/<site>/backup-requests/<int:backup_id>/decline", "I cannot come (guard, manager)"
    ),
    socket=True,
    backup_id=Field("int", required=True),
)
def decline_backup(tx, params: dict) -> dict:
    """A guard or duty manager cannot come: the one who asked is told, the request stays open
    for the others."""
    row = next(
        tx.db.query(
            "SELECT * FROM backup_requests WHERE id = ? AND site = ?",
            [params["backup_id"], tx.site],
        ),
        None,
    )
    if row is None:
        raise NotFound(f"There is no backup request {params['backup_id']} on this site.")
    me = tx.person("answer a backup request")
    declined = tx.db.execute(
        "SELECT 1 FROM backup_declines WHERE backup_id = ? AND staff_id = ?", [row["id"], me]
    ).fetchone()
    if row["ended_at"] is not None or declined:
        return tx.unchanged(backup_request=_view(tx, row["id"]))
    event = tx.record("backup.declined", {"backup_id": row["id"], "staff_id": me})
    return tx.changed(event, backup_request=_view(tx, row["id"]))


def _view(tx, backup_id: int) -> dict:
    return backup_request_view(
        next(tx.db.query("SELECT * FROM backup_requests WHERE id = ?", [backup_id]))
    )
