"""Fan-out between two server processes on one PostgreSQL database: PostgreSQL's own
LISTEN/NOTIFY (the log is the queue, server/live/follow.py) against Redis's message queue
(EXITNOW_MESSAGE_QUEUE), in the same run.

    python -m bench.bench_nodes [--phones 100] [--rounds 10]

Two real servers (`python -m server`, eventlet) on one database of a PostgreSQL server the
bench starts (Debian's, 127.0.0.1), and for the Redis way a redis-server it starts too.
`--phones` python-socketio clients on each process. Each round a duty manager starts an
incident through the first process and ends it; the time from sending the start until each
phone has `incident.started` is taken on one clock (the clients and the sender share this
process). Printed per way: the median and p99 for the phones of the process that committed
(the floor: it sends its own commit, doing strictly less) and for those of the other process,
and the other's p50 over the floor's. Everything runs on 127.0.0.1; what it starts it stops.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import socketio

from harness import LiveServer, PostgresServer, RedisServer, prepare_database
from harness.bench import percentile

SITE = "/api/sites/demo"


class Phone:
    def __init__(self, url: str, token: str):
        self.arrived: dict[int, float] = {}  # seq of incident.started -> when it arrived
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", lambda item: self._seen([item]))
        self.sio.on("events", self._seen)
        self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=20)

    def _seen(self, items: list[dict]) -> None:
        now = time.monotonic()
        for item in items:
            if item["type"] == "incident.started":
                self.arrived.setdefault(item["seq"], now)


def run_way(way: str, folder: Path, database_url: str, phones: int, rounds: int, redis_url=None):
    db_path = folder / way / "exitnow.db"
    tokens = prepare_database(db_path, {"staff": 2 * phones, "duty_manager": 1}, database_url)
    env = {"EXITNOW_DATABASE_URL": database_url}
    if redis_url:
        env["EXITNOW_MESSAGE_QUEUE"] = redis_url
    servers = [
        LiveServer(db_path, env={**env, "EXITNOW_PUBLIC_DIR": str(folder / way / f"public-{n}")})
        for n in (1, 2)
    ]
    try:
        for server in servers:
            server.start()
        with ThreadPoolExecutor(20) as pool:
            crowd = list(
                pool.map(lambda i: Phone(servers[i % 2].url, tokens["staff"][i]), range(2 * phones))
            )
        time.sleep(2)  # the connect states and catch-ups are sent
        manager = tokens["duty_manager"][0]
        own, other = [], []
        for _ in range(rounds):
            sent = time.monotonic()
            started = servers[0].post(f"{SITE}/incidents", manager, {"kind": "fire", "drill": True})
            seq = started.json()["seq"]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not all(seq in p.arrived for p in crowd):
                time.sleep(0.01)
            for i, phone in enumerate(crowd):
                if seq in phone.arrived:
                    (own if i % 2 == 0 else other).append(phone.arrived[seq] - sent)
            ended = servers[0].post(
                f"{SITE}/incidents/current/all-clear", manager, {"reason": "drill_over"}
            )
            assert ended.ok, ended.text
            time.sleep(0.5)
        missing = rounds * 2 * phones - len(own) - len(other)
        for phone in crowd:
            phone.sio.disconnect()
        return own, other, missing
    finally:
        for server in servers:
            server.stop()


def ms(values: list[float], fraction: float) -> float:
    return 1000 * percentile(values, fraction)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=100, help="phones on each process")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="exitnow-bench-nodes-"))
    folder.chmod(0o711)
    postgres = PostgresServer(folder / "postgres").start()
    (folder / "redis").mkdir()
    redis = RedisServer(folder / "redis").start()
    try:
        results = {
            "notify": run_way(
                "notify", folder, postgres.create_database("notify"), args.phones, args.rounds
            ),
            "redis": run_way(
                "redis",
                folder,
                postgres.create_database("redis"),
                args.phones,
                args.rounds,
                redis.url,
            ),
        }
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"alarm fan-out over two processes, {args.phones} phones each, {args.rounds} rounds")
    print(
        "way     committing process p50 / p99   other process p50 / p99   other/floor p50  missing"
    )
    for way, (own, other, missing) in results.items():
        print(
            f"{way:7} {ms(own, 0.5):8.1f} / {ms(own, 0.99):6.1f} ms"
            f"       {ms(other, 0.5):8.1f} / {ms(other, 0.99):6.1f} ms"
            f"       {percentile(other, 0.5) / percentile(own, 0.5):6.2f}x       {missing}"
        )


if __name__ == "__main__":
    threading.stack_size(512 * 1024)
    main()
