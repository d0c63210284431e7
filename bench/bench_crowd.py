"""The crowd: N enrolled phones answer one alarm as the staff app does, and a duty manager
watches the roll call fill in.

    python -m bench.bench_crowd [--phones 100 300 1000] [--processes 4] [--repo PATH] [--way http|socket]
                                [--async-mode eventlet|gevent] [--logs DIR] [--postgresql]
                                [--deflate]

For each N: a fresh database and a real server (`python -m server`, eventlet or, with
`--async-mode gevent`, gevent: EXITNOW_ASYNC_MODE) of the checkout PATH (default: this one); N people created through `POST /api/sites/demo/setup` and enrolled
through enrollment links and `POST /api/enroll`, as phones are; the phones (Socket.IO sockets
signed in by their session cookie, as light as the protocol allows so that the figures are the
server's: see harness.bench.open_socket) spread over uvloop worker processes; a duty manager's
python-socketio client (bearer token) counting `alarm.delivered` and `alarm.acknowledged`. The manager
starts a drill; each phone, the moment `incident.started` arrives, sends its delivery receipt
and, 0.5 to 3 s later, "got it": as HTTP POSTs (`--way http`) or as the socket's `action` with
an acknowledgement (`--way socket`), the two ways the staff app has. Printed per N: alarm latency, when the manager had every receipt
and every "got it", the receipt's latency, Socket.IO messages per phone, disconnects, the CPU seconds of
the server and of the clients during the round, and the machine's load average; then the same
phones, alarm and answers on the framework's floor (floor_round), and Exit Now's p99 as a
multiple of the floor's. `--logs DIR` keeps each server's log there.
`--postgresql`: the store is PostgreSQL as deploy/README.md runs it, durable, with a synchronous
standby (harness.ReplicatedPostgres, started by the run), a new database for each N.
`--deflate`: the phones offer permessage-deflate as Chromium's do (harness.bench.add_deflate_option).

Everything runs on 127.0.0.1; every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from bench.bench_delivery import Floor
from bench.profiled import print_top, start_profiled
from harness import REPO
from harness.bench import (
    Connection,
    add_deflate_option,
    cpu_seconds,
    describe,
    log_problems,
    open_socket,
    percentile,
    raise_open_files,
    read_messages,
    replicated_postgres,
    server_of,
)

ROUND_TIMEOUT = 30  # seconds after the trigger before the manager's figures say "never"
CONNECT_TIMEOUT = 300
ENROLL_CONCURRENCY = 32
CONNECT_CONCURRENCY = 16  # per process
ALARM = "incident.started"
FLOOR_ALARM_BYTES = 200  # the floor's alarm message: shorter than Exit Now's
FLOOR_ROUND_SECONDS = 4  # the receipts, and every "got it" (0.5 to 3 s after the alarm)
SESSION_COOKIE = "exitnow_session"


# --- messages: `event` carries one event, `events` a list (a redacted range is one item) -------


def events_in(name: str, data) -> list[dict]:
    """The events a Socket.IO message carries, whichever of the two shapes it has."""
    if name == "event" and isinstance(data, dict):
        return [data]
    if name == "events" and isinstance(data, list):
        return data
    return []


# --- set-up through the API, as an admin and the staff app do ---------------------------------


def add_people(server, admin: str, count: int) -> list[int]:
    """Add `count` staff to the demo site through the set-up API; return their staff ids."""
    config = server.get("/api/sites/demo/setup", admin).json()["config"]
    zones = [zone["id"] for zone in config["zones"]]
    config["staff"] += [
        {"name": f"phone {i:04d}", "role": "staff", "home_zone": zones[i % len(zones)]}
        for i in range(count)
    ]
    answer = server.post("/api/sites/demo/setup", admin, {"config": config})
    answer.raise_for_status()
    people = server.get("/api/sites/demo/state", admin).json()["roll_call"]["staff"]
    return sorted(p["staff_id"] for p in people if p["name"].startswith("phone "))


async def enroll_all(url: str, admin: str, staff_ids: list[int]) -> list[tuple[str, str]]:
    """Enroll one phone per person concurrently: [(session cookie, CSRF token), ...]."""
    import aiohttp

    limit = asyncio.Semaphore(ENROLL_CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=ENROLL_CONCURRENCY)
    async with aiohttp.ClientSession(
        url, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:

        async def enroll(staff_id: int) -> tuple[str, str]:
            async with limit:
                return await enroll_one(http, admin, staff_id)

        return await asyncio.gather(*(enroll(staff_id) for staff_id in staff_ids))


async def enroll_one(http, admin: str, staff_id: int) -> tuple[str, str]:
    """An enrollment link made by the admin, used by the phone; then the phone's CSRF token."""
    path = f"/api/sites/demo/staff/{staff_id}/enrollment-links"
    async with http.post(path, json={}, headers={"Authorization": f"Bearer {admin}"}) as answer:
        answer.raise_for_status()
        code = (await answer.json())["code"]
    async with http.post("/api/enroll", json={"code": code}) as answer:
        answer.raise_for_status()
        cookie = answer.cookies[SESSION_COOKIE].value
    async with http.get("/api/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}) as answer:
        answer.raise_for_status()
        return cookie, (await answer.json())["csrf_token"]


# --- phones: one uvloop per worker process, many light sockets (harness.bench.open_socket) in it ------


@dataclass
class Phone:
    """One enrolled phone and what it saw during the round."""

    cookie: str
    csrf: str
    http: Connection  # its own HTTP connection for its POSTs
    connected: bool = False
    armed: bool = False
    messages: int = 0
    alarm_at: int | None = None  # time.time_ns() when incident.started arrived
    receipt_ms: float | None = None
    errors: list[str] = field(default_factory=list)
    dropped_in_round: bool = False
    ws: object = None  # its socket, once connected
    acks: dict = field(default_factory=dict)  # ack id -> the future its answer resolves

    def headers(self) -> dict:
        return {"Cookie": f"{SESSION_COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf}

    def arm(self) -> None:
        self.armed, self.messages, self.alarm_at, self.receipt_ms = True, 0, None, None

    def on_message(self, text: str) -> None:
        """A Socket.IO event frame's text; `incident.started` may come alone or in a batch."""
        self.messages += 1
        if (
            self.alarm_at is None
            and ALARM in text
            and text.startswith(('42["event"', '42["events"'))
        ):
            self.alarm_at = time.time_ns()
            asyncio.get_running_loop().create_task(self.answer_alarm())

    def on_ack(self, text: str) -> None:
        """`43<id>[answer]`: the acknowledgement of an action sent over the socket."""
        digits = len(text) - len(text[2:].lstrip("0123456789"))
        future = self.acks.pop(int(text[2:digits]), None)
        if future is not None and not future.done():
            future.set_result(json.loads(text[digits:])[0])

    async def listen(self, ws) -> None:
        self.ws = ws
        await read_messages(ws, self.on_message, self.on_ack)
        self.connected = False  # the server closed it, or the network did
        self.dropped_in_round = self.armed

    async def answer_alarm(self) -> None:
        """The staff app's automatic receipt at once, then "got it" 0.5 to 3 s later."""
        started = time.perf_counter()
        if WAY == "socket":
            await self.act("record_delivery")
        else:
            await self.post("/api/sites/demo/incidents/current/delivered")
        self.receipt_ms = (time.perf_counter() - started) * 1000
        await asyncio.sleep(random.uniform(0.5, 3))
        if WAY == "socket":
            await self.act("acknowledge")
        else:
            await self.post("/api/sites/demo/incidents/current/acknowledge")

    async def act(self, command: str) -> None:
        """As the staff app sends an action over its open socket: `action` with an
        acknowledgement and an Idempotency-Key."""
        self.next_ack = getattr(self, "next_ack", 0) + 1
        answer = asyncio.get_running_loop().create_future()
        self.acks[self.next_ack] = answer
        action = {"command": command, "params": {}, "idempotency_key": str(uuid.uuid4())}
        try:
            await self.ws.send_str(f"42{self.next_ack}" + json.dumps(["action", action]))
            result = await asyncio.wait_for(answer, 60)
            if not result.get("ok"):
                self.errors.append(f"{command} {result.get('error', {}).get('status')}")
        except Exception as error:  # a dropped socket or no answer is a figure, not a crash
            self.errors.append(f"{command} {type(error).__name__}")

    async def post(self, path: str) -> None:
        """As the staff app's outbox sends an action: with an Idempotency-Key."""
        headers = {**self.headers(), "Idempotency-Key": str(uuid.uuid4())}
        try:
            status = await self.http.post(path, headers)
            if status >= 300:
                self.errors.append(f"{path.rsplit('/', 1)[1]} {status}")
        except Exception as error:  # a refused or reset connection is a figure, not a crash
            self.errors.append(f"{path.rsplit('/', 1)[1]} {type(error).__name__}")


WAY = "http"  # how the phones send their answers: "http" (POST) or "socket" (`action`)
DEFLATE = False  # whether the phones' sockets offer permessage-deflate, as Chromium's do
HTTP = None  # the worker's aiohttp session, for the phones' websockets (one per process)


def phone_process(url: str, sessions: list, commands, results) -> None:
    import uvloop

    uvloop.run(run_phones(url, sessions, commands, results))


async def run_phones(url: str, sessions: list, commands, results) -> None:
    import aiohttp

    global HTTP
    HTTP = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=60),
    )
    phones = [Phone(cookie, csrf, Connection(url)) for cookie, csrf in sessions]
    clients = await connect_phones(url, phones)
    results.put(("connected", sum(p.connected for p in phones)))
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, commands.get)) != "stop":
        if command == "arm":
            for phone in phones:
                phone.arm()
            results.put(("armed", None))
        elif command == "collect":
            results.put(("figures", round_figures(phones)))
    for reader in clients:
        if reader:
            reader.cancel()
    for phone in phones:
        phone.http.close()
    await HTTP.close()


async def connect_phones(url: str, phones: list[Phone]) -> list:
    """Each phone's socket (harness.bench.open_socket, signed in by its session cookie) and the
    task that reads it."""
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(phone: Phone):
        async with limit:
            try:
                ws = await open_socket(
                    HTTP,
                    url,
                    headers={"Cookie": f"{SESSION_COOKIE}={phone.cookie}"},
                    deflate=DEFLATE,
                )
            except Exception as error:
                phone.errors.append(f"connect {type(error).__name__}")
                return None
        phone.connected = True
        return asyncio.create_task(phone.listen(ws))

    return await asyncio.gather(*(connect(phone) for phone in phones))


def round_figures(phones: list[Phone]) -> dict:
    return {
        "alarm_at": [p.alarm_at for p in phones if p.alarm_at is not None],
        "receipt_ms": [p.receipt_ms for p in phones if p.receipt_ms is not None],
        "messages": [p.messages for p in phones if p.armed],
        "dropped_before": sum(not p.connected and not p.dropped_in_round for p in phones),
        "dropped_during": sum(p.dropped_in_round for p in phones),
        "errors": [e for p in phones for e in p.errors],
    }


# --- the duty manager: starts the drill and watches the receipts come in -----------------------


def manager_process(url: str, token: str, staff_ids: list[int], commands, results) -> None:
    import uvloop

    uvloop.run(run_manager(url, token, set(staff_ids), commands, results))


class Watch:
    """What the duty manager's socket has seen of the N phones' receipts and "got it"s."""

    KINDS = ("alarm.delivered", "alarm.acknowledged")

    def __init__(self, staff_ids: set[int]):
        self.staff_ids = staff_ids
        self.seen: dict[str, set] = {kind: set() for kind in self.KINDS}
        self.complete_at: dict[str, int] = {}  # kind -> time.time_ns() when all N were seen
        self.everything = asyncio.Event()

    def on_message(self, name: str, data=None) -> None:
        for item in events_in(name, data):
            people = self.seen.get(item.get("type"))
            if people is None:
                continue
            people.add((item.get("actor") or {}).get("staff_id"))
            if item["type"] not in self.complete_at and self.staff_ids <= people:
                self.complete_at[item["type"]] = time.time_ns()
                if len(self.complete_at) == len(self.KINDS):
                    self.everything.set()

    def counts(self) -> dict[str, int]:
        return {kind: len(people & self.staff_ids) for kind, people in self.seen.items()}


async def run_manager(url: str, token: str, staff_ids: set[int], commands, results) -> None:
    import socketio

    watch = Watch(staff_ids)
    client = socketio.AsyncClient(reconnection=False)
    client.on("*", watch.on_message)
    await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
    results.put(("connected", 1))
    loop = asyncio.get_running_loop()
    while await loop.run_in_executor(None, commands.get) == "fire":
        started, status = await start_drill(url, token)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.everything.wait(), ROUND_TIMEOUT)
        figures = {"started": started, "status": status, "counts": watch.counts()}
        results.put(("manager", {**figures, "complete_at": dict(watch.complete_at)}))
    await client.disconnect()


async def start_drill(url: str, token: str) -> tuple[int, int]:
    """The trigger: (time.time_ns() just before the POST, its HTTP status)."""
    import aiohttp

    async with aiohttp.ClientSession(url) as http:
        started = time.time_ns()
        async with http.post(
            "/api/sites/demo/incidents",
            json={"kind": "fire", "drill": True},
            headers={"Authorization": f"Bearer {token}"},
        ) as answer:
            return started, answer.status


# --- one N: set up, connect, one round, figures ----------------------------------------------


class Crowd:
    """The phone worker processes and the manager's process, with their command queues."""

    def __init__(self, url: str, manager, staff_ids: list, sessions: list, processes: int):
        """`manager` None: phones alone (the floor's round, which has no roll call)."""
        self.results = multiprocessing.Queue()
        self.queues = [multiprocessing.Queue() for _ in range(processes + 1)]
        shares = [sessions[i::processes] for i in range(processes)]
        targets = [(phone_process, (url, share)) for share in shares if share]
        self.phone_processes = len(targets)
        if manager is not None:
            targets.append((manager_process, (url, manager, staff_ids)))
        self.workers = [
            multiprocessing.Process(target=target, args=(*args, queue, self.results), daemon=True)
            for (target, args), queue in zip(targets, self.queues, strict=False)
        ]
        for worker in self.workers:
            worker.start()
        # Each phone process answers how many of its phones connected; the manager answers 1.
        answers = self.answers(len(self.workers), CONNECT_TIMEOUT)
        self.connected = sum(answers) - (manager is not None)

    def answers(self, count: int, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        return [
            self.results.get(timeout=max(1, deadline - time.monotonic()))[1] for _ in range(count)
        ]

    def tell_phones(self, command: str) -> list:
        phones = self.phone_processes
        for queue in self.queues[:phones]:
            queue.put(command)
        return self.answers(phones, 60)

    def fire(self) -> dict:
        self.queues[self.phone_processes].put("fire")
        return self.answers(1, ROUND_TIMEOUT + 30)[0]

    def cpu_seconds(self) -> float:
        """The phones' and the manager's processes together."""
        return sum(cpu_seconds(worker.pid) for worker in self.workers)

    def stop(self) -> None:
        for queue in self.queues[: len(self.workers)]:
            queue.put("stop")
        for worker in self.workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()


def crowd_round(
    repo: Path,
    folder: Path,
    count: int,
    processes: int,
    logs: Path | None,
    async_mode: str,
    profile: Path | None = None,
    database_url: str | None = None,
) -> dict:
    """Set up N phones on a fresh server of `repo`, run one alarm, return its figures."""
    server = server_of(repo, folder, database_url)
    server.env["EXITNOW_ASYNC_MODE"] = async_mode
    admin = server.token("admin", "bench")
    manager = server.token("duty_manager", "bench manager")
    if profile:
        start_profiled(server, repo, profile)
    else:
        server.start()
    crowd = None
    try:
        setup_started = time.monotonic()
        staff_ids = add_people(server, admin, count)
        sessions = asyncio.run(enroll_all(server.url, admin, staff_ids))
        enrolled_s = time.monotonic() - setup_started
        crowd = Crowd(server.url, manager, staff_ids, sessions, processes)
        connected_s = time.monotonic() - setup_started - enrolled_s
        crowd.tell_phones("arm")
        load = os.getloadavg()[0]
        cpu_before, clients_before = cpu_seconds(server.process.pid), crowd.cpu_seconds()
        with profiling(server.process.pid, profile):
            seen = crowd.fire()
        cpu = cpu_seconds(server.process.pid) - cpu_before
        clients_cpu = crowd.cpu_seconds() - clients_before
        phones = merge(crowd.tell_phones("collect"))
        return {
            "n": count,
            "enrolled_s": enrolled_s,
            "connected": crowd.connected,
            "connected_s": connected_s,
            "manager": seen,
            "phones": phones,
            "cpu": cpu,
            "clients_cpu": clients_cpu,
            "log": log_problems(server),
            "load": (load, os.getloadavg()[0]),
        }
    finally:
        if crowd:
            crowd.stop()
        server.stop()
        if logs:
            logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(server.output, logs / f"server-{repo.name}-{count}.log")


def floor_round(count: int, processes: int, async_mode: str) -> dict:
    """The same N phones, alarm and answers on the framework's floor (floor_server.py): a bare
    Flask-SocketIO server that emits the alarm and answers every receipt at once, with no
    sign-in, log or writer. Exit Now cannot come out faster: if it does, the clients are what
    the figures measure."""
    floor = Floor(FLOOR_ALARM_BYTES, async_mode)
    crowd = None
    try:
        crowd = Crowd(floor.url, None, [], [("", "")] * count, processes)
        crowd.tell_phones("arm")
        floor.reset()
        cpu_before = cpu_seconds(floor.pid)
        started = time.time_ns()
        floor.fire()
        time.sleep(FLOOR_ROUND_SECONDS)
        cpu = cpu_seconds(floor.pid) - cpu_before
        return {"started": started, "phones": merge(crowd.tell_phones("collect")), "cpu": cpu}
    finally:
        if crowd:
            crowd.stop()
        floor.stop()


@contextlib.contextmanager
def profiling(pid: int, out: Path | None):
    """The server's profiler (bench/profiled.py) on while the block runs: the round, not the
    set-up. Without `out` (the server runs without it), nothing."""
    if out is None:
        yield
        return
    os.kill(pid, signal.SIGUSR1)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGUSR2)  # stops it and writes the profile


def merge(parts: list[dict]) -> dict:
    merged: dict = {}
    for part in parts:
        for key, value in part.items():
            merged[key] = merged.get(key, type(value)()) + value
    return merged


# --- the table ---------------------------------------------------------------------------------


def seconds_until(seen: dict, kind: str, count: int) -> str:
    if kind in seen["complete_at"]:
        return f"{(seen['complete_at'][kind] - seen['started']) / 1e9:.2f} s"
    return f"never ({seen['counts'][kind]} of {count})"


def print_figures(figures: dict) -> None:
    n, seen, phones = figures["n"], figures["manager"], figures["phones"]
    latency = [(t - seen["started"]) / 1e6 for t in phones["alarm_at"]]
    messages = phones["messages"] or [0]
    errors = phones["errors"]
    rows = [
        (
            "set-up",
            f"{n} enrolled in {figures['enrolled_s']:.1f} s, "
            f"{figures['connected']} connected in {figures['connected_s']:.1f} s",
        ),
        ("trigger POST", f"HTTP {seen['status']}"),
        (
            "alarm latency ms",
            f"p50 {percentile(latency, 0.5):.1f}  p99 "
            f"{percentile(latency, 0.99):.1f}  ({len(latency)} of {n} phones)",
        ),
        ("manager has every receipt", seconds_until(seen, "alarm.delivered", n)),
        ("manager has every got-it", seconds_until(seen, "alarm.acknowledged", n)),
        (
            f"receipt ({WAY}) ms",
            f"p50 {percentile(phones['receipt_ms'], 0.5):.0f}  p99 "
            f"{percentile(phones['receipt_ms'], 0.99):.0f}  ({len(phones['receipt_ms'])} answered)",
        ),
        ("messages per phone", f"mean {statistics.fmean(messages):.1f}  max {max(messages)}"),
        (
            "disconnects",
            f"before the alarm {phones['dropped_before']}  during the round "
            f"{phones['dropped_during']}",
        ),
        (
            "CPU s in the round",
            f"server {figures['cpu']:.2f}  clients {figures['clients_cpu']:.2f}",
        ),
        ("load average (1 min)", "{:.2f} before the alarm, {:.2f} after".format(*figures["load"])),
        ("phone errors", summary(errors) if errors else "none"),
        ("server log errors", f"{len(figures['log'])} lines" if figures["log"] else "none"),
    ]
    floor = figures.get("floor")
    if floor:
        rows += floor_rows(floor, latency, phones["receipt_ms"])
    print(f"\nN = {n}")
    for name, value in rows:
        print(f"  {name:<27} {value}")
    for line in figures["log"][-5:]:
        print(f"    | {line[:160]}")


def floor_rows(floor: dict, latency: list[float], receipt_ms: list[float]) -> list[tuple]:
    """The floor's figures, and Exit Now's p99 as a multiple of the floor's."""
    phones = floor["phones"]
    floor_latency = [(t - floor["started"]) / 1e6 for t in phones["alarm_at"]]

    def p99_ratio(ours: list[float], floors: list[float]) -> str:
        if not ours or not floors:
            return "-"
        return f"{percentile(ours, 0.99) / percentile(floors, 0.99):.2f}x"

    return [
        (
            "floor: alarm latency ms",
            f"p50 {percentile(floor_latency, 0.5):.1f}  p99 {percentile(floor_latency, 0.99):.1f}"
            f"  ({len(floor_latency)} phones; Exit Now's p99 {p99_ratio(latency, floor_latency)})",
        ),
        (
            f"floor: receipt ({WAY}) ms",
            f"p50 {percentile(phones['receipt_ms'], 0.5):.0f}  p99 "
            f"{percentile(phones['receipt_ms'], 0.99):.0f}  ({len(phones['receipt_ms'])} "
            f"answered; Exit Now's p99 {p99_ratio(receipt_ms, phones['receipt_ms'])})",
        ),
        ("floor: CPU s in the round", f"{floor['cpu']:.2f} (its {FLOOR_ROUND_SECONDS} s)"),
        ("floor: phone errors", summary(phones["errors"]) if phones["errors"] else "none"),
    ]


def summary(errors: list[str]) -> str:
    kinds: dict[str, int] = {}
    for error in errors:
        kinds[error] = kinds.get(error, 0) + 1
    return ", ".join(f"{kind} x{times}" for kind, times in sorted(kinds.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose server runs")
    parser.add_argument("--logs", type=Path, help="keep each server's log in this folder")
    parser.add_argument(
        "--way", choices=("http", "socket"), default="http", help="how phones send answers"
    )
    parser.add_argument(
        "--async-mode",
        choices=("eventlet", "gevent"),
        default="eventlet",
        help="the server's (EXITNOW_ASYNC_MODE)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="profile the server's event loop during each round (bench/profiled.py) into "
        "PROFILE/N.prof, and print its top functions",
    )
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="on PostgreSQL with a synchronous standby (durable), not the SQLite file",
    )
    add_deflate_option(parser)
    args = parser.parse_args()
    global WAY, DEFLATE
    WAY, DEFLATE = args.way, args.deflate  # the phone processes are forked after this
    raise_open_files()
    repo = args.repo.resolve()
    print(
        f"the crowd: one drill, phones in {args.processes} processes (Socket.IO over aiohttp "
        f"on uvloop), answers over {args.way}, 127.0.0.1, 2 cores; server {describe(repo)} "
        f"under {args.async_mode}, store: "
        + ("PostgreSQL with a synchronous standby" if args.postgresql else "SQLite")
    )

    def profile(count: int) -> Path | None:
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            return args.profile.resolve() / f"{count}.prof"
        return None

    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(replicated_postgres()) if args.postgresql else None
        for count in args.phones:
            with tempfile.TemporaryDirectory() as folder:
                url = None
                if postgres:
                    name = f"crowd_{count}_{uuid.uuid4().hex[:8]}"
                    postgres.primary.create_database(name)
                    url = postgres.url(name)
                figures = crowd_round(
                    repo,
                    Path(folder),
                    count,
                    args.processes,
                    args.logs,
                    args.async_mode,
                    profile(count),
                    url,
                )
                figures["floor"] = floor_round(count, args.processes, args.async_mode)
                print_figures(figures)
                if args.profile:
                    print_top(profile(count), "the server", rounds=1)


if __name__ == "__main__":
    main()
