"""Erasing personal data: one person on request (GDPR Art. 17), or whatever a site's retention
has ended (server/rules/privacy.py). Erasing deletes the person's keys (server/store/personal.py): the
log keeps every entry and hash, and its sealed fields read "(erased)" from then on; the
`person.erased` entry says which keys went, and its projector says "(erased)" in the state."""

from __future__ import annotations

from ..basics.errors import NotFound
from ..rules.auth import ADMINS
from ..rules.privacy import DAY_MS, privacy_of
from ..store.db import overwrite_deleted
from ..store.sql import marks
from . import Tx, command
from .fields import Field

# How the command line names what each kind of key held.
ERASED_KINDS = {
    None: "names and phone numbers",
    "incident": "notes and locations in incidents",
    "backup": "notes and locations in backup requests",
    "device": "push subscriptions",
}


@command(
    "erase_person",
    ADMINS,
    one_of=("staff_id", "visitor_id"),
    staff_id=Field("int"),
    visitor_id=Field("int"),
)
def erase_person(tx: Tx, params: dict) -> dict:
    """Erase everything personal about one staff member or visitor of the site."""
    kind = "staff" if params["staff_id"] is not None else "visitor"
    person_id = params[f"{kind}_id"]
    table = "staff" if kind == "staff" else "visitors"
    if not tx.db.execute(
        f"SELECT 1 FROM {table} WHERE id = ? AND site = ?", [person_id, tx.site]
    ).fetchone():
        raise NotFound(f"There is no {kind} {person_id} on this site.", field=f"{kind}_id")
    subjects = _subjects(tx.db, "person = ? AND person_id = ?", [kind, person_id])
    if not subjects:
        return tx.unchanged(erased={})
    if kind == "staff":  # the person's phones' working memory and the answers kept for them
        credentials = "SELECT id FROM credentials WHERE staff_id = ?"
        tx.db.execute(
            f"DELETE FROM device_presence WHERE credential_id IN ({credentials})", [person_id]
        )
        tx.db.execute(
            f"DELETE FROM idempotency_keys WHERE credential_id IN ({credentials})", [person_id]
        )
    event = _erase(tx, subjects, "request", **{f"{kind}_id": person_id})
    return tx.changed(event, erased=_counted(subjects))


@command("erase_expired", ADMINS, as_of=Field("time"))
def erase_expired(tx: Tx, params: dict) -> dict:
    """Erase what the site's retention (its file's `privacy`) has ended by `as_of` (now)."""
    as_of = params["as_of"] or tx.ts
    row = tx.db.execute("SELECT settings FROM sites WHERE id = ?", [tx.site]).fetchone()
    keep = privacy_of(row[0])
    erased: dict[str, int] = {}
    events = []
    for visitor_id in _visitors_gone(tx, as_of - keep["visitors_days"] * DAY_MS):
        subjects = _subjects(tx.db, "person = 'visitor' AND person_id = ?", [visitor_id])
        events.append(_erase(tx, subjects, "expired", visitor_id=visitor_id))
        erased["visitors"] = erased.get("visitors", 0) + 1
    for scope, ended in (
        ("incident", "SELECT 'incident:' || id FROM incidents WHERE site = ? AND ended_at < ?"),
        ("backup", "SELECT 'backup:' || id FROM backup_requests WHERE site = ? AND ended_at < ?"),
    ):
        subjects = _subjects(
            tx.db,
            f"site = ? AND scope IN ({ended})",
            [tx.site, tx.site, as_of - keep["incidents_days"] * DAY_MS],
        )
        if subjects:
            events.append(_erase(tx, subjects, "expired"))
            erased[ERASED_KINDS[scope]] = len(subjects)
    devices_before = as_of - keep["devices_days"] * DAY_MS
    subjects = _subjects(
        tx.db,
        "site = ? AND scope LIKE 'device:%' AND created_at < ? AND NOT EXISTS (SELECT 1 FROM "
        "push_subscriptions p WHERE 'device:' || p.credential_id = person_keys.scope)",
        [tx.site, devices_before],
    )
    if subjects:
        events.append(_erase(tx, subjects, "expired"))
        erased[ERASED_KINDS["device"]] = len(subjects)
    presence = tx.db.execute(
        "DELETE FROM device_presence WHERE site = ? AND last_seen_at < ?", [tx.site, devices_before]
    ).rowcount
    if presence:
        erased["presence records"] = presence
    if not events:
        return tx.unchanged(erased=erased)
    return tx.changed(events[-1], erased=erased)


def _visitors_gone(tx: Tx, before: int) -> list[int]:
    """Visitors who signed out before `before` and still have keys."""
    return [
        visitor_id
        for (visitor_id,) in tx.db.execute(
            "SELECT id FROM visitors v WHERE site = ? AND left_at < ? AND EXISTS (SELECT 1 FROM "
            "person_keys k WHERE k.person = 'visitor' AND k.person_id = v.id) ORDER BY id",
            [tx.site, before],
        )
    ]


def _subjects(db, where: str, params: list) -> list[str]:
    return [
        s
        for (s,) in db.execute(
            f"SELECT subject FROM person_keys WHERE {where} ORDER BY subject", params
        )
    ]


def _erase(tx: Tx, subjects: list[str], why: str, **person) -> dict:
    """Delete the keys (their bytes overwritten on disk), then log which ones went. A person
    erased whole is erased in the state even where nothing of theirs was sealed."""
    whole = [f"{kind.removesuffix('_id')}:{pid}" for kind, pid in person.items()]
    overwrite_deleted(tx.db)
    tx.db.execute(f"DELETE FROM person_keys WHERE subject IN ({marks(subjects)})", subjects)
    listed = sorted(set(subjects) | set(whole))
    return tx.record("person.erased", {**person, "subjects": listed, "why": why})


def _counted(subjects: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for subject in subjects:
        _, _, scope = subject.partition("/")
        kind = ERASED_KINDS[scope.split(":")[0] if scope else None]
        counts[kind] = counts.get(kind, 0) + 1
    return counts
