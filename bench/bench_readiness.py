"""What phone readiness costs with N phones connected (server/live/presence.py,
server/live/phone_readiness.py), in this process, on a database file of its own: a connect and a
disconnect as the Socket.IO handlers record them (memory only), the batch that writes them
(one transaction), and the duty manager's `GET /api/sites/<site>/readiness` for N people.

Each figure is printed beside a bare reference measured in the same run: a dict write per
connect, one executemany of N plain rows in one transaction, one `SELECT *` of the N people.

    python -m bench.bench_readiness [--phones 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from harness.bench import demo_services
from server.basics.clock import now_ms
from server.commands import execute
from server.live.phone_readiness import site_readiness
from server.rules.auth import Identity, command_line

SITE = "demo"


def enroll_phones(services, count: int) -> list[Identity]:
    """`count` people, each with a phone enrolled through a link (a device credential)."""
    operator = command_line(SITE)
    people = []
    for number in range(count):
        person = {"name": f"Phone {number:04d}", "role": "staff"}
        staff_id = execute(services, operator, SITE, "add_staff", person)["staff_id"]
        code = execute(services, operator, SITE, "create_enrollment_link", {"staff_id": staff_id})
        identity = Identity(SITE, "staff", person["name"], staff_id)
        enrolled = execute(services, identity, SITE, "enroll_device", {"code": code["code"]})
        people.append(Identity(SITE, "staff", person["name"], staff_id, enrolled["credential_id"]))
    return people


def connect_all(presence, sids: list[str], people: list[Identity], report: dict) -> None:
    for sid, identity in zip(sids, people, strict=True):
        presence.connected(sid, identity, report)


def disconnect_all(presence, sids: list[str]) -> None:
    for sid in sids:
        presence.disconnected(sid)


def bare_connects(sids: list[str], people: list[Identity], report: dict) -> None:
    """The reference for a connect: one dict write of what it keeps."""
    bare = {}
    for sid, identity in zip(sids, people, strict=True):
        bare[sid] = (identity.credential_id, now_ms(), report["app_version"])


def timed(work, *args) -> float:
    started = time.perf_counter()
    work(*args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        services = demo_services(folder)
        started = time.perf_counter()
        people = enroll_phones(services, args.phones)
        print(f"{args.phones} phones enrolled in {time.perf_counter() - started:.1f} s")
        presence = services.presence
        report = {"app_version": "0123456789abcdef", "notifications": "granted"}
        figures: dict[str, list[float]] = {name: [] for name in FIGURES}
        for round_ in range(args.rounds):
            sids = [f"sid-{round_}-{number}" for number in range(len(people))]

            figures["connect"].append(
                timed(connect_all, presence, sids, people, report) / len(people)
            )
            figures["bare dict write"].append(
                timed(bare_connects, sids, people, report) / len(people)
            )
            figures["flush connects"].append(timed(lambda: presence.flush(services)))
            figures["bare executemany"].append(timed(lambda: bare_rows(services, people)))
            with services.store.reading() as db:
                figures["readiness"].append(
                    timed(lambda db=db: site_readiness(db, SITE, presence, now_ms()))
                )
                figures["bare SELECT staff"].append(
                    timed(
                        lambda db=db: list(db.query("SELECT * FROM staff WHERE site = ?", [SITE]))
                    )
                )
            figures["disconnect"].append(timed(disconnect_all, presence, sids) / len(people))
            figures["flush disconnects"].append(timed(lambda: presence.flush(services)))
        with services.store.reading() as db:
            answer = site_readiness(db, SITE, presence, now_ms())
        services.store.close()
    print(
        f"readiness with {args.phones} phones, {args.rounds} rounds, median (in this process; "
        f"{answer['ready']} of {answer['total']} ready at the end)"
    )
    for name, unit in FIGURES.items():
        value = statistics.median(figures[name]) * (1e6 if unit == "µs" else 1e3)
        print(f"  {name:<22}{value:>10.1f} {unit}")


FIGURES = {
    "connect": "µs",
    "bare dict write": "µs",
    "disconnect": "µs",
    "flush connects": "ms",
    "flush disconnects": "ms",
    "bare executemany": "ms",
    "readiness": "ms",
    "bare SELECT staff": "ms",
}


def bare_rows(services, people: list[Identity]) -> None:
    """The reference for a flush: N plain rows in one transaction, through the same writer."""

    def work(db):
        db.execute("CREATE TEMP TABLE IF NOT EXISTS bare (a INTEGER PRIMARY KEY, b, c, d)")
        db.conn.executemany(
            "INSERT OR REPLACE INTO bare VALUES (?, ?, ?, ?)",
            [(p.credential_id, p.staff_id, now_ms(), p.site) for p in people],
        )
        return None, []

    services.writer.submit(work)


if __name__ == "__main__":
    main()
