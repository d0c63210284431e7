"""The production recipe measured through nginx: the alarm's fan-out to N Socket.IO clients
beside a bare Node socket.io cluster behind the same nginx, and status JSON requests.

    python -m bench.bench_production [--clients 1000 5000] [--rounds 5] [--processes 4]
                                     [--seconds 8] [--connections 50] [--limit 900] [--run PATH]

The project runs as deploy/launch.py runs it (`Stack`): nginx with TLS and sticky sessions in
front of two eventlet workers (one per core) that share one SQLite file and one Redis, which
carries each emit to the other worker (python-socketio's RedisManager). The reference is a
Node socket.io cluster of as many processes (bench/node_reference/server.js, `npm ci` there
first), each emitting one message of the same length as the project's `incident.started` frame
to every client when POSTed to, joined the same way: socket.io's Redis adapter
(@socket.io/redis-adapter, in package-lock.json) through a Redis of its own, so the POST
reaches one process and the alarm every process's clients. It sits behind the same nginx
process, in a second server block that is the production server block itself (TLS, the same
proxy headers and timeouts) with its own upstream, hashed on the same sticky cookie as the
project's workers.

1. Alarm fan-out: the same client processes open N sockets to each server, through TLS (the
   light clients of harness/bench.py: the Socket.IO v5 text protocol over aiohttp websockets on
   uvloop). Each server has a warm-up round, then the rounds alternate (reference, project,
   ...) with both crowds connected; when nginx's one worker may not hold both crowds at
   once (two descriptors a socket, and the open-files limit cannot be raised), the reference's
   sockets and rounds come first, then the project's. A round's figure is the ms from just
   before the duty manager's POST (start incident, on a kept-alive TLS connection) to each
   client's receipt of `incident.started`; the project's all-clear ends each of its rounds.
   The reference does less (no log, no fsync, no rooms; the same number of processes and the
   same Redis hop), but it is another stack, not the framework's floor (bench_delivery.py
   checks the clients against that): coming closer to it, or past it, is the point, and the
   script says when a figure of the project's came out below the reference's.
2. Status JSON: wrk on `/status/demo.json` through nginx (TLS, the snapshot file) and from a
   worker directly (plain HTTP, the app's own answer), plain and conditional GET.

Everything runs on 127.0.0.1. Every process it starts (nginx, both Redis servers, the workers,
the node processes, the client processes, wrk) is stopped by its own process id at the end, on
Ctrl-C, SIGTERM or an error too, and the whole run stops after --limit seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.bench_public import wrk
from deploy.launch import (
    HOST,
    NGINX_TEMPLATE,
    NOTICES,
    Redis,
    Stack,
    end,
    free_port,
    nodes_conf,
    start_nginx_process,
    wait_until,
)
from harness import REPO, prepare_database
from harness.bench import (
    answers_of,
    cpu_seconds,
    describe,
    open_socket,
    percentile,
    raise_open_files,
    read_messages,
)

NODE_REFERENCE = REPO / "bench" / "node_reference"
ALARM = "incident.started"
# The reference's frame without its padding; the padding makes it as long as the project's.
REFERENCE_FRAME = '42["event",{"seq":1,"type":"incident.started","padding":""}]'
OPEN_FILES = 65536
CONNECT_TIMEOUT = 300
CONNECT_CONCURRENCY = 50  # per client process and server
ROUND_TIMEOUT = 30


# --- the clients: the same processes open N sockets to each server ----------------------------


def client_process(share: int, cafile: str, commands, results) -> None:
    """One client process: `share` sockets to each server it is told to connect to."""
    import uvloop

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process stops it
    uvloop.run(run_clients(share, cafile, commands, results))


async def run_clients(share: int, cafile: str, commands, results) -> None:
    """Obey the main process: ("connect", name, url, auth), ("arm", name, seconds): clear the
    stamps and report them once all `share` have come, ("close", name), ("stop",)."""
    import aiohttp

    stamps: dict[str, list[int]] = {}
    sizes: dict[str, list[int]] = {}
    sockets: dict[str, list] = {}
    readers: dict[str, list[asyncio.Task]] = {}
    connector = aiohttp.TCPConnector(limit=0, ssl=ssl.create_default_context(cafile=cafile))
    # Each socket on its own, as separate phones are: no cookie is shared between them.
    jar = aiohttp.DummyCookieJar()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as http:

        def stamper(name: str):
            def on_message(text: str) -> None:
                if text.startswith('42["event') and ALARM in text:
                    stamps[name].append(time.time_ns())
                    sizes[name].append(len(text))

            return on_message

        async def connect(name: str, url: str, auth: dict, limit):
            """A socket, and at once its reader: it answers the server's pings from now on
            (Exit Now drops a socket that leaves a ping unanswered for 10 s)."""
            async with limit:
                for attempt in range(3):
                    try:
                        ws = await open_socket(http, url, auth)
                        break
                    except (aiohttp.ClientError, OSError, RuntimeError):
                        if attempt == 2:
                            raise
                        await asyncio.sleep(0.5)
            return ws, asyncio.create_task(read_messages(ws, stamper(name)))

        while True:
            command = await loop.run_in_executor(None, commands.get)
            if command[0] == "stop":
                break
            if command[0] == "connect":
                _, name, url, auth = command
                stamps[name], sizes[name] = [], []
                limit = asyncio.Semaphore(CONNECT_CONCURRENCY)
                opened = await asyncio.gather(
                    *(connect(name, url, auth, limit) for _ in range(share))
                )
                sockets[name] = [ws for ws, _ in opened]
                readers[name] = [reader for _, reader in opened]
                results.put(("connected",))
            elif command[0] == "close":
                name = command[1]
                for reader in readers.pop(name):
                    reader.cancel()
                await asyncio.gather(*(ws.close() for ws in sockets.pop(name)))
                results.put(("closed",))
            else:  # "arm": a round on `name` begins
                _, name, seconds = command
                stamps[name].clear()
                sizes[name].clear()
                results.put(("armed",))
                deadline = loop.time() + seconds
                while len(stamps[name]) < share and loop.time() < deadline:
                    await asyncio.sleep(0.02)
                closed = sum(reader.done() for reader in readers[name])
                results.put(("times", stamps[name][:], sizes[name][:], closed))
        for tasks in readers.values():
            for reader in tasks:
                reader.cancel()


class Crowd:
    """Client processes that open N sockets to a server when told to, spread evenly."""

    def __init__(self, clients: int, processes: int, cafile: str):
        self.results = multiprocessing.Queue()
        shares = [clients // processes + (i < clients % processes) for i in range(processes)]
        shares = [share for share in shares if share]
        self.commands = [multiprocessing.Queue() for _ in shares]
        self.processes = [
            multiprocessing.Process(
                target=client_process, args=(share, cafile, commands, self.results), daemon=True
            )
            for share, commands in zip(shares, self.commands, strict=True)
        ]
        for process in self.processes:
            process.start()

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def _tell(self, command: tuple, timeout: float) -> list[tuple]:
        """Send a command to every process; their answers, once each has answered."""
        for commands in self.commands:
            commands.put(command)
        return answers_of(self.processes, self.results, command[0], timeout)

    def connect(self, target) -> float:
        """Every process opens its share of sockets to `target`; returns the seconds taken."""
        began = time.monotonic()
        self._tell(("connect", target.name, target.url, target.auth), CONNECT_TIMEOUT)
        return time.monotonic() - began

    def close(self, target) -> None:
        self._tell(("close", target.name), CONNECT_TIMEOUT)

    def arm(self, name: str) -> None:
        """Every process clears its stamps of `name` and says so: the round may begin."""
        self._tell(("arm", name, ROUND_TIMEOUT), ROUND_TIMEOUT)

    def receipts(self) -> tuple[list[int], list[int], int]:
        """Each process's stamps once it has its share (or ROUND_TIMEOUT passed)."""
        stamps, sizes, closed = [], [], 0
        for _ in self.processes:
            _, more_stamps, more_sizes, more_closed = self.results.get(timeout=ROUND_TIMEOUT + 10)
            stamps += more_stamps
            sizes += more_sizes
            closed += more_closed
        return stamps, sizes, closed

    def stop(self) -> None:
        for commands in self.commands:
            commands.put(("stop",))
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


# --- the stack, with the reference behind the same nginx ----------------------------------------


WORKERS = 2  # the project's, one per core; the Node cluster has as many processes


class BenchStack(Stack):
    """deploy/launch.py's stack (one node of two workers); its nginx has a second server block,
    the production one with another listening port and upstream: the Node cluster's."""

    def __init__(self, folder: Path, connections: int):
        super().__init__(folder, workers=WORKERS, nodes=1)
        self.reference_ports = [free_port() for _ in range(WORKERS)]  # node's own, plain HTTP
        self.reference_url = f"https://{HOST}:{free_port()}"  # through nginx
        self.connections = connections

    def start_nginx(self) -> None:
        # As Stack.start_nginx, plus the reference's upstream and server block, and room for
        # every socket of both crowds (each is two connections to nginx: in and upstream).
        prefix = self.folder / "nginx"
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "nodes.conf").write_text(nodes_conf(self.nodes))
        template = NGINX_TEMPLATE.read_text()
        production_server = template[template.index("\nserver {") :]
        upstream = "proxy_pass http://exitnow_$exitnow_node;"
        if production_server.count(upstream) != 2:
            raise RuntimeError(
                f"deploy/nginx/production.conf's server block changed: {upstream} expected"
            )
        reference_server = production_server.replace(
            upstream, "proxy_pass http://exitnow_reference;"
        ).replace("@LISTEN@", f"{HOST}:{self.reference_url.rsplit(':', 1)[1]} ssl")
        reference_upstream = (
            "\nupstream exitnow_reference {\n    hash $exitnow_sticky consistent;\n"
            + "".join(
                f"    server {HOST}:{port} max_fails=1 fail_timeout=2s;\n"
                for port in self.reference_ports
            )
            + "}\n"
        )
        http = (
            (template + reference_upstream + reference_server)
            .replace("@LISTEN@", f"{HOST}:{self.port} ssl")
            .replace("@CERTIFICATE@", str(self.certificate))
            .replace("@CERTIFICATE_KEY@", str(self.certificate_key))
            .replace("@NOTICES@", str(NOTICES))
            .replace("@NODES@", str(prefix / "nodes.conf"))
        )
        self.nginx = start_nginx_process(prefix, http, self._through_nginx, self.connections)


class Project:
    """Exit Now through nginx: a staff token for the clients, the duty manager's POSTs on one
    kept-alive TLS connection (as the duty manager's app keeps one)."""

    name = "exit-now"

    def __init__(self, stack: BenchStack, tokens: dict):
        self.stack, self.url = stack, stack.url
        self.auth = {"token": tokens["staff"][0]}
        self.http = requests.Session()
        self.http.trust_env = False  # everything is local; REQUESTS_CA_BUNDLE must not win
        self.http.verify = str(stack.certificate)
        self.http.headers["Authorization"] = f"Bearer {tokens['duty_manager'][0]}"
        self.http.get(self.url + "/healthz", timeout=10).raise_for_status()

    @property
    def pids(self) -> list[int]:
        node = self.stack.nodes[0]
        return [w.process.pid for w in node.workers] + [node.redis.process.pid]

    def fire(self) -> None:
        body = {"kind": "fire", "drill": True}
        self.http.post(
            self.url + "/api/sites/demo/incidents", json=body, timeout=30
        ).raise_for_status()

    def reset(self) -> None:
        path = "/api/sites/demo/incidents/current/all-clear"
        self.http.post(
            self.url + path, json={"reason": "drill_over"}, timeout=30
        ).raise_for_status()

    def connected(self) -> list[int]:
        """Each worker's own count of its connected phones (its /metrics)."""
        counts = []
        for worker in self.stack.nodes[0].workers:
            text = requests.get(worker.url + "/metrics", timeout=10).text
            found = re.search(r'^exitnow_connected_clients\{site="demo"\} ([\d.]+)', text, re.M)
            counts.append(int(float(found.group(1))) if found else 0)
        return counts


class Reference:
    """The bare Node socket.io cluster behind the stack's nginx: one process per project
    worker, joined by socket.io's Redis adapter through a Redis of its own."""

    name = "reference"

    def __init__(self, stack: BenchStack, padding: int, folder: Path):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed")
        self.url, self.auth = stack.reference_url, {}
        self.redis = Redis(folder / "reference-redis")
        self.processes: list[subprocess.Popen] = []
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = str(stack.certificate)
        self.direct = [f"http://{HOST}:{port}" for port in stack.reference_ports]
        log = folder / "node-reference.log"
        try:
            self.redis.start()
            with open(log, "ab") as output:
                for port in stack.reference_ports:
                    arguments = [str(port), str(padding), self.redis.url]
                    self.processes.append(
                        subprocess.Popen(
                            [node, str(NODE_REFERENCE / "server.js"), *arguments],
                            cwd=NODE_REFERENCE,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )

            def ready() -> bool:
                return all(
                    self.http.get(url + "/healthz", timeout=2).ok
                    for url in [*self.direct, self.url]
                )

            wait_until(ready, f"the node reference (log: {log})", 20, self.processes[0])
        except BaseException:
            self.stop()
            raise

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes] + [self.redis.process.pid]

    def fire(self) -> None:
        self.http.post(self.url + "/fire", timeout=30).raise_for_status()

    def reset(self) -> None:
        pass  # nothing to end: the reference keeps no incident

    def connected(self) -> list[int]:
        """Each process's own count of its connected clients."""
        return [
            self.http.get(url + "/healthz", timeout=10).json()["clients"] for url in self.direct
        ]

    def stop(self) -> None:
        for process in self.processes:
            end(process)
        self.redis.stop()


# --- the rounds ---------------------------------------------------------------------------------


def with_children(pid: int) -> list[int]:
    """A process and its children (nginx's master and its worker), from /proc."""
    found = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def one_round(target, crowd: Crowd, nginx_pids: list[int]) -> dict:
    """Fire once; every client's ms from just before the POST to its receipt, and CPU."""
    crowd.arm(target.name)
    watched = {"server": target.pids, "nginx": nginx_pids, "clients": crowd.pids}
    before = {part: sum(cpu_seconds(pid) for pid in pids) for part, pids in watched.items()}
    started = time.time_ns()
    target.fire()
    stamps, sizes, closed = crowd.receipts()
    cpu = {
        part: sum(cpu_seconds(pid) for pid in pids) - before[part] for part, pids in watched.items()
    }
    target.reset()
    return {
        "ms": [(t - started) / 1e6 for t in stamps],
        "bytes": sizes,
        "cpu": cpu,
        "closed": closed,
    }


def alarm_frame_length(project: Project) -> int:
    """How long the project's `incident.started` frame is, seen by one socket."""
    import aiohttp

    async def probe() -> int:
        connector = aiohttp.TCPConnector(ssl=project.stack.ssl_context())
        async with aiohttp.ClientSession(connector=connector) as http:
            ws = await open_socket(http, project.url, project.auth)
            got = asyncio.get_running_loop().create_future()

            def on_message(text: str) -> None:
                if ALARM in text and not got.done():
                    got.set_result(len(text))

            reader = asyncio.create_task(read_messages(ws, on_message))
            await asyncio.to_thread(project.fire)
            try:
                return await asyncio.wait_for(got, 10)
            finally:
                reader.cancel()
                await ws.close()

    try:
        return asyncio.run(probe())
    finally:
        project.reset()


def fan_out(stack, project, reference, clients: int, rounds: int, processes: int, together: bool):
    """The same client processes open `clients` sockets to each server; a warm-up round each,
    then `rounds` each. `together`: both crowds connected at once and the rounds alternate
    (reference, project, ...); else (too few open files for nginx to hold both) the reference's
    sockets, its rounds, then the project's. Returns each server's rounds."""
    crowd = Crowd(clients, processes, str(stack.certificate))
    settle = max(1.0, clients / 2000)  # the all-clear's frames are gone before the next alarm
    nginx_pids = with_children(stack.nginx.pid)
    seen: dict[str, list[dict]] = {project.name: [], reference.name: []}

    def connect(target) -> None:
        seconds = crowd.connect(target)
        print(
            f"N = {clients}: {target.name}'s sockets connected through nginx in {seconds:.1f} s; "
            f"its processes have {' and '.join(map(str, target.connected()))}",
            flush=True,
        )

    def play(targets, count: int) -> None:
        for target in targets:
            one_round(target, crowd, nginx_pids)  # warm-up: first emits, lazy imports
            time.sleep(settle)
        for _ in range(count):
            for target in targets:
                seen[target.name].append(one_round(target, crowd, nginx_pids))
                time.sleep(settle)

    try:
        if together:
            connect(reference)
            connect(project)
            play((reference, project), rounds)
        else:
            for target in (reference, project):
                connect(target)
                play((target,), rounds)
                crowd.close(target)
                time.sleep(2)  # nginx and the server let the closed sockets go
        return seen
    finally:
        crowd.stop()


def figures_of(runs: list[dict]) -> dict:
    ms = [value for run in runs for value in run["ms"]]
    return {
        "received": len(ms),
        "p50": percentile(ms, 0.5),
        "p99": percentile(ms, 0.99),
        "max": max(ms, default=float("nan")),
        "bytes": max((size for run in runs for size in run["bytes"]), default=0),
        "closed": max((run["closed"] for run in runs), default=0),
        "cpu": {part: sum(r["cpu"][part] for r in runs) / len(runs) for part in runs[0]["cpu"]},
        "p99s": [percentile(run["ms"], 0.99) for run in runs],
    }


def print_fan_out(clients: int, rounds: int, seen: dict[str, list[dict]], mode: str) -> None:
    figures = {name: figures_of(runs) for name, runs in seen.items()}
    for name, f in figures.items():
        cpu = f["cpu"]
        print(
            f"{name:<10} {clients:>5} {f['received']:>8}/{clients * rounds:<6} {f['p50']:>7.1f} "
            f"{f['p99']:>7.1f} {f['max']:>7.1f} {f['bytes']:>6} {cpu['server'] * 1000:>7.0f} "
            f"{cpu['nginx'] * 1000:>6.0f} {cpu['clients'] * 1000:>8.0f} {f['closed']:>7}"
        )
    ours, reference = figures["exit-now"], figures["reference"]
    ratios = " ".join(f"{ours[k] / reference[k]:>7.2f}" for k in ("p50", "p99", "max"))
    print(f"{'ratio':<10} {clients:>5} {'project/reference':>15} {ratios}")
    print(f"  N = {clients}, rounds: {mode}")
    for name, f in figures.items():
        print(f"  {name} p99 of each round, ms: {' '.join(f'{v:.0f}' for v in f['p99s'])}")
    below = [k for k in ("p50", "p99") if ours[k] < reference[k]]
    if below:
        print(
            f"  the project's {' and '.join(below)} came out below the Node cluster's: within "
            "the noise of the rounds' p99s above, or past Node"
        )


# --- status JSON ----------------------------------------------------------------------------------


def status_json(stack: BenchStack, seconds: int, connections: int) -> dict:
    """wrk on /status/demo.json through nginx (TLS: the snapshot file) and from worker 1
    directly (plain HTTP: the app's own answer), plain and conditional GET."""
    runs = {}
    for name, base in (
        ("nginx (TLS, snapshot file)", stack.url),
        ("app directly (worker 1)", stack.nodes[0].workers[0].url),
    ):
        url = base + "/status/demo.json"
        answer = requests.get(url, verify=str(stack.certificate), timeout=10)
        answer.raise_for_status()
        etag = answer.headers["ETag"]
        runs[f"{name}, plain GET"] = wrk(url, seconds, connections)
        runs[f"{name}, 304"] = wrk(url, seconds, connections, etag)
    return runs


def print_status(runs: dict, seconds: int, connections: int) -> None:
    print(f"\nstatus JSON (/status/demo.json), wrk -t2 -c{connections} -d{seconds}s")
    print(f"{'through':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, run in runs.items():
        print(f"{name:<42} {run['rps']:>8.0f} {run['p50']:>8.2f} {run['p99']:>8.2f}")


# --- the run ------------------------------------------------------------------------------------


def nginx_connections(clients: int, both: bool) -> int:
    """What nginx's one worker needs for the sockets of one crowd or of both at once: two
    connections (and descriptors) each, the client's and the upstream's, and some room."""
    return (4 if both else 2) * clients + 512


def run(args, folder: Path) -> None:
    # nginx's one worker holds two connections per socket (the client's, the upstream's).
    connections = min(nginx_connections(max(args.clients), both=True), args.open_files)
    stack = BenchStack(folder / "run", connections=connections)
    tokens = prepare_database(stack.nodes[0].db_path, {"staff": 1, "duty_manager": 1})
    reference = None
    try:
        stack.start()
        project = Project(stack, tokens)
        frame = alarm_frame_length(project)
        reference = Reference(stack, max(0, frame - len(REFERENCE_FRAME)), folder)
        print(
            f"production recipe on 127.0.0.1 ({describe(REPO)}): nginx {stack.url} (TLS) -> "
            f"{WORKERS} eventlet workers + Redis; reference: node {shutil.which('node')} "
            f"socket.io, a cluster of {WORKERS} processes + Redis (socket.io's Redis adapter) "
            f"behind the same nginx ({reference.url}); clients in {args.processes} processes "
            "(aiohttp on uvloop, TLS)",
            flush=True,
        )
        load_before = f"{os.getloadavg()[0]:.2f}"
        results, modes = {}, {}
        for clients in args.clients:
            time.sleep(2)  # the previous crowd's sockets are closed on every side
            together = nginx_connections(clients, both=True) <= args.open_files
            results[clients] = fan_out(
                stack, project, reference, clients, args.rounds, args.processes, together
            )
            modes[clients] = "alternating" if together else "one server after the other"
        status = status_json(stack, args.seconds, args.connections) if shutil.which("wrk") else {}
        problems = stack.exited()
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C waits for the stop
            signal.signal(number, signal.SIG_IGN)
        if reference is not None:
            reference.stop()
        stack.stop()

    print(
        f"\nalarm fan-out, {args.rounds} rounds each after a warm-up; ms from the POST to each "
        "client's incident.started; cpu ms per round (server: the workers or node processes, "
        "and their Redis); "
        f"load average at the start {load_before}, at the end {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'server':<10} {'N':>5} {'received':>15} {'p50':>7} {'p99':>7} {'max':>7} "
        f"{'bytes':>6} {'server':>7} {'nginx':>6} {'clients':>8} {'closed':>7}"
    )
    for clients, seen in results.items():
        print_fan_out(clients, args.rounds, seen, modes[clients])
    if status:
        print_status(status, args.seconds, args.connections)
    else:
        print("\nstatus JSON: skipped, wrk is not installed (apt-get install -y wrk)")
    if problems:
        print(f"exited during the run: {', '.join(problems)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--seconds", type=int, default=8, help="each wrk run")
    parser.add_argument("--connections", type=int, default=50, help="wrk's connections")
    parser.add_argument("--limit", type=int, default=900, help="stop the whole run after this")
    parser.add_argument(
        "--run", type=Path, help="keep the run folder (worker, nginx and node logs) here"
    )
    args = parser.parse_args()
    if not (NODE_REFERENCE / "node_modules" / "socket.io").is_dir():
        sys.exit(f"the node reference is not installed: cd {NODE_REFERENCE} && npm ci")
    args.open_files = raise_open_files(OPEN_FILES)
    if nginx_connections(max(args.clients), both=False) > args.open_files:
        sys.exit(f"{args.open_files} open files allowed: too few for {max(args.clients)} clients")

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt

    def over_time(_signum, _frame):
        raise TimeoutError(f"the run took longer than --limit {args.limit} s")

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)  # the finally blocks stop every process
    signal.signal(signal.SIGALRM, over_time)
    signal.alarm(args.limit)
    try:
        if args.run:
            args.run.mkdir(parents=True, exist_ok=True)
            run(args, args.run.resolve())
        else:
            with tempfile.TemporaryDirectory() as folder:
                run(args, Path(folder))
    except KeyboardInterrupt:
        sys.exit("interrupted; every process it started is stopped")
    finally:
        signal.alarm(0)


if __name__ == "__main__":
    main()
