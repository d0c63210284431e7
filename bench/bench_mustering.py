"""Mustering a crowd: 1000 staff and 200 visitors on one site, an alarm, and marshals marking
every one of them accounted for at the assembly points.

    python -m bench.bench_mustering [--staff 1000] [--visitors 200] [--seconds 60]
                                    [--marshals 4] [--processes 4] [--repo PATH]

A fresh database and a real server (`python -m server`, eventlet) of the checkout PATH
(default: this one); N staff on the roll, each with a bearer token and a connected socket (the
light phone of harness.bench.open_socket, spread over uvloop worker processes); V visitors signed in
at the desk; two duty managers' consoles (sockets too). Two rounds, each one drill:
  - spread: the marshals' N + V marks spread evenly over --seconds (a minute by default);
  - burst: the same marks as fast as the marshals' connections go (--marshals processes,
    each with 8 connections of its own).
Printed per round: the marks' answer p50/p99 (ms from the POST to its answer), how many
Socket.IO frames and bytes each staff phone and each console received from the alarm to the
last mark's event, when the consoles had every mark, the server's CPU, and the duty manager's
`GET /api/sites/demo/state` (built over everyone on the roll) p50/p99 and size after the marks.
The reference: the same marshal processes posting as many marks, as fast, to a bare
Flask-SocketIO server under eventlet (floor_server.py's /echo), to show the clients are not
the bottleneck. Before the rounds: the server's CPU while every socket is open and nothing
happens (pings and `head`s), per minute, to set beside the spread round's. Each round also prints the marks' p50 in its first and last tenth: a mark
whose cost grew with the number accounted for (a scan of the roll) would show there.

Then, in this process: a year's visitor register (--register-days of --visitors each, rows
written straight into the table, as only a benchmark may) and the count of visitors on site
that every state build makes (each phone's on connect), with the server's predicate and with
the OR it replaced (left_at IS NULL OR left_at >= since), which walked the whole register.

Everything runs on 127.0.0.1; every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from harness import REPO, LiveServer, free_port, prepare_database
from harness.bench import (
    Connection,
    cpu_seconds,
    demo_services,
    describe,
    log_problems,
    open_socket,
    percentile,
    raise_open_files,
    read_messages,
)

MARK = "/api/sites/demo/incidents/current/accounted"
POINTS = ("lamp-post-a", "lamp-post-b")
CONNECTIONS_PER_MARSHAL = 8  # in the burst: how many marks each marshal process has in flight
CONNECT_CONCURRENCY = 16
IDLE_SECONDS = 15  # the server's CPU with every socket open and no alarm (pings, heads)


# --- listeners: staff phones and consoles, counting what they receive -------------------------


class Listener:
    """One socket's count of Socket.IO event frames and their bytes since it was armed, and
    (for a console) how many person.accounted events it has seen."""

    def __init__(self):
        self.frames = self.bytes = self.marks = self.heads = 0

    def on_message(self, text: str) -> None:
        if text.startswith('42["head"'):  # the supervision's every 5 s, counted apart
            self.heads += 1
            return
        self.frames += 1
        self.bytes += len(text.encode())
        self.marks += text.count('"type":"person.accounted"')


def listener_process(url: str, tokens: list[str], commands, results) -> None:
    import uvloop

    uvloop.run(run_listeners(url, tokens, commands, results))


async def run_listeners(url: str, tokens: list[str], commands, results) -> None:
    import aiohttp

    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
    )
    limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
    listeners = [Listener() for _ in tokens]

    async def connect(token: str, listener: Listener):
        async with limit:
            ws = await open_socket(http, url, auth={"token": token})
        return asyncio.create_task(read_messages(ws, listener.on_message))

    readers = await asyncio.gather(
        *(connect(t, li) for t, li in zip(tokens, listeners, strict=True))
    )
    results.put(("connected", len(readers)))
    loop = asyncio.get_running_loop()
    while (command := await loop.run_in_executor(None, commands.get)) != "stop":
        if command == "arm":
            for listener in listeners:
                listener.frames = listener.bytes = listener.marks = listener.heads = 0
            results.put(("armed", None))
        elif command == "collect":
            figures = [(li.frames, li.bytes, li.marks, li.heads) for li in listeners]
            results.put(("figures", figures))
    for reader in readers:
        reader.cancel()
    await http.close()


# --- marshals: marks over their own kept-alive HTTP connections --------------------------------


def marshal_process(token: str, commands, results) -> None:
    import uvloop

    uvloop.run(run_marshal(token, commands, results))


async def run_marshal(token: str, commands, results) -> None:
    loop = asyncio.get_running_loop()
    results.put(("ready", None))
    while (command := await loop.run_in_executor(None, commands.get)) != "stop":
        url, path, marks, spread, start_at = command
        results.put(("marks", await post_marks(url, token, path, marks, spread, start_at)))


async def post_marks(url, token, path, marks: list[dict], spread: float, start_at: float):
    """Each mark's answer time in ms and its status: spread evenly over `spread` seconds from
    `start_at` (time.time()), or as fast as CONNECTIONS_PER_MARSHAL connections go."""
    headers = {"Authorization": f"Bearer {token}"}
    answers: list[tuple[float, int]] = []

    async def post(connection: Connection, mark: dict) -> None:
        body = json.dumps(mark).encode()
        sent, began = time.time(), time.perf_counter()
        try:
            status = await connection.post(
                path, {**headers, "Idempotency-Key": str(uuid.uuid4())}, body
            )
        except Exception:  # a refused or reset connection is a figure, not a crash
            status = 0
        answers.append(((time.perf_counter() - began) * 1000, status, sent))

    connections = [Connection(url) for _ in range(CONNECTIONS_PER_MARSHAL)]
    await asyncio.sleep(max(0.0, start_at - time.time()))
    if spread:
        gap, tasks = spread / max(1, len(marks)), []
        for index, mark in enumerate(marks):
            await asyncio.sleep(max(0.0, start_at + index * gap - time.time()))
            connection = connections[index % len(connections)]  # an answer takes << gap
            tasks.append(asyncio.create_task(post(connection, mark)))
        await asyncio.gather(*tasks)
    else:
        shares = [marks[i :: len(connections)] for i in range(len(connections))]

        async def one_connection(connection: Connection, share: list[dict]) -> None:
            for mark in share:
                await post(connection, mark)

        await asyncio.gather(
            *(one_connection(c, s) for c, s in zip(connections, shares, strict=True))
        )
    for connection in connections:
        connection.close()
    return answers


# --- the processes together ------------------------------------------------------------------


class Clients:
    def __init__(
        self, url: str, phones: list[str], consoles: list[str], marshals: list[str], processes: int
    ):
        self.results = multiprocessing.Queue()
        self.listeners, self.marshals = [], []
        groups = [phones[i::processes] for i in range(processes)] + [consoles]
        for group in groups:
            queue = multiprocessing.Queue()
            worker = multiprocessing.Process(
                target=listener_process, args=(url, group, queue, self.results), daemon=True
            )
            self.listeners.append((worker, queue))
        for token in marshals:
            queue = multiprocessing.Queue()
            worker = multiprocessing.Process(
                target=marshal_process, args=(token, queue, self.results), daemon=True
            )
            self.marshals.append((worker, queue))
        for worker, _ in [*self.listeners, *self.marshals]:
            worker.start()
        self.answers(len(self.listeners) + len(self.marshals), timeout=300)

    def answers(self, count: int, timeout: float = 120) -> list:
        return [self.results.get(timeout=timeout) for _ in range(count)]

    def tell_listeners(self, command: str) -> list:
        for _, queue in self.listeners:
            queue.put(command)
        return [value for _, value in self.answers(len(self.listeners))]

    def collect(self) -> tuple[list, list]:
        """(the staff phones' figures, the consoles'), in the listeners' order."""
        figures = []
        for _, queue in self.listeners:  # one at a time: the last group is the consoles
            queue.put("collect")
            figures.append(self.results.get(timeout=60)[1])
        return [f for group in figures[:-1] for f in group], figures[-1]

    def mark(self, url: str, path: str, marks: list[dict], spread: float) -> list[tuple]:
        start_at = time.time() + 0.5
        shares = [marks[i :: len(self.marshals)] for i in range(len(self.marshals))]
        for (_, queue), share in zip(self.marshals, shares, strict=True):
            queue.put((url, path, share, spread, start_at))
        return [answer for _, part in self.answers(len(self.marshals), 600) for answer in part]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(w.pid) for w, _ in [*self.listeners, *self.marshals])

    def stop(self) -> None:
        for _, queue in [*self.listeners, *self.marshals]:
            queue.put("stop")
        for worker, _ in [*self.listeners, *self.marshals]:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()


# --- a round ------------------------------------------------------------------------------


def run_round(server, clients: Clients, manager: str, marks: list[dict], spread: float) -> dict:
    """One drill: the marks, what everyone received, the state's build time after them."""
    clients.tell_listeners("arm")
    cpu_before, clients_before = cpu_seconds(server.process.pid), clients.cpu_seconds()
    started = server.post("/api/sites/demo/incidents", manager, {"kind": "fire", "drill": True})
    started.raise_for_status()
    began = time.monotonic()
    answers = clients.mark(server.url, MARK, marks, spread)
    wall_s = time.monotonic() - began - 0.5  # the marshals start together 0.5 s after
    deadline, before = time.monotonic() + 30, None
    while True:  # until every console has every mark, and the phones' frames stopped (or 30 s)
        phones, consoles = clients.collect()
        frames = [p[0] for p in phones]
        if all(c[2] >= len(marks) for c in consoles) and frames == before:
            break
        if time.monotonic() > deadline:
            break
        before = frames
        time.sleep(1.5)  # a staff phone's numbers-only batches leave once a second
    cpu = cpu_seconds(server.process.pid) - cpu_before
    clients_cpu = clients.cpu_seconds() - clients_before
    state_ms, state_bytes = [], 0
    for _ in range(20):
        began = time.perf_counter()
        answer = server.get("/api/sites/demo/state", manager)
        state_ms.append((time.perf_counter() - began) * 1000)
        state_bytes = len(answer.content)
    roll = answer.json()["roll_call"]
    server.post("/api/sites/demo/incidents/current/all-clear", manager, {"reason": "drill_over"})
    return {
        "answers": answers,
        "wall_s": wall_s,
        "phones": phones,
        "consoles": consoles,
        "cpu": cpu,
        "clients_cpu": clients_cpu,
        "state_ms": state_ms,
        "state_bytes": state_bytes,
        "roll": {k: roll[k] for k in ("on_site", "accounted", "unaccounted")},
        "all_seen": all(c[2] >= len(marks) for c in consoles),
    }


def reference_round(clients: Clients, marks: list[dict]) -> list[tuple]:
    """The same marshals, as many POSTs, as fast, to the bare framework's /echo."""
    port = free_port()
    floor = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "floor_server.py"), str(port), "0"]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        return clients.mark(url, "/echo", marks, 0)
    finally:
        floor.terminate()
        floor.wait(timeout=10)


# --- set-up and the table ---------------------------------------------------------------------


def set_up(folder: Path, staff: int, visitors: int, marshals: int):
    """The demo site with `staff` people with tokens, duty managers, guards (the marshals) and
    an admin, then the visitors signed in at the desk: (server, tokens, marks)."""
    db_path = folder / "bench.db"
    people = {"staff": staff, "duty_manager": 2, "guard": marshals}
    tokens = prepare_database(db_path, people)
    server = LiveServer(db_path).start()
    guard = tokens["guard"][0]
    visitor_ids = []
    for number in range(visitors):
        answer = server.post("/api/sites/demo/visitors", guard, {"name": f"Visitor {number:03d}"})
        answer.raise_for_status()
        visitor_ids.append(answer.json()["visitor_id"])
    roll = server.get("/api/sites/demo/state", tokens["duty_manager"][0]).json()["roll_call"]
    staff_ids = [p["staff_id"] for p in roll["staff"]]
    marks = [{"staff_id": i, "assembly_point": POINTS[i % 2]} for i in staff_ids]
    marks += [{"visitor_id": i, "assembly_point": POINTS[i % 2]} for i in visitor_ids]
    return server, tokens, marks


def register_figures(days: int, per_day: int, rounds: int = 50) -> dict:
    """ms per count of the visitors on site, over a register of `days` past days."""
    from server.basics.clock import now_ms
    from server.rules.mustering import NEVER, VISITORS_ON_ROLL

    with tempfile.TemporaryDirectory() as folder:
        services = demo_services(folder)
        now, day = now_ms(), 86_400_000
        rows = [
            (
                f"Visitor {n}",
                now - (n // per_day + 1) * day,
                now - (n // per_day + 1) * day + 3_600_000,
            )
            for n in range(days * per_day)
        ]
        rows += [(f"In now {n}", now - 3_600_000, None) for n in range(per_day)]
        with services.store.transaction() as db:
            db.conn.executemany(
                "INSERT INTO visitors (site, name, language, self_signed, link_nonce, "
                "signed_in_at, left_at) VALUES ('demo', ?, 'fi', 0, 'x', ?, ?)",
                rows,
            )
        window = {"site": "demo", "since": now - 60_000, "until": NEVER}
        old = VISITORS_ON_ROLL.replace(
            f"COALESCE(v.left_at, {NEVER}) >= :since", "(v.left_at IS NULL OR v.left_at >= :since)"
        )
        figures = {}
        with services.store.reading() as db:
            for name, predicate in (("server", VISITORS_ON_ROLL), ("the OR it replaced", old)):
                times = []
                for _ in range(rounds):
                    began = time.perf_counter()
                    db.execute(
                        f"SELECT COUNT(*) FROM visitors v WHERE {predicate}", window
                    ).fetchone()
                    times.append((time.perf_counter() - began) * 1000)
                figures[name] = times
        services.store.close()
    return figures


def ms(values: list[float], digits: int = 1) -> str:
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    return f"p50 {p50:7.{digits}f}  p99 {p99:7.{digits}f}"


def print_round(name: str, figures: dict, count: int) -> None:
    answers = sorted(figures["answers"], key=lambda answer: answer[2])  # in the order sent
    times = [t for t, status, _ in answers if status == 200]
    failed = [status for _, status, _ in answers if status != 200]
    tenth = max(1, len(times) // 10)
    first, last = times[:tenth], times[-tenth:]
    phones, consoles = figures["phones"], figures["consoles"]
    print(f"\n{name}")
    print(
        f"  marks' answer ms           {ms(times)}  ({len(times)} of {count} 200 OK, {len(failed)} not)"
    )
    print(
        f"  p50 first/last tenth       {percentile(first, 0.5):.1f} / {percentile(last, 0.5):.1f} ms"
        f"  (all marks in {figures['wall_s']:.1f} s)"
    )
    for who, rows in (("each staff phone", phones), ("each console", consoles)):
        frames, sizes = [r[0] for r in rows], [r[1] for r in rows]
        print(
            f"  {who:<26} frames mean {sum(frames) / len(frames):6.1f} max {max(frames):5d}   "
            f"bytes mean {sum(sizes) / len(sizes):9.0f} max {max(sizes):8d}"
        )
    heads = [r[3] for r in phones]
    print(f"  'head' frames per phone    mean {sum(heads) / len(heads):.1f} (every 5 s; not above)")
    print(
        f"  consoles saw every mark    {'yes' if figures['all_seen'] else 'NO'}  roll {figures['roll']}"
    )
    print(
        f"  state GET (duty manager)   {ms(figures['state_ms'])} ms, {figures['state_bytes']} bytes"
    )
    print(
        f"  CPU s in the round         server {figures['cpu']:.2f}  clients {figures['clients_cpu']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=1000)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--marshals", type=int, default=4)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--register-days", type=int, default=365)
    args = parser.parse_args()
    raise_open_files()
    print(
        f"mustering: {args.staff} staff (+ the demo's) and {args.visitors} visitors, marks by "
        f"{args.marshals} marshal processes, phones in {args.processes} processes, 127.0.0.1, "
        f"2 shared cores; server {describe(REPO)}"
    )
    with tempfile.TemporaryDirectory() as folder:
        server, tokens, marks = set_up(Path(folder), args.staff, args.visitors, args.marshals)
        clients = None
        try:
            clients = Clients(
                server.url, tokens["staff"], tokens["duty_manager"], tokens["guard"], args.processes
            )
            count = len(marks)
            print(
                f"set-up: {count} people on the roll, {len(tokens['staff'])} phones and 2 consoles connected"
            )
            idle_before = cpu_seconds(server.process.pid)
            time.sleep(IDLE_SECONDS)  # everyone connected, nothing happening
            idle = (cpu_seconds(server.process.pid) - idle_before) * 60 / IDLE_SECONDS
            print(f"idle, everyone connected: the server uses {idle:.2f} CPU s a minute")
            spread = run_round(server, clients, tokens["duty_manager"][0], marks, args.seconds)
            print_round(f"spread: {count} marks over {args.seconds:.0f} s", spread, count)
            burst = run_round(server, clients, tokens["duty_manager"][0], marks, 0)
            print_round(f"burst: {count} marks as fast as they go", burst, count)
            floor = [t for t, status, _ in reference_round(clients, marks) if status == 200]
            print(f"\nreference: {len(floor)} POSTs as fast as they go to the bare framework")
            print(f"  answer ms                  {ms(floor)}")
            register = register_figures(args.register_days, args.visitors)
            print(
                f"\nvisitors on site, counted over a register of {args.register_days} days x "
                f"{args.visitors} (each state build does it)"
            )
            for name, times in register.items():
                print(f"  {name:<26} {ms(times, 3)} ms")
            problems = log_problems(server)
            print(f"\nserver log errors: {len(problems) if problems else 'none'}")
            for line in problems[-5:]:
                print(f"    | {line[:160]}")
        finally:
            if clients:
                clients.stop()
            server.stop()


if __name__ == "__main__":
    main()
