"""What the benchmarks share: the server of one checkout on a fresh database, the open-files
limit, the server's CPU time and percentiles, and the light phones (the Socket.IO v5 text
protocol over aiohttp websockets, POSTs written by hand on kept-alive connections)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import resource
import subprocess
import time
from pathlib import Path

import requests

from harness import LiveServer, ReplicatedPostgres, started_in_tmp


def raise_open_files(wanted: int = 0) -> int:
    """A thousand sockets need more than the default 1024 descriptors: the soft limit up to
    the hard one, or to `wanted` when that is higher and the process may raise its hard
    limit (CAP_SYS_RESOURCE). The processes it starts inherit the limit; returns it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if wanted > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            pass  # not allowed: as high as the hard limit goes
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def server_of(repo: Path, folder: Path, database_url: str | None = None) -> LiveServer:
    """`python -m server` of the checkout `repo` (cwd and PYTHONPATH) on a new database in
    `folder`, or on the PostgreSQL database `database_url`, with the demo site seeded by that
    checkout's `flask seed-demo`; not started."""
    path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
    env = {"PYTHONPATH": path, **({"EXITNOW_DATABASE_URL": database_url} if database_url else {})}
    server = LiveServer(folder / "bench.db", env=env, cwd=repo)
    seeded = server.cli("seed-demo")
    if seeded.returncode != 0:
        raise RuntimeError(f"seed-demo failed: {seeded.stderr[-2000:]}")
    return server


def describe(repo: Path) -> str:
    """The checkout as `path (commit)`, for the figures' heading; a work tree with uncommitted
    changes to tracked files says so, since those changes are what runs."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "no git"
    changed = git("status", "--porcelain", "--untracked-files=no")
    return f"{repo} ({commit}{' + uncommitted changes' if changed else ''})"


def add_deflate_option(parser) -> None:
    """`--deflate`: the benchmark's phones offer permessage-deflate (`open_socket`'s
    `deflate`), as Chromium does on every WebSocket. Exit Now declines it; bare
    Flask-SocketIO accepts it and compresses each frame per phone, so it is then no floor."""
    parser.add_argument(
        "--deflate",
        action="store_true",
        help="the phones offer permessage-deflate, as Chromium does (the floor then compresses)",
    )


def resident_mb(pid: int) -> float:
    """The process's resident memory now, in MB (/proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (all its threads), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.5 is the median, 0.99 the p99); nan if empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def log_problems(server: LiveServer, lines: int = 30) -> list[str]:
    """The server log's error lines (tracebacks, ERROR, exceptions), the last `lines` of them."""
    text = server.output.read_text(errors="replace") if server.output.exists() else ""
    words = ("Traceback", "ERROR", "Error", "Exception", "exception")
    return [line for line in text.splitlines() if any(w in line for w in words)][-lines:]


# --- the lightest honest phone: the Socket.IO v5 text protocol over an aiohttp websocket ------
# A thousand python-socketio clients on two cores spend more CPU than the server they measure;
# this one does what a phone's socket must (handshake, join "/", answer pings) and no more.


async def open_socket(
    http, url: str, auth: dict | None = None, headers: dict | None = None, deflate: bool = False
):
    """A websocket joined to the namespace "/" (with `auth`, or the session cookie in
    `headers`); raises if the server refuses. `deflate`: it offers permessage-deflate, as
    Chromium does on every WebSocket."""
    ws = await http.ws_connect(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        headers=headers or {},
        compress=15 if deflate else 0,
    )
    opened = await ws.receive_str()  # "0{...}": the Engine.IO handshake
    if not opened.startswith("0"):
        raise RuntimeError(f"no Engine.IO handshake: {opened[:80]}")
    await ws.send_str("40" + json.dumps(auth or {}))
    joined = await ws.receive_str()
    if not joined.startswith("40"):
        raise RuntimeError(f"refused: {joined[:200]}")
    return ws


async def read_messages(ws, on_message, on_ack=None) -> None:
    """Answer pings; hand every Socket.IO event frame's text (`42[name, data]`) to
    `on_message`, and each acknowledgement's (`43<id>[answer]`) to `on_ack`; return when the
    socket closes."""
    import aiohttp

    async for frame in ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            break
        if frame.data == "2":  # Engine.IO ping
            await ws.send_str("3")
        elif frame.data.startswith("42"):
            on_message(frame.data)
        elif on_ack is not None and frame.data.startswith("43"):
            on_ack(frame.data)


class Connection:
    """One phone's own HTTP/1.1 connection (kept alive, as a browser keeps it), speaking only
    what its POSTs need: a request written in one piece, an answer read by Content-Length.
    Opened at the first POST, as a phone that was idle opens one when the alarm comes."""

    def __init__(self, url: str):
        address = url.split("://", 1)[1]
        self.host, _, port = address.partition(":")
        self.port = int(port or 80)
        self.reader = self.writer = None

    async def post(self, path: str, headers: dict, body: bytes = b"{}") -> int:
        """POST `body` as JSON; return the status code (the answer's body is read, not kept)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        self.writer.write("\r\n".join(lines).encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def demo_services(folder: str, database_url: str | None = None):
    """The demo site in an app of this process (threading mode, no server): for a benchmark
    of one part of the server, such as the push sender or readiness. On the SQLite file in
    `folder`, or on the PostgreSQL database at `database_url`."""
    from server import create_app, demo
    from server.basics.settings import Settings

    settings = Settings(
        db_path=f"{folder}/bench.db",
        database_url=database_url,
        public_dir=f"{folder}/public",
        async_mode="threading",
        secret_key="bench",
    )
    services = create_app(settings).extensions["exitnow"]
    demo.seed(services)
    return services


def answers_of(processes: list, results, what: str, timeout: float) -> list[tuple]:
    """One answer from each client process on the `results` queue, within `timeout`; a
    process that died or did not answer in time stops the bench, naming `what` it was told."""
    answers, deadline = [], time.monotonic() + timeout
    while len(answers) < len(processes):
        left = deadline - time.monotonic()
        if left <= 0 or not all(p.is_alive() for p in processes):
            raise RuntimeError(f"{what}: {len(answers)} client processes answered")
        with contextlib.suppress(queue.Empty):
            answers.append(results.get(timeout=min(1.0, left)))
    return answers


def wait_for_health(url: str, process: subprocess.Popen, what: str) -> None:
    """Until `process` answers /healthz at `url`; RuntimeError if it exits or never does."""
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited")
        try:
            requests.get(url + "/healthz", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


def replicated_postgres():
    """A durable primary and synchronous standby for the run (as deploy/README.md runs them)."""
    return started_in_tmp(ReplicatedPostgres, "exitnow-bench-postgres-")
