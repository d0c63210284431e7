"""What someone who holds the database can do to the log: drop the append-only triggers
(server/store/db.py, server/store/postgresql.py) as a first step, edit or remove rows, and
recompute every hash after an edit with the project's own `entry_hash`. Tests use it to show
what still catches them. The server makes the triggers again when it starts."""

from __future__ import annotations

from harness import outside_store, store_url_for
from server.store import log

SQLITE_TRIGGERS = ("events_are_never_changed", "events_are_never_deleted")
SQLITE_TRIGGERS += ("events_are_never_replaced",)
POSTGRESQL_TRIGGERS = ("events_are_never_changed", "events_are_never_truncated")


def _drop_triggers(db, db_path) -> None:
    if store_url_for(db_path) is None:
        for trigger in SQLITE_TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        for trigger in POSTGRESQL_TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger} ON events")


def edit_log(db_path, sql: str, params=()) -> None:
    """Run `sql` on the store with the triggers dropped."""
    with outside_store(db_path) as db:
        _drop_triggers(db, db_path)
        db.execute(sql, params)


def rehash_log(db_path, site: str) -> None:
    """Make the site's chain whole again after an edit: every hash recomputed, in order."""
    with outside_store(db_path) as db:
        _drop_triggers(db, db_path)
        cursor = db.execute("SELECT * FROM events WHERE site = ? ORDER BY seq", [site])
        columns = [column[0] for column in cursor.description]
        previous = log.GENESIS_HASH
        for row in [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]:
            previous = log.entry_hash(previous, log.row_to_entry(row))
            db.execute("UPDATE events SET hash = ? WHERE id = ?", [previous, row["id"]])
