"""What the escalation timer's read costs each second while an incident runs, for N people who
all have a push subscription and none of whom has confirmed the alarm (the worst case), beside
a bare SELECT of the same people: median and p99 in ms.

    python -m bench.bench_escalation [--people 1000] [--rounds 50]

A database file made as the server makes it, in a temporary folder; nothing is started or
left behind."""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time

from server.rules.escalation import due_attempts
from server.store.db import connect


def crowd(path: str, people: int) -> sqlite3.Connection:
    """A site "s" whose `people` each have one push subscription."""
    db = connect(path)
    db.execute("PRAGMA foreign_keys=OFF")  # no credentials or events: only what the read joins
    db.execute(
        "INSERT INTO sites (id, name, timezone, languages, settings, created_at) "
        "VALUES ('s', 'Shop', 'UTC', '[\"fi\"]', '{}', 0)"
    )
    for i in range(1, people + 1):
        db.execute(
            "INSERT INTO staff (id, site, name, role, language, created_at) "
            "VALUES (?, 's', ?, 'staff', 'fi', 0)",
            [i, f"person {i}"],
        )
        db.execute(
            "INSERT INTO push_subscriptions VALUES (?, ?, 'k', 'a', ?, ?, 's', 0)",
            [i, f"https://push.example/{i}", i, i],
        )
    return db


def timed(read, rounds: int) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    db = crowd(f"{folder.name}/bench.db", args.people)
    incident = {"id": 1, "site": "s", "started_at": 0, "started_by": None}
    due = due_attempts(db, incident, 120_000, False)  # two minutes in: the second push is due
    assert len(due) == args.people, len(due)
    reads = {
        "escalation read": lambda: due_attempts(db, incident, 120_000, False),
        "bare SELECT": lambda: db.execute("SELECT id FROM staff WHERE site = 's'").fetchall(),
    }
    print(f"{args.people} people, none confirmed, {args.rounds} rounds")
    for name, read in reads.items():
        median, p99 = timed(read, args.rounds)
        print(f"  {name:16} median {median:6.2f} ms   p99 {p99:6.2f} ms")
    db.close()
    folder.cleanup()


if __name__ == "__main__":
    main()
