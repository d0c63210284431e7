"""Erasing a person's personal data from the state tables."""

from __future__ import annotations

from ..events import ERASED
from . import projects


@projects("person.erased")
def person_erased(db, event, p):
    """What each erased key sealed now reads (erased) in the state too, as a rebuild from the
    log would read it: names and what people wrote say so, phone numbers and subscriptions
    are gone, and a person erased whole has no credentials left."""
    for subject in p["subjects"]:
        person, _, scope = subject.partition("/")
        kind, person_id = person.split(":")
        _erase(db, kind, int(person_id), *(scope.split(":") if scope else (None, None)))
        if kind == "staff" and not scope:
            db.execute(
                "UPDATE credentials SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL",
                [event["ts"], int(person_id)],
            )


def _erase(db, kind: str, person_id: int, scope: str | None, scope_id: str | None) -> None:
    wrote = "CASE WHEN note IS NULL THEN NULL ELSE ? END"
    if scope is None and kind == "staff":
        db.execute("UPDATE staff SET name = ?, phone = NULL WHERE id = ?", [ERASED, person_id])
    elif scope is None:
        db.execute(
            "UPDATE visitors SET name = ?, company = NULL, phone = NULL WHERE id = ?",
            [ERASED, person_id],
        )
    elif scope == "incident":
        db.execute(
            "UPDATE reported_inside SET location = ? WHERE incident_id = ? AND person = ? "
            "AND person_id = ?",
            [ERASED, int(scope_id), kind, person_id],
        )
        if kind == "staff":
            db.execute(
                f"UPDATE help_requests SET location = ?, note = {wrote} "
                "WHERE incident_id = ? AND raised_by = ?",
                [ERASED, ERASED, int(scope_id), person_id],
            )
            db.execute(
                f"UPDATE sweeps SET note = {wrote} WHERE incident_id = ? AND staff_id = ?",
                [ERASED, int(scope_id), person_id],
            )
    elif scope == "backup":
        db.execute(
            f"UPDATE backup_requests SET location = ?, note = {wrote} WHERE id = ?",
            [ERASED, ERASED, int(scope_id)],
        )
    elif scope == "device":
        db.execute("DELETE FROM push_subscriptions WHERE credential_id = ?", [int(scope_id)])
