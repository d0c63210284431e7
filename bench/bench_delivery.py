"""Alarm delivery latency: from the duty manager's POST to each staff phone receiving
`incident.started`, beside the framework's floor (a bare Flask-SocketIO server, `floor_server.py`,
emitting one message of the same size to the same number of clients) and beside Node socket.io
(`node_reference/server.js`, the same bare server in another stack).

    python -m bench.bench_delivery [--clients 100 1000] [--rounds 5] [--processes 4]
                                   [--async-mode eventlet|gevent] [--repo PATH] [--postgresql]
                                   [--deflate]

The three servers run at once, each with its own N connected clients, and the rounds alternate
(Node, floor, project, Node, ...), so all three meet the same machine; each has one warm-up
round first, not counted. `--async-mode` runs the project (EXITNOW_ASYNC_MODE) and the floor
under eventlet (the default) or gevent. The clients are as light as a Socket.IO client can be
(the Engine.IO v4 / Socket.IO v5 text protocol over aiohttp websockets on uvloop, in worker
processes): they answer pings and stamp the arrival of any message that carries
`incident.started`, nothing else. Printed per N: each server's median, p99 and max, its frame's
bytes and CPU per round, the ratios project/floor and project/Node, against the issue's targets
(p99 at N = 100 within 1.1x the floor, at N = 1000 within 1.5x Node). The floor does strictly
less work than the project (no log, no fsync, no audiences), so it must come out faster; a run
in which it does not is measuring its clients, and the script says so. Node is another stack,
not such a floor.

`--deflate`: the clients offer permessage-deflate as Chromium's do (harness.bench.add_deflate_option;
Node socket.io leaves it off by default). Printed too: each server's resident memory with the
clients connected.

`--postgresql` adds a fourth server to the same rounds: the project on PostgreSQL as
deploy/README.md runs it, durable with a synchronous standby (bench_crowd's), row `exit-now-pg`
with its own ratio to the project on SQLite.

Needs Node with `npm ci` in bench/node_reference/. Everything runs on 127.0.0.1; every process
it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.profiled import print_top, start_profiled
from harness import REPO, free_port
from harness.bench import (
    add_deflate_option,
    cpu_seconds,
    describe,
    open_socket,
    percentile,
    raise_open_files,
    read_messages,
    replicated_postgres,
    resident_mb,
    server_of,
    wait_for_health,
)

CONNECT_TIMEOUT = 120
ROUND_TIMEOUT = 20
CONNECT_CONCURRENCY = 50  # per process
SETTLE_SECONDS = 1.0  # between rounds, so the all-clear's frames are gone before the next alarm
ALARM = "incident.started"


# --- the clients: N light sockets per process (harness.bench.open_socket) -----------------------------


def client_process(url: str, auth: dict, count: int, deflate: bool, commands, results) -> None:
    import uvloop

    uvloop.run(run_clients(url, auth, count, deflate, commands, results))


async def run_clients(url: str, auth: dict, count: int, deflate: bool, commands, results) -> None:
    import aiohttp

    stamps: list[int] = []
    sizes: list[int] = []
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:

        def on_message(text: str) -> None:
            if text.startswith('42["event') and ALARM in text:
                stamps.append(time.time_ns())
                sizes.append(len(text))

        async def connect():
            async with limit:
                ws = await open_socket(http, url, auth, deflate=deflate)
            return asyncio.create_task(read_messages(ws, on_message))

        readers = await asyncio.gather(*(connect() for _ in range(count)))
        results.put(("connected", count))
        loop = asyncio.get_running_loop()
        while await loop.run_in_executor(None, commands.get) != "stop":  # "collect"
            results.put(("times", stamps[:], sizes[:]))
            stamps.clear()
            sizes.clear()
        for reader in readers:
            reader.cancel()


class Crowd:
    """N connected clients of one server, spread over worker processes; `deflate`: each
    offers permessage-deflate, as Chromium does."""

    def __init__(self, url: str, auth: dict, clients: int, processes: int, deflate: bool = False):
        self.results = multiprocessing.Queue()
        shares = [clients // processes + (i < clients % processes) for i in range(processes)]
        self.commands = [multiprocessing.Queue() for share in shares if share]
        self.workers = [
            multiprocessing.Process(
                target=client_process,
                args=(url, auth, share, deflate, queue, self.results),
                daemon=True,
            )
            for share, queue in zip([s for s in shares if s], self.commands, strict=True)
        ]
        for worker in self.workers:
            worker.start()
        connected, deadline = 0, time.monotonic() + CONNECT_TIMEOUT
        while connected < clients:
            _, count = self.results.get(timeout=max(1, deadline - time.monotonic()))
            connected += count

    def collect(self) -> tuple[list[int], list[int]]:
        for queue in self.commands:
            queue.put("collect")
        stamps, sizes = [], []
        for _ in self.workers:
            _, more_stamps, more_sizes = self.results.get(timeout=ROUND_TIMEOUT)
            stamps += more_stamps
            sizes += more_sizes
        return stamps, sizes

    def stop(self) -> None:
        for queue in self.commands:
            queue.put("stop")
        for worker in self.workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()


# --- the three servers ---------------------------------------------------------------------------

NODE_REFERENCE = REPO / "bench" / "node_reference"
NODE = shutil.which("node") or "node"
PROFILED = REPO / "bench" / "profiled.py"


class Project:
    """Exit Now of one checkout on a fresh database, in `async_mode`: a staff token for the
    clients, a duty manager's token for the trigger."""

    def __init__(
        self,
        repo: Path,
        folder: Path,
        async_mode: str,
        profile: Path | None = None,
        database_url: str | None = None,
    ):
        self.name = "exit-now-pg" if database_url else "exit-now"
        self.server = server_of(repo, folder, database_url)
        self.server.env["EXITNOW_ASYNC_MODE"] = async_mode
        self.staff = self.server.token("staff", "bench phone")
        self.manager = self.server.token("duty_manager", "bench manager")
        self.profile_file = profile and profile / f"{self.name}.prof"
        if self.profile_file:
            start_profiled(self.server, repo, self.profile_file)
        else:
            self.server.start()
        self.url, self.pid = self.server.url, self.server.process.pid
        self.auth = {"token": self.staff}

    def fire(self) -> None:
        started = self.server.post(
            "/api/sites/demo/incidents", self.manager, {"kind": "fire", "drill": True}
        )
        started.raise_for_status()

    def reset(self) -> None:
        self.server.post(
            "/api/sites/demo/incidents/current/all-clear", self.manager, {"reason": "drill_over"}
        ).raise_for_status()

    def stop(self) -> None:
        self.server.stop()


class Floor:
    """The bare Flask-SocketIO server in `async_mode`, emitting a message of `payload_bytes`
    to everyone."""

    name = "floor"

    def __init__(self, payload_bytes: int, async_mode: str, profile: Path | None = None):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        script = REPO / "bench" / "floor_server.py"
        self.profile_file = profile and profile / f"{self.name}.prof"
        wrapper = [str(PROFILED), str(self.profile_file)] if self.profile_file else []
        self.process = subprocess.Popen(
            [sys.executable, *wrapper, str(script), str(port), str(payload_bytes), async_mode]
        )
        self.pid, self.auth = self.process.pid, {}
        wait_for_health(self.url, self.process, "the floor server")

    def fire(self) -> None:
        requests.post(self.url + "/fire", timeout=30).raise_for_status()

    def reset(self) -> None:
        requests.post(self.url + "/collect", timeout=30).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class Node:
    """The bare Node socket.io server (one process), emitting a message of `payload_bytes`
    to everyone."""

    name = "node"
    profile_file = None

    def __init__(self, payload_bytes: int):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [NODE, str(NODE_REFERENCE / "server.js"), str(port), str(payload_bytes)],
            cwd=NODE_REFERENCE,
            stdout=subprocess.DEVNULL,
        )
        self.pid, self.auth = self.process.pid, {}
        wait_for_health(self.url, self.process, "the node reference")

    def fire(self) -> None:
        requests.post(self.url + "/fire", timeout=30).raise_for_status()

    def reset(self) -> None:
        pass  # nothing to end: the reference keeps no incident

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def one_round(server, crowd: Crowd, clients: int, profile: bool = False) -> dict:
    """Trigger once; wait until every client has the alarm; latencies in ms and the frames.
    `profile`: the server's profiler (bench/profiled.py) runs for this round only."""
    profile = profile and server.profile_file is not None
    if profile:
        os.kill(server.pid, signal.SIGUSR1)
        time.sleep(0.05)  # the signal is handled before the trigger
    cpu_before = cpu_seconds(server.pid)
    started = time.time_ns()
    server.fire()
    deadline = time.monotonic() + ROUND_TIMEOUT
    stamps: list[int] = []
    sizes: list[int] = []
    while len(stamps) < clients and time.monotonic() < deadline:
        time.sleep(0.1)
        more_stamps, more_sizes = crowd.collect()
        stamps += more_stamps
        sizes += more_sizes
    cpu = cpu_seconds(server.pid) - cpu_before
    if profile:
        os.kill(server.pid, signal.SIGUSR2)  # stops and writes the profile
    server.reset()
    return {"ms": [(t - started) / 1e6 for t in stamps], "bytes": sizes, "cpu": cpu}


def project_frame_bytes(repo: Path, async_mode: str) -> int:
    """How long the project's `incident.started` frame is, measured on a throwaway server."""
    with tempfile.TemporaryDirectory() as folder:
        project = Project(repo, Path(folder), async_mode)
        crowd = None
        try:
            crowd = Crowd(project.url, project.auth, 1, 1)
            sizes = one_round(project, crowd, 1)["bytes"]
        finally:
            if crowd:
                crowd.stop()
            project.stop()
    if not sizes:
        raise RuntimeError("the project's client never saw incident.started")
    return sizes[0]


# --- the table ---------------------------------------------------------------------------------


TARGETS = {100: ("floor", 1.1), 1000: ("node", 1.5)}  # the issue's: p99 within this of that


def print_rows(clients: int, rounds: dict[str, list[dict]]) -> None:
    """Per server: median, p99 and max of every receipt of every round, and the median of the
    rounds' own p99s (one round stalled by a neighbour on the shared machine moves the p99 of
    all receipts, not this); the project's ratios to the floor and to Node."""
    figures = {}
    for name, runs in rounds.items():
        ms = [value for run in runs for value in run["ms"]]
        round_p99 = statistics.median(percentile(run["ms"], 0.99) for run in runs)
        figures[name] = (
            percentile(ms, 0.5),
            percentile(ms, 0.99),
            max(ms, default=float("nan")),
            round_p99,
        )
        frame = max((size for run in runs for size in run["bytes"]), default=0)
        cpu = sum(run["cpu"] for run in runs) / len(runs)
        print(
            f"{name:<11} {clients:>5} {len(ms):>9} "
            + " ".join(f"{value:>8.1f}" for value in figures[name])
            + f" {frame:>7} {cpu * 1000:>8.0f}"
        )
    ours = figures["exit-now"]
    for other in ("floor", "node"):
        ratios = [a / b for a, b in zip(ours, figures[other], strict=True)]
        label = f"/{other}"
        print(f"{label:<11} {clients:>5} {'':>9} " + " ".join(f"{r:>8.2f}" for r in ratios))
    if "exit-now-pg" in figures:
        ratios = [a / b for a, b in zip(figures["exit-now-pg"], ours, strict=True)]
        print(f"{'pg/sqlite':<11} {clients:>5} {'':>9} " + " ".join(f"{r:>8.2f}" for r in ratios))
    for name, runs in rounds.items():
        each = " ".join(f"{percentile(run['ms'], 0.99):.0f}" for run in runs)
        print(f"  {name} p99 of each round, ms: {each}")
    if clients in TARGETS:
        other, target = TARGETS[clients]
        pooled, typical = ours[1] / figures[other][1], ours[3] / figures[other][3]
        verdict = "within" if max(pooled, typical) <= target else "above"
        print(
            f"  p99 project/{other} {pooled:.2f} (median round's p99: {typical:.2f}): {verdict} "
            f"the target of {target}x at N = {clients}"
        )
    beaten = [
        what
        for what, index in (("of all receipts", 1), ("of the median round", 3))
        if ours[index] < figures["floor"][index]
    ]
    if beaten:
        print(
            f"  the project's p99 ({' and '.join(beaten)}) beat the floor: these figures measure "
            "the clients, not servers"
        )


def measure(
    repo: Path,
    clients: int,
    rounds: int,
    processes: int,
    frame_bytes: int,
    async_mode: str,
    profile: Path | None,
    postgres=None,
    deflate: bool = False,
) -> None:
    if profile:
        profile = profile.resolve() / f"n{clients}-{async_mode}"
        profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        servers: list = []
        crowds: list[Crowd] = []
        try:
            servers.append(Node(frame_bytes))
            servers.append(Floor(frame_bytes, async_mode, profile))
            servers.append(Project(repo, Path(folder), async_mode, profile))
            if postgres:
                name = f"delivery_{clients}_{uuid.uuid4().hex[:8]}"
                postgres.primary.create_database(name)
                on_postgres = Project(
                    repo, Path(folder) / "pg", async_mode, None, postgres.url(name)
                )
                servers.append(on_postgres)
            crowds = [Crowd(s.url, s.auth, clients, processes, deflate) for s in servers]
            seen: dict[str, list[dict]] = {s.name: [] for s in servers}
            load_before = os.getloadavg()[0]
            for server, crowd in zip(servers, crowds, strict=True):
                one_round(server, crowd, clients)  # a warm-up: first emits, lazy imports
                time.sleep(SETTLE_SECONDS)
            resident = {server.name: resident_mb(server.pid) for server in servers}
            for _ in range(rounds):
                for server, crowd in zip(servers, crowds, strict=True):
                    seen[server.name].append(one_round(server, crowd, clients, bool(profile)))
                    time.sleep(SETTLE_SECONDS)
            print_rows(clients, seen)
            print(
                f"  resident MB with {clients} clients connected: "
                + ", ".join(f"{name} {mb:.0f}" for name, mb in resident.items())
            )
            print(
                f"  load average (1 min) {load_before:.2f} before the rounds, "
                f"{os.getloadavg()[0]:.2f} after"
            )
        finally:
            for crowd in crowds:
                crowd.stop()
            for server in servers:
                server.stop()
    if profile:
        print_profiles(servers, rounds)


def print_profiles(servers: list, rounds: int) -> None:
    for server in servers:
        if server.profile_file is not None and server.profile_file.exists():
            print_top(server.profile_file, server.name, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument(
        "--async-mode",
        choices=("eventlet", "gevent"),
        default="eventlet",
        help="the project's (EXITNOW_ASYNC_MODE) and the floor's",
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose server runs")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the project and the floor under cProfile during the rounds (bench/profiled.py); "
        "print each one's top functions and keep the .prof files in DIR",
    )
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="also the project on PostgreSQL with a synchronous standby, in the same rounds",
    )
    add_deflate_option(parser)
    args = parser.parse_args()
    if not (NODE_REFERENCE / "node_modules" / "socket.io").is_dir():
        sys.exit(f"the node reference is not installed: cd {NODE_REFERENCE} && npm ci")
    raise_open_files()
    frame_bytes = project_frame_bytes(args.repo, args.async_mode)
    # The floor's and Node's frames carry padding to the same length as the project's.
    padding = max(
        0, frame_bytes - len('42["event",{"seq":1,"type":"incident.started","padding":""}]')
    )
    print(
        f"delivery of incident.started, {args.rounds} rounds each, alternating, clients in "
        f"{args.processes} processes per server (aiohttp on uvloop), 127.0.0.1, 2 cores; "
        f"project and floor under {args.async_mode}; server {describe(args.repo)}; "
        f"node {NODE}"
    )
    print(
        "ms from the trigger POST to each client's receipt (rnd p99: the median of the rounds' "
        "p99s); cpu ms: the server's, per round"
    )
    print(
        f"{'server':<11} {'N':>5} {'received':>9} {'median':>8} {'p99':>8} {'max':>8} "
        f"{'rnd p99':>8} {'bytes':>7} {'cpu ms':>8}"
    )
    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(replicated_postgres()) if args.postgresql else None
        for clients in args.clients:
            measure(
                args.repo,
                clients,
                args.rounds,
                args.processes,
                padding,
                args.async_mode,
                args.profile,
                postgres,
                args.deflate,
            )


if __name__ == "__main__":
    main()
