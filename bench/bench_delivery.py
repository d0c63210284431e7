"""Alarm delivery latency: from the duty manager's POST to each staff client receiving
`incident.started`, for N clients in separate processes, beside the framework's floor (a bare
Flask-SocketIO server under eventlet emitting one message of the same size to the same N).

    python bench/bench_delivery.py [--clients 100 1000] [--rounds 3] [--processes 8]

Everything runs on 127.0.0.1; every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from helpers import LiveServer, free_port, prepare_database  # noqa: E402

CONNECT_TIMEOUT = 120
ROUND_TIMEOUT = 30


# --- clients: one asyncio loop per process, many python-socketio AsyncClients in it ---------


def client_process(url: str, auth: dict, count: int, commands, results) -> None:
    asyncio.run(run_clients(url, auth, count, commands, results))


async def run_clients(url, auth, count, commands, results):
    import socketio

    received: list[int] = []
    clients = []
    for _ in range(count):
        client = socketio.AsyncClient(reconnection=False)

        @client.on("event")
        async def on_event(data):
            if data.get("type") == "incident.started":
                received.append(time.time_ns())

        await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=60)
        clients.append(client)
    results.put(("connected", count))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, commands.get)
        if command == "collect":
            results.put(("times", list(received)))
            received.clear()
        elif command == "stop":
            break
    for client in clients:
        await client.disconnect()


class Crowd:
    """N connected clients spread over worker processes."""

    def __init__(self, url: str, auth: dict, clients: int, processes: int):
        self.results = multiprocessing.Queue()
        self.commands = [multiprocessing.Queue() for _ in range(processes)]
        shares = [clients // processes + (i < clients % processes) for i in range(processes)]
        self.workers = [
            multiprocessing.Process(
                target=client_process, args=(url, auth, share, queue, self.results), daemon=True
            )
            for share, queue in zip(shares, self.commands, strict=True)
            if share
        ]
        for worker in self.workers:
            worker.start()
        connected, deadline = 0, time.monotonic() + CONNECT_TIMEOUT
        while connected < clients:
            _, count = self.results.get(timeout=max(1, deadline - time.monotonic()))
            connected += count

    def collect(self) -> list[int]:
        for queue in self.commands[: len(self.workers)]:
            queue.put("collect")
        times = []
        for _ in self.workers:
            times += self.results.get(timeout=ROUND_TIMEOUT)[1]
        return times

    def stop(self) -> None:
        for queue in self.commands[: len(self.workers)]:
            queue.put("stop")
        for worker in self.workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()


# --- one round: trigger, wait for every client, return latencies in ms --------------------------


def measure(crowd: Crowd, clients: int, trigger) -> list[float]:
    started = time.time_ns()
    trigger()
    deadline = time.monotonic() + ROUND_TIMEOUT
    times: list[int] = []
    while len(times) < clients and time.monotonic() < deadline:
        time.sleep(0.2)
        times += crowd.collect()
    return [(t - started) / 1e6 for t in times]


def exit_now_rounds(folder: Path, clients: int, rounds: int, processes: int) -> list[float]:
    tokens = prepare_database(folder / "bench.db", {"staff": 1, "duty_manager": 1})
    server = LiveServer(folder / "bench.db").start()
    manager = tokens["duty_manager"][0]
    crowd = None
    try:
        crowd = Crowd(server.url, {"token": tokens["staff"][0]}, clients, processes)
        samples = []
        for _ in range(rounds):
            samples += measure(
                crowd,
                clients,
                lambda: server.post(
                    "/api/sites/demo/incidents", manager, {"kind": "fire", "drill": True}
                ),
            )
            server.post(
                "/api/sites/demo/incidents/current/all-clear", manager, {"reason": "drill_over"}
            )
            time.sleep(1)
        return samples
    finally:
        if crowd:
            crowd.stop()
        server.stop()


def floor_rounds(clients: int, rounds: int, processes: int, payload_bytes: int) -> list[float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "floor_server.py"), str(port), str(payload_bytes)],
        cwd=REPO,
    )
    url = f"http://127.0.0.1:{port}"
    crowd = None
    try:
        for _ in range(200):
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        crowd = Crowd(url, {}, clients, processes)
        samples = []
        for _ in range(rounds):
            samples += measure(crowd, clients, lambda: requests.post(url + "/fire", timeout=30))
            time.sleep(1)
        return samples
    finally:
        if crowd:
            crowd.stop()
        server.terminate()
        server.wait(timeout=10)


def figures(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"n": len(ordered), "median": statistics.median(ordered), "p99": p99, "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1000 sockets need more than 1024
    # The floor sends a message as large as Exit Now's incident.started event.
    payload_bytes = len(
        json.dumps(
            {
                "seq": 20,
                "type": "incident.started",
                "ts": "2026-11-24T21:28:54.949Z",
                "actor": {"staff_id": 7, "name": "duty_manager 0", "role": "duty_manager"},
                "payload": {
                    "incident_id": 1,
                    "kind": "fire",
                    "drill": True,
                    "message": None,
                    "eta": None,
                },
            }
        )
    )
    print(
        f"delivery of incident.started, {args.rounds} rounds, clients in "
        f"{args.processes} processes, 127.0.0.1, 2 cores (ms from POST to receipt)"
    )
    print(f"{'server':<10} {'N':>5} {'received':>9} {'median':>8} {'p99':>8} {'max':>8}")
    for clients in args.clients:
        with tempfile.TemporaryDirectory() as folder:
            ours = figures(exit_now_rounds(Path(folder), clients, args.rounds, args.processes))
        floor = figures(floor_rounds(clients, args.rounds, args.processes, payload_bytes))
        for name, row in (("exit-now", ours), ("floor", floor)):
            print(
                f"{name:<10} {clients:>5} {row['n']:>9} {row['median']:>8.1f} "
                f"{row['p99']:>8.1f} {row['max']:>8.1f}"
            )
        print(
            f"{'ratio':<10} {clients:>5} {'':>9} {ours['median'] / floor['median']:>8.2f} "
            f"{ours['p99'] / floor['p99']:>8.2f} {ours['max'] / floor['max']:>8.2f}"
        )


if __name__ == "__main__":
    main()
