"""The evidence report of a big mustering, and what the rest of the server feels meanwhile.

    python -m bench.bench_report [--staff 1000] [--visitors 200] [--repo PATH]

A database with the demo site, N staff and V visitors, one fire in which a marshal accounts
for every one of them (all through the commands, in this process), then the real server
(`python -m server`, eventlet) on it. Printed: seconds for report.json, report.html and
report.pdf, and while each is made, how long the server takes to answer /healthz (probed
every 50 ms from another thread: p50, max); beside the same probe with nothing else asked
(the reference). A report made in the event loop stops every site's sockets and alarms for
as long as it takes; a PDF laid out in a native thread does not.

Everything runs on 127.0.0.1; the server it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import requests

from harness import REPO, LiveServer, unit_settings
from harness.bench import describe, percentile

INCIDENT = "/api/sites/demo/incidents/1/"


def mustered_database(db_path: Path, staff: int, visitors: int) -> str:
    """The demo site after a fire in which everyone was marked; the duty manager's token."""
    from server import create_app, demo
    from server.commands import execute
    from server.rules.auth import command_line

    services = create_app(unit_settings(db_path, "bench")).extensions["exitnow"]
    try:
        demo.seed(services)

        def run(name: str, params: dict) -> dict:
            return execute(services, command_line("demo"), "demo", name, params)

        for number in range(staff):
            run("create_token", {"name": f"staff {number}", "role": "staff"})
        manager = run("create_token", {"name": "Maija", "role": "duty_manager"})["token"]
        nobody = {"company": None, "phone": None, "language": None, "host_staff_id": None}
        for number in range(visitors):
            run("sign_in_visitor", {"name": f"Visitor {number}", **nobody})
        run("start_incident", {"kind": "fire"})
        with services.store.reading() as db:
            people = [("staff_id", r[0]) for r in db.execute("SELECT id FROM staff WHERE on_roll")]
            people += [("visitor_id", r[0]) for r in db.execute("SELECT id FROM visitors")]
        for field, person_id in people:
            mark = {"staff_id": None, "visitor_id": None, field: person_id}
            run("account_person", {**mark, "assembly_point": "lamp-post-a"})
        run("end_incident", {"reason": "resolved"})
        return manager
    finally:
        services.store.close()


def probed(server: LiveServer, work) -> tuple[float, list[float]]:
    """(seconds `work()` took, ms of each /healthz answer meanwhile)."""
    answers: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            began = time.perf_counter()
            requests.get(server.url + "/healthz", timeout=300)
            answers.append((time.perf_counter() - began) * 1000)
            time.sleep(0.05)

    prober = threading.Thread(target=probe)
    prober.start()
    began = time.perf_counter()
    work()
    took = time.perf_counter() - began
    done.set()
    prober.join()
    return took, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=1000)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose server runs")
    args = parser.parse_args()
    repo = args.repo.resolve()
    print(f"the report of a mustering, 127.0.0.1, 2 shared cores; server {describe(repo)}")
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "site.db"
        began = time.perf_counter()
        manager = mustered_database(db_path, args.staff, args.visitors)
        print(
            f"set-up: {args.staff} staff and {args.visitors} visitors marked in "
            f"{time.perf_counter() - began:.0f} s"
        )
        path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
        server = LiveServer(db_path, env={"PYTHONPATH": path}, cwd=repo).start()
        headers = {"Authorization": f"Bearer {manager}"}
        try:
            rows = [("nothing (reference)", lambda: time.sleep(3))]
            for name in ("report.json", "report.html?lang=en", "report.pdf?lang=en"):
                url = f"{server.url}{INCIDENT}{name}"

                def fetch(url=url) -> None:
                    requests.get(url, headers=headers, timeout=600).raise_for_status()

                rows.append((name.split("?")[0], fetch))
            print(f"\n{'asked':<22} {'took s':>7}   /healthz meanwhile ms")
            for name, work in rows:
                took, answers = probed(server, work)
                print(
                    f"{name:<22} {took:7.1f}   p50 {percentile(answers, 0.5):7.1f}  "
                    f"max {max(answers):8.1f}  ({len(answers)} probes)"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
