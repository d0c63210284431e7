"""What someone who holds the database file can do to the log: drop the append-only triggers
(server/store/db.py) as a first step, edit or remove rows, and recompute every hash after an edit
with the project's own `entry_hash`. Tests use it to show what still catches them."""

from __future__ import annotations

import sqlite3

from server.store import log

TRIGGERS = ("events_are_never_changed", "events_are_never_deleted", "events_are_never_replaced")


def edit_log(db_path, sql: str, params=()) -> None:
    """Run `sql` on the file with the triggers dropped (the server recreates them on start)."""
    with sqlite3.connect(db_path) as db:
        for trigger in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        db.execute(sql, params)
    db.close()


def rehash_log(db_path, site: str) -> None:
    """Make the site's chain whole again after an edit: every hash recomputed, in order."""
    edit_log(db_path, "SELECT 1")
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        previous = log.GENESIS_HASH
        for row in db.execute(
            "SELECT * FROM events WHERE site = ? ORDER BY seq", [site]
        ).fetchall():
            previous = log.entry_hash(previous, log.row_to_entry(dict(row)))
            db.execute("UPDATE events SET hash = ? WHERE id = ?", [previous, row["id"]])
    db.close()
