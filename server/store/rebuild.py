"""Rebuilding the state from the log: every event of the live store applied again, by its
projector, to a fresh SQLite file; then every state table compared with the live one. Equal
tables prove that the state is what the log says, and nothing else. The live store may be
either engine (SQLite or PostgreSQL): it is only read, in one snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from . import personal, projectors
from .db import connect, immediate


def rebuild(live, into_path: str) -> list[str]:
    """Write the rebuilt database to `into_path` (which must not exist yet) from `live` (a
    store's reading connection, `Store.reading()`); return the differences from it, one
    line each (an empty list when they agree)."""
    if Path(into_path).exists():
        raise FileExistsError(f"{into_path} exists already; rebuild into a new file")
    fresh = connect(into_path)
    try:
        with immediate(fresh):
            # The keys are beside the log, not derived from it: what was erased stays erased.
            fresh.executemany(
                "INSERT INTO person_keys VALUES (?, ?, ?, ?, ?, ?, ?)",
                live.execute("SELECT * FROM person_keys").fetchall(),
            )
            keys = personal.Keys(fresh)
            for row in _in_pieces(
                live.execute(
                    "SELECT id, site, seq, ts, actor, type, payload, hash FROM events ORDER BY id"
                )
            ):
                fresh.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
                event = {
                    "site": row[1],
                    "seq": row[2],
                    "ts": row[3],
                    "actor": json.loads(row[4]),
                    "type": row[5],
                    "payload": personal.opened(keys, row[5], json.loads(row[6])),
                }
                projectors.apply(fresh, event)
        return differences(fresh, live)
    finally:
        fresh.close()


def _in_pieces(cursor, size: int = 1000):
    """A long log's rows a thousand at a time, not all in memory at once."""
    while rows := cursor.fetchmany(size):
        yield from rows


def differences(fresh, live, shown: int = 3) -> list[str]:
    """Rows of each state table that one database has and the other has not (compared here,
    not with ATTACH: the live store may be another engine; the tables are the state, small
    beside the log)."""
    found = []
    for table, key in projectors.STATE_TABLES.items():
        query = f"SELECT * FROM {table} ORDER BY {key}"
        rebuilt, kept = fresh.execute(query).fetchall(), live.execute(query).fetchall()
        for rows, other, what in ((kept, rebuilt, "live only"), (rebuilt, kept, "rebuilt only")):
            others = set(map(tuple, other))
            alone = [row for row in map(tuple, rows) if row not in others]
            found += [f"{table}: {what}: {row}" for row in alone[:shown]]
            if len(alone) > shown:
                found.append(f"{table}: {what}: and {len(alone) - shown} more rows")
    return found
