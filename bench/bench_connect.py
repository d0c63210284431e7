"""The server's CPU to accept one phone's Socket.IO connection, beside the framework's floor
(a bare Flask-SocketIO server under eventlet, bench/floor_server.py) and a bare Node socket.io
server (bench/node_reference/, `npm ci` there first), all three running at once.

    python -m bench.bench_connect [--clients 1000] [--rounds 5] [--processes 2]
                                  [--repo PATH] [--profile STATS] [--message-queue]
                                  [--async-mode eventlet|gevent] [--limit 600] [--deflate]

Each round, the same client processes (the light phones of harness/bench.py: the Socket.IO v5
text protocol over aiohttp websockets on uvloop, 50 handshakes at a time per process) open N
sockets to one server, then close them; the rounds go round the servers in turn, after one
warm-up round each. A phone of Exit Now connects as the app does: its own staff token, the
`last_seq` it saw (the site's head: nothing missed), its app version and notification
permission; it counts as accepted when its `state` has come. A phone of the floor and of Node
is accepted at the namespace's CONNECT answer (they send nothing more). The figure is the
server process's CPU time (/proc/PID/stat, user + system) from just before the round's first
handshake to the last phone accepted, divided by N; the disconnects are not in it (each round
waits for the server to go quiet before the next begins). Printed per server: the median and
p99 of the rounds' figures, each phone's ms to be accepted (median, p99), and the ratios.

`--async-mode gevent` runs Exit Now and the floor under gevent.
`--deflate`: the phones offer permessage-deflate as Chromium's do (harness.bench.add_deflate_option).
`--message-queue` gives Exit Now a Redis (Debian's redis-server, started here) as the production
recipe's workers have one: what a connecting phone is sent could then go through it.

`--profile STATS` runs Exit Now under cProfile (bench/profiled.py) for its measured
rounds and writes the statistics there (its CPU figures then include the profiler's cost).

Everything runs on 127.0.0.1; every process it starts is stopped by its id at the end, on an
error or Ctrl-C too, and the run stops after --limit seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from harness import REPO, LiveServer, RedisServer, free_port, prepare_database
from harness.bench import (
    add_deflate_option,
    answers_of,
    cpu_seconds,
    describe,
    open_socket,
    percentile,
    raise_open_files,
)

CONCURRENCY = 50  # handshakes at once per client process
OPEN_TIMEOUT = 300
NODE_REFERENCE = REPO / "bench" / "node_reference"


# --- the phones: client processes that open, keep (answering pings) and close sockets -----------


def client_process(commands, results, deflate: bool) -> None:
    import uvloop

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process stops it
    uvloop.run(run_clients(commands, results, deflate))


async def run_clients(commands, results, deflate: bool) -> None:
    """Obey the main process: ("open", url, auths, wait_for_state), ("frames",): the frames
    received since the last ask, by server URL and name, ("close",), ("stop",). `deflate`:
    each socket offers permessage-deflate, as Chromium does."""
    import aiohttp

    loop = asyncio.get_running_loop()
    sockets: list = []
    readers: list[asyncio.Task] = []
    frames: dict[str, dict[str, int]] = {}  # server URL -> frame name -> count
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def keep(ws, url: str) -> None:
            """Answer pings and count every frame by its name ("ping" for Engine.IO's)."""
            counts = frames.setdefault(url, {})
            async for frame in ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                if frame.data == "2":
                    counts["ping"] = counts.get("ping", 0) + 1
                    await ws.send_str("3")
                elif frame.data.startswith('42["'):
                    name = frame.data[4 : frame.data.index('"', 4)]
                    counts[name] = counts.get(name, 0) + 1

        async def open_one(url: str, auth: dict, wait_for_state: bool, limit) -> float:
            async with limit:
                began = time.perf_counter()
                ws = await open_socket(http, url, auth, deflate=deflate)
                while wait_for_state:
                    frame = await ws.receive_str()
                    if frame == "2":
                        await ws.send_str("3")
                    elif frame.startswith('42["state"'):
                        break
                took = time.perf_counter() - began
            sockets.append(ws)
            readers.append(asyncio.create_task(keep(ws, url)))
            return took

        while True:
            command = await loop.run_in_executor(None, commands.get)
            if command[0] == "stop":
                break
            if command[0] == "open":
                _, url, auths, wait_for_state = command
                limit = asyncio.Semaphore(CONCURRENCY)
                took = await asyncio.wait_for(
                    asyncio.gather(*(open_one(url, a, wait_for_state, limit) for a in auths)),
                    OPEN_TIMEOUT,
                )
                results.put(("opened", took))
            elif command[0] == "frames":
                closed = sum(reader.done() for reader in readers)
                results.put(("frames", {url: dict(c) for url, c in frames.items()}, closed))
                for counts in frames.values():
                    counts.clear()
            else:  # "close"
                for reader in readers:
                    reader.cancel()
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
                sockets.clear()
                readers.clear()
                results.put(("closed",))


class Phones:
    """Client processes; each command goes to all of them and waits for every answer."""

    def __init__(self, processes: int, deflate: bool = False):
        self.results = multiprocessing.Queue()
        self.commands = [multiprocessing.Queue() for _ in range(processes)]
        self.processes = [
            multiprocessing.Process(
                target=client_process, args=(c, self.results, deflate), daemon=True
            )
            for c in self.commands
        ]
        for process in self.processes:
            process.start()

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _tell(self, commands: list[tuple], timeout: float = OPEN_TIMEOUT + 30) -> list[tuple]:
        for queue_, command in zip(self.commands, commands, strict=True):
            queue_.put(command)
        return answers_of(self.processes, self.results, commands[0][0], timeout)

    def open(self, target, count: int) -> list[float]:
        """`count` sockets to `target`, spread over the processes; each one's seconds."""
        auths = target.auths(count)
        shares = [auths[i :: len(self.processes)] for i in range(len(self.processes))]
        answers = self._tell([("open", target.url, share, target.sends_state) for share in shares])
        return [took for answer in answers for took in answer[1]]

    def frames(self) -> tuple[dict[str, dict[str, int]], int]:
        """Frames received since the last ask, by server URL and name; sockets closed by now."""
        total: dict[str, dict[str, int]] = {}
        closed = 0
        for _, by_url, lost in self._tell([("frames",)] * len(self.processes), 60):
            for url, counts in by_url.items():
                mine = total.setdefault(url, {})
                for name, count in counts.items():
                    mine[name] = mine.get(name, 0) + count
            closed += lost
        return total, closed

    def close(self) -> None:
        self._tell([("close",)] * len(self.processes))

    def stop(self) -> None:
        for commands in self.commands:
            commands.put(("stop",))
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


# --- the servers -------------------------------------------------------------------------------


class Server:
    """A server process of ours on 127.0.0.1: its URL, its pid and how its phones connect."""

    name = ""
    sends_state = False
    ping_interval = 25  # python-engineio's and Node socket.io's default, in seconds

    def __init__(self, args: list[str], folder: Path, port: int, cwd: Path = REPO, env=None):
        self.url = f"http://127.0.0.1:{port}"
        self.log = folder / f"{self.name}.log"
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            time.sleep(0.05)  # as harness.LiveServer asks, so that starts compare
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def auths(self, count: int) -> list[dict]:
        return [{}] * count

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class Project(Server):
    """`python -m server` of the checkout `repo` (under eventlet, as deployed) on a fresh
    database with the demo site and `people` staff tokens."""

    name = "exit-now"
    sends_state = True
    ping_interval = 10  # server/app.py: a phone notices a dead connection within seconds

    def __init__(
        self,
        repo: Path,
        folder: Path,
        people: int,
        profile: Path | None,
        queue: str | None,
        async_mode: str,
    ):
        db_path = folder / "bench.db"
        self.tokens = prepare_database(db_path, {"staff": people})["staff"]
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            self.head = db.execute("SELECT MAX(seq) FROM events WHERE site = 'demo'").fetchone()[0]
        path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
        env = {"PYTHONPATH": path, "EXITNOW_ASYNC_MODE": async_mode}
        self.name = f"exit-now ({async_mode})" if async_mode != "eventlet" else self.name
        if queue:
            env["EXITNOW_MESSAGE_QUEUE"] = queue
        live = LiveServer(db_path, env=env)
        args = [sys.executable, "-m", "server"]
        if profile is not None:
            args = [
                sys.executable,
                str(REPO / "bench" / "profiled.py"),
                str(profile),
                "-m",
                "server",
            ]
        super().__init__(args, folder, live.port, cwd=repo, env=live.env)

    def auths(self, count: int) -> list[dict]:
        report = {"last_seq": self.head, "app_version": "bench", "notifications": "granted"}
        return [{"token": self.tokens[i % len(self.tokens)], **report} for i in range(count)]


class Floor(Server):
    name = "bare Flask-SocketIO"

    def __init__(self, folder: Path, async_mode: str):
        port = free_port()
        floor = REPO / "bench" / "floor_server.py"
        if async_mode != "eventlet":
            self.name = f"{self.name} ({async_mode})"
        super().__init__([sys.executable, str(floor), str(port), "0", async_mode], folder, port)


class Node(Server):
    name = "Node socket.io"

    def __init__(self, folder: Path):
        node = shutil.which("node")
        if node is None or not (NODE_REFERENCE / "node_modules").exists():
            raise RuntimeError("needs node and `npm ci` in bench/node_reference")
        port = free_port()
        super().__init__([node, str(NODE_REFERENCE / "server.js"), str(port), "0"], folder, port)


def start_servers(
    repo: Path,
    folder: Path,
    people: int,
    profile: Path | None,
    queue: str | None = None,
    async_mode: str = "eventlet",
) -> list[Server]:
    servers: list[Server] = []
    try:
        servers.append(Project(repo, folder, people, profile, queue, async_mode))
        servers.append(Floor(folder, async_mode))
        servers.append(Node(folder))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


def wait_quiet(pid: int, timeout: float = 15.0) -> None:
    """Until the process spends under 20 ms of CPU in half a second (or `timeout` passed)."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - before < 0.02:
            return
        before = now


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextlib.contextmanager
def time_limit(seconds: int):
    """SIGALRM after `seconds`: the `finally` blocks stop what was started."""

    def expired(*_):
        raise TimeoutError(f"the benchmark ran over its {seconds} s limit")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def stop_on_sigterm() -> None:
    def terminated(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)


# --- the rounds ---------------------------------------------------------------------------------


def connect_round(phones: Phones, server: Server, count: int) -> tuple[float, list[float]]:
    """CPU ms per accepted connection in one round, and each connection's seconds."""
    wait_quiet(server.pid)
    before = cpu_seconds(server.pid)
    took = phones.open(server, count)
    per_connection = (cpu_seconds(server.pid) - before) / count * 1000
    phones.close()
    return per_connection, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--profile", type=Path, help="cProfile Exit Now's measured rounds here")
    parser.add_argument("--message-queue", action="store_true", help="Exit Now with a Redis")
    parser.add_argument("--async-mode", default="eventlet", choices=["eventlet", "gevent"])
    parser.add_argument("--limit", type=int, default=600, help="seconds the whole run may take")
    add_deflate_option(parser)
    args = parser.parse_args()
    raise_open_files(4 * args.clients + 1000)
    stop_on_sigterm()
    folder = Path(tempfile.mkdtemp(prefix="bench-connect-"))
    print(f"Exit Now: {describe(args.repo.resolve())}")
    print(f"load average at the start: {load_average()}")
    servers, phones, redis = [], None, None
    cpu: dict[str, list[float]] = {}
    took: dict[str, list[float]] = {}
    with time_limit(args.limit):
        try:
            redis_url = None
            if args.message_queue:
                redis = RedisServer(folder).start()
                redis_url = redis.url
            repo = args.repo.resolve()
            servers = start_servers(
                repo, folder, args.clients, args.profile, redis_url, args.async_mode
            )
            phones = Phones(args.processes, args.deflate)
            clients_before = sum(map(cpu_seconds, phones.pids))
            for number in range(args.rounds + 1):  # the first is the warm-up
                for server in servers:
                    if number == 1 and args.profile and isinstance(server, Project):
                        os.kill(server.pid, signal.SIGUSR1)
                    per_connection, seconds = connect_round(phones, server, args.clients)
                    if number > 0:
                        cpu.setdefault(server.name, []).append(per_connection)
                        took.setdefault(server.name, []).extend(seconds)
            clients_cpu = sum(map(cpu_seconds, phones.pids)) - clients_before
            if args.profile:
                os.kill(servers[0].pid, signal.SIGUSR2)
                wait_until_written(args.profile)
        finally:
            if phones is not None:
                phones.stop()
            for server in servers:
                server.stop()
            if redis is not None:
                redis.stop()
    print(f"load average at the end: {load_average()}")
    print_figures(args, cpu, took, clients_cpu)
    shutil.rmtree(folder, ignore_errors=True)


def wait_until_written(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 0:
            time.sleep(0.5)  # the dump may still be under way
            return
        time.sleep(0.2)


def print_figures(args, cpu: dict, took: dict, clients_cpu: float) -> None:
    print(
        f"\nN = {args.clients} connections a round, {args.rounds} rounds per server (after a "
        f"warm-up), {args.processes} client processes ({clients_cpu:.1f} CPU s in all)"
        + ("; Exit Now with Redis" if args.message_queue else "")
    )
    print(f"{'server':29} CPU ms per connection: p50    p99   | ms to accepted: p50     p99")
    for name, values in cpu.items():
        print(
            f"{name:29} {percentile(values, 0.5):27.3f} {percentile(values, 0.99):6.3f}   |"
            f" {percentile(took[name], 0.5) * 1000:21.1f} {percentile(took[name], 0.99) * 1000:7.1f}"
        )
    project, floor, node = (percentile(cpu[n], 0.5) for n in cpu)
    print(
        f"Exit Now / bare Flask-SocketIO: {project / floor:.2f}x;  Exit Now / Node: {project / node:.2f}x"
    )
    if project < floor:
        print("NOTE: Exit Now came out cheaper than the bare server doing strictly less: noise.")


if __name__ == "__main__":
    main()
