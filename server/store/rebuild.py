"""Rebuilding the state from the log: every event of a database applied again, by its
projector, to a fresh file; then every state table compared with the live one. Equal tables
prove that the state is what the log says, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from . import personal, projectors
from .db import connect, immediate


def rebuild(live_path: str, into_path: str) -> list[str]:
    """Write the rebuilt database to `into_path` (which must not exist yet); return the
    differences from the live database, one line each (an empty list when they agree)."""
    if Path(into_path).exists():
        raise FileExistsError(f"{into_path} exists already; rebuild into a new file")
    live, fresh = connect(live_path), connect(into_path)
    try:
        with immediate(fresh):
            # The keys are beside the log, not derived from it: what was erased stays erased.
            fresh.executemany(
                "INSERT INTO person_keys VALUES (?, ?, ?, ?, ?, ?, ?)",
                live.execute("SELECT * FROM person_keys"),
            )
            keys = personal.Keys(fresh)
            for row in live.execute(
                "SELECT id, site, seq, ts, actor, type, payload, hash FROM events ORDER BY id"
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
        return differences(fresh, live_path)
    finally:
        live.close()
        fresh.close()


def differences(fresh, live_path: str, shown: int = 3) -> list[str]:
    """Rows of each state table that one database has and the other has not."""
    fresh.execute("ATTACH DATABASE ? AS live", [live_path])
    found = []
    try:
        for table, key in projectors.STATE_TABLES.items():
            for here, there, what in (
                ("live", "main", "live only"),
                ("main", "live", "rebuilt only"),
            ):
                rows = fresh.execute(
                    f"SELECT * FROM {here}.{table} EXCEPT SELECT * FROM {there}.{table} "
                    f"ORDER BY {key}"
                ).fetchall()
                found += [f"{table}: {what}: {row}" for row in rows[:shown]]
                if len(rows) > shown:
                    found.append(f"{table}: {what}: and {len(rows) - shown} more rows")
    finally:
        fresh.execute("DETACH DATABASE live")
    return found
