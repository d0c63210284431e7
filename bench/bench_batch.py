"""What one command costs inside the writer's batch (server/store/writer.py): N phones' receipts
(`record_delivery`, each with its Idempotency-Key, as the app sends them) gathered into one
batch and written in one transaction, in this process, on a database file of its own.

Printed per round size N: the batch's CPU time and wall time (median and p99 over the rounds),
and the CPU per command. Beside it, measured in the same run on the same file, the floor: the
same N rows written bare in one transaction, one savepoint and one INSERT each (strictly less
than a command does: no checks, no idempotency, no hash chain, no projector). With
`--postgresql`, on a new database of a PostgreSQL server the run starts (as the tests' is):
there the wall time is mostly round trips, each statement's wait for the server.

    python -m bench.bench_batch [--phones 1000] [--rounds 5] [--postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid

from bench.bench_readiness import enroll_phones
from harness import tests_postgres
from harness.bench import demo_services, percentile
from server.commands import execute
from server.rules.auth import command_line
from server.store.writer import Job

SITE = "demo"


def gathered(services, people, name: str) -> list[Job]:
    """One job per phone, as `execute` hands them to the writer (collected, not yet run)."""
    jobs: list[Job] = []
    submit = services.writer.submit
    services.writer.submit = lambda work, timeout=None, vital=False: jobs.append(Job(work)) or {}
    try:
        for person in people:
            execute(services, person, SITE, name, {}, idempotency_key=uuid.uuid4().hex)
    finally:
        services.writer.submit = submit
    return jobs


def command_round(services, people) -> tuple[float, float]:
    """A fresh drill, then every phone's receipt in one batch: (cpu, wall) seconds."""
    operator = command_line(SITE)
    execute(services, operator, SITE, "start_incident", {"kind": "fire", "drill": True})
    jobs = gathered(services, people, "record_delivery")
    cpu, wall = time.process_time(), time.perf_counter()
    services.writer._write(jobs)  # the batch, as the writer's loop runs it
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    failed = [job.error for job in jobs if job.error is not None]
    assert not failed, failed[:1]
    execute(services, operator, SITE, "end_incident", {"reason": "drill_over"})
    return cpu, wall


def bare_round(services, count: int) -> tuple[float, float]:
    """The floor: `count` rows, a savepoint and an INSERT each, one transaction."""
    cpu, wall = time.process_time(), time.perf_counter()
    with services.store.writing() as db:
        services.store.begin_write(db, lambda function, *args: function(*args))
        for number in range(count):
            db.execute("SAVEPOINT command")
            db.execute(
                "INSERT INTO bare (site, seq, payload) VALUES (?, ?, ?)",
                [SITE, number, '{"incident_id":1,"staff_id":1}'],
            )
            db.execute("RELEASE command")
        db.execute("COMMIT")
    return time.process_time() - cpu, time.perf_counter() - wall


def figures(rounds: list[tuple[float, float]], count: int) -> str:
    cpu = sorted(r[0] * 1000 for r in rounds)
    wall = sorted(r[1] * 1000 for r in rounds)
    return (
        f"cpu ms p50 {statistics.median(cpu):7.1f} p99 {percentile(cpu, 0.99):7.1f}   "
        f"wall ms p50 {statistics.median(wall):7.1f} p99 {percentile(wall, 0.99):7.1f}   "
        f"cpu per command {statistics.median(cpu) * 1000 / count:6.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgresql", action="store_true", help="on PostgreSQL, not SQLite")
    args = parser.parse_args()
    url = None
    if args.postgresql:
        url = tests_postgres().create_database(f"bench_batch_{uuid.uuid4().hex[:8]}")
    services = demo_services(tempfile.mkdtemp(prefix="bench-batch-"), url)
    people = enroll_phones(services, args.phones)
    with services.store.writing() as db:
        db.execute("CREATE TABLE bare (site TEXT, seq INTEGER, payload TEXT)")
    commands = [command_round(services, people) for _ in range(args.rounds)]
    bare = [bare_round(services, args.phones) for _ in range(args.rounds)]
    engine = services.store.engine
    print(
        f"one writer batch of {args.phones} receipts, {args.rounds} rounds, one process, {engine}"
    )
    print(f"  receipts (record_delivery)   {figures(commands, args.phones)}")
    print(f"  bare rows (floor)            {figures(bare, args.phones)}")
    ratio = statistics.median(c for c, _ in commands) / statistics.median(c for c, _ in bare)
    print(f"  a command costs {ratio:.1f}x the bare row's CPU")


if __name__ == "__main__":
    main()
