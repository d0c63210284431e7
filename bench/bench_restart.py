"""A thousand phones back after a restart, end to end: N phones were connected, an incident
started and everyone's receipt came in; then the server restarts, and every phone connects
again at once with the `last_seq` it had seen before the alarm. A phone is back when its
`state` has come, which the server sends after the events it missed (server/live/realtime.py
`catch_up`): the alarm and all N receipts.

    python -m bench.bench_restart [--phones 1000] [--rounds 3] [--processes 2] [--deflate]
                                  [--async-mode eventlet|gevent] [--repo PATH] [--limit 900]

Each round stops the server (SIGTERM), starts it again and opens the N sockets (the light
phones of bench/bench_connect.py, 50 handshakes at a time per client process) as soon as its
`/healthz` answers; one warm-up round per server first, not counted. A phone's ms run from
its handshake's start: at most 50 are under way per client process, so with more phones the
last wait in their own process first (in "back s", not in the p99). Printed per round: seconds from the new process's start to `/healthz`,
from there to every phone back, and in all; each phone's ms to back (median, p99); the
server's CPU for the reconnections. Beside it, the floor: the bare Flask-SocketIO server
restarted the same way and the same N phones connecting to it (no catch-up, no state: strictly
less). `--deflate`: harness.bench.add_deflate_option.

Everything runs on 127.0.0.1; every process it starts is stopped by its id at the end, on an
error or Ctrl-C too, and the run stops after --limit seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.bench_connect import Floor, Phones, load_average, stop_on_sigterm, time_limit
from harness import REPO, LiveServer, prepare_database
from harness.bench import (
    add_deflate_option,
    cpu_seconds,
    describe,
    percentile,
    raise_open_files,
)

SITE = "/api/sites/demo"


class Restarting:
    """Exit Now of the checkout `repo` on a database of its own whose demo site has N staff
    tokens; `start` starts it and makes the incident the phones miss."""

    name = "exit-now"
    sends_state = True  # a phone is back when its state came

    def __init__(self, repo: Path, folder: Path, phones: int, async_mode: str):
        db_path = folder / "bench.db"
        tokens = prepare_database(db_path, {"staff": phones, "duty_manager": 1})
        self.tokens, manager = tokens["staff"], tokens["duty_manager"][0]
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            self.seen = db.execute("SELECT MAX(seq) FROM events WHERE site = 'demo'").fetchone()[0]
        path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
        env = {"PYTHONPATH": path, "EXITNOW_ASYNC_MODE": async_mode}
        self.server, self.manager = LiveServer(db_path, env=env, cwd=repo), manager
        self.url = self.server.url

    def start(self) -> None:
        self.server.start(timeout=60)
        started = self.server.post(
            f"{SITE}/incidents", self.manager, {"kind": "fire", "drill": True}
        )
        started.raise_for_status()
        with ThreadPoolExecutor(8) as pool:  # everyone's receipt, while the phones are away
            receipts = pool.map(
                lambda token: self.server.post(f"{SITE}/incidents/current/delivered", token),
                self.tokens,
            )
            for receipt in receipts:
                receipt.raise_for_status()

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def auths(self, count: int) -> list[dict]:
        report = {"last_seq": self.seen, "app_version": "bench", "notifications": "granted"}
        return [{"token": self.tokens[i % len(self.tokens)], **report} for i in range(count)]

    def restart(self) -> float:
        """Stop and start the server; the seconds from the new process's start to /healthz."""
        self.server.stop()
        began = time.monotonic()
        self.server.start(timeout=60)
        return time.monotonic() - began

    def stop(self) -> None:
        self.server.stop()


class RestartingFloor:
    """The bare Flask-SocketIO server (bench/bench_connect.py's Floor), restarted the same way."""

    name = "bare Flask-SocketIO"
    sends_state = False  # a phone is back at the namespace's CONNECT answer

    def __init__(self, folder: Path, async_mode: str):
        self.folder, self.async_mode = folder, async_mode
        self.floor = Floor(folder, async_mode)

    @property
    def url(self) -> str:
        return self.floor.url

    @property
    def pid(self) -> int:
        return self.floor.pid

    def auths(self, count: int) -> list[dict]:
        return [{}] * count

    def restart(self) -> float:
        self.floor.stop()
        began = time.monotonic()
        self.floor = Floor(self.folder, self.async_mode)  # returns once /healthz answers
        return time.monotonic() - began  # (a Floor that fails to start stops itself)

    def stop(self) -> None:
        self.floor.stop()


def one_round(phones: Phones, server, count: int) -> dict:
    starting = server.restart()
    before, began = cpu_seconds(server.pid), time.monotonic()
    took = phones.open(server, count)
    back = time.monotonic() - began
    cpu = cpu_seconds(server.pid) - before
    phones.close()
    return {"starting": starting, "back": back, "took": took, "cpu": cpu}


def print_rounds(name: str, rounds: list[dict], count: int) -> None:
    for number, figures in enumerate(rounds, 1):
        took_ms = [seconds * 1000 for seconds in figures["took"]]
        print(
            f"{name:<22} {number:>5} {figures['starting']:>9.2f} {figures['back']:>9.2f} "
            f"{figures['starting'] + figures['back']:>7.2f} {percentile(took_ms, 0.5):>7.0f} "
            f"{percentile(took_ms, 0.99):>7.0f} {figures['cpu'] * 1000 / count:>9.2f}"
        )
    total = statistics.median(r["starting"] + r["back"] for r in rounds)
    print(f"{name:<22} median of the rounds, start to every phone back: {total:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--async-mode", default="eventlet", choices=["eventlet", "gevent"])
    parser.add_argument("--limit", type=int, default=900, help="seconds the whole run may take")
    add_deflate_option(parser)
    args = parser.parse_args()
    # A deployed server starts from its bytecode cache; a test machine may forbid writing it.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    raise_open_files(4 * args.phones + 1000)
    stop_on_sigterm()
    folder = Path(tempfile.mkdtemp(prefix="bench-restart-"))
    print(f"Exit Now: {describe(args.repo.resolve())} under {args.async_mode}")
    print(f"load average at the start: {load_average()}")
    servers, phones = [], None
    with time_limit(args.limit):
        try:
            project = Restarting(args.repo.resolve(), folder, args.phones, args.async_mode)
            servers.append(project)  # stopped below however its start ends
            project.start()
            servers.append(RestartingFloor(folder, args.async_mode))
            phones = Phones(args.processes, args.deflate)
            for server in servers:  # a warm-up round each, not counted
                one_round(phones, server, args.phones)
            rounds: dict[str, list[dict]] = {server.name: [] for server in servers}
            for _ in range(args.rounds):  # alternating, so both meet the same machine
                for server in servers:
                    rounds[server.name].append(one_round(phones, server, args.phones))
        finally:
            if phones is not None:
                phones.stop()
            for server in servers:
                server.stop()
            shutil.rmtree(folder, ignore_errors=True)
    print(
        f"\nN = {args.phones} phones back at once after each restart, {args.processes} client "
        f"processes; load average at the end: {load_average()}"
    )
    print(
        f"{'server':<22} {'round':>5} {'start s':>9} {'back s':>9} {'all s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'CPU ms/ph':>9}"
    )
    for name, figures in rounds.items():
        print_rounds(name, figures, args.phones)
    ours, floor = (statistics.median(r["back"] for r in rounds[s.name]) for s in servers)
    if ours < floor:
        print("NOTE: Exit Now's phones came back sooner than the floor's: noise, or the clients")


if __name__ == "__main__":
    main()
