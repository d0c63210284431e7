"""Sealing a log written before personal fields were sealed (server/store/personal.py), once.

A hash covers the whole entry, so an entry whose plaintext name is replaced by its sealed
text gets a new hash, and so does every entry after it: the chain is written again, in one
transaction, and its old heads are kept in `log_resealed` beside the new ones. The old
checkpoints signed the old heads: they move to `checkpoints_before_sealing` (kept, not
deleted) and the next checkpoint signs the sealed chain. Evidence bundles made before stay
valid on their own: each carries its own entries and checkpoints.
"""

from __future__ import annotations

import json
import sqlite3

from ..basics.clock import now_ms
from . import log, personal


def seal_log(connection: sqlite3.Connection, version: int) -> None:
    """Seal every site's log and set PRAGMA user_version to `version`, all or nothing."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] < version:
            if connection.execute("SELECT 1 FROM events LIMIT 1").fetchone():
                _reseal(connection)
            connection.execute(f"PRAGMA user_version = {int(version)}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _reseal(connection: sqlite3.Connection) -> None:
    triggers = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"
    ).fetchall()
    for name, _ in triggers:  # the log is written again once, here, and never after
        connection.execute(f"DROP TRIGGER {name}")
    connection.execute(
        """CREATE TABLE IF NOT EXISTS log_resealed (
               site TEXT NOT NULL, size INTEGER NOT NULL, old_head TEXT NOT NULL,
               new_head TEXT NOT NULL, at INTEGER NOT NULL)"""
    )
    keys = personal.Keys(connection)
    for (site,) in connection.execute("SELECT DISTINCT site FROM events").fetchall():
        _reseal_site(connection, keys, site)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS checkpoints_before_sealing AS SELECT * FROM checkpoints WHERE 0"
    )
    connection.execute("INSERT INTO checkpoints_before_sealing SELECT * FROM checkpoints")
    connection.execute("DELETE FROM checkpoints")
    for _, sql in triggers:
        connection.execute(sql)


def _reseal_site(connection: sqlite3.Connection, keys: personal.Keys, site: str) -> None:
    rows = connection.execute(
        "SELECT id, seq, ts, actor, type, payload, hash FROM events WHERE site = ? ORDER BY seq",
        [site],
    ).fetchall()
    previous = log.GENESIS_HASH
    for row_id, seq, ts, actor_text, type_, payload_text, _ in rows:
        actor, payload = json.loads(actor_text), json.loads(payload_text)
        if type_ == "site.imported":
            _name_imported_staff(connection, site, payload)
        entry = {
            "site": site,
            "seq": seq,
            "ts": ts,
            "actor": personal.stored_actor(actor),
            "type": type_,
            "payload": personal.seal(keys, site, ts, type_, payload, actor),
        }
        previous = log.entry_hash(previous, entry)
        connection.execute(
            "UPDATE events SET actor = ?, payload = ?, hash = ? WHERE id = ?",
            [
                log.canonical_json(entry["actor"]),
                log.canonical_json(entry["payload"]),
                previous,
                row_id,
            ],
        )
    connection.execute(
        "INSERT INTO log_resealed (site, size, old_head, new_head, at) VALUES (?, ?, ?, ?, ?)",
        [site, rows[-1][1], rows[-1][6], previous, now_ms()],
    )


def _name_imported_staff(connection: sqlite3.Connection, site: str, payload: dict) -> None:
    """An imported file's people by their staff ids (as imports now record them), so that
    each one's name is sealed under their own key."""
    for person in (payload.get("config") or {}).get("staff") or []:
        if isinstance(person, dict) and "staff_id" not in person:
            row = connection.execute(
                "SELECT id FROM staff WHERE site = ? AND name = ? ORDER BY id LIMIT 1",
                [site, person.get("name")],
            ).fetchone()
            if row:
                person["staff_id"] = row[0]
