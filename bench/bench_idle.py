"""What connected idle phones cost: the server's share of a core while N phones are connected
and nothing happens, beside the framework's floor (bare Flask-SocketIO under eventlet,
bench/floor_server.py) and a bare Node socket.io server (bench/node_reference/, `npm ci` there
first), all three measured over the same seconds.

    python -m bench.bench_idle [--clients 1000 5000] [--seconds 60] [--processes 2]
                               [--repo PATH] [--profile STATS] [--async-mode eventlet|gevent]
                               [--limit 900] [--deflate]

For each N, the same client processes (bench/bench_connect.py's light phones: they answer
pings and count every frame) open N sockets to each server (Exit Now's as the app connects: a
staff token each, its last seq, app version and notification permission), wait 15 s for the
connects' after-effects (the presence flush, a head period), then read each server's CPU time
(/proc/PID/stat) every 5 s for --seconds. Printed per server: % of one core over the whole
time, the median and p99 of the 5-second windows, and the frames each phone received per
minute by name. The servers' own ping intervals differ (Exit Now 10 s, the others 25 s): it is
said beside the figures.

`--async-mode gevent` runs Exit Now and the floor under gevent.
`--deflate`: the phones offer permessage-deflate as Chromium's do (harness.bench.add_deflate_option).
Each server's resident memory with the N phones connected is printed too.
`--profile STATS` runs Exit Now under cProfile (bench/profiled.py) for the measured
seconds of the largest N and writes the statistics there.

Everything runs on 127.0.0.1; every process it starts is stopped by its id at the end, on an
error or Ctrl-C too, and the run stops after --limit seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from bench.bench_connect import (
    Phones,
    load_average,
    start_servers,
    stop_on_sigterm,
    time_limit,
    wait_until_written,
)
from harness import REPO
from harness.bench import (
    add_deflate_option,
    cpu_seconds,
    describe,
    percentile,
    raise_open_files,
    resident_mb,
)

WINDOW_SECONDS = 5
SETTLE_SECONDS = 15


def measure(servers, seconds: int) -> dict[str, list[float]]:
    """Each server's % of one core in each WINDOW_SECONDS window."""
    windows: dict[str, list[float]] = {server.name: [] for server in servers}
    before = {server.name: cpu_seconds(server.pid) for server in servers}
    began = time.monotonic()
    for number in range(1, seconds // WINDOW_SECONDS + 1):
        time.sleep(max(0.0, began + number * WINDOW_SECONDS - time.monotonic()))
        for server in servers:
            now = cpu_seconds(server.pid)
            windows[server.name].append((now - before[server.name]) / WINDOW_SECONDS * 100)
            before[server.name] = now
    return windows


def idle_run(phones: Phones, servers, clients: int, seconds: int, profile: Path | None) -> None:
    started = time.monotonic()
    for server in servers:
        phones.open(server, clients)
    connected = time.monotonic() - started
    time.sleep(SETTLE_SECONDS)
    phones.frames()  # forget the connects' frames
    resident = {server.name: resident_mb(server.pid) for server in servers}
    project = servers[0]
    if profile is not None:
        os.kill(project.pid, signal.SIGUSR1)
    windows = measure(servers, seconds)
    if profile is not None:
        os.kill(project.pid, signal.SIGUSR2)
        wait_until_written(profile)
    frames, closed = phones.frames()
    phones.close()
    print(
        f"\nN = {clients} idle phones on each server (all {len(servers) * clients} connected in "
        f"{connected:.0f} s), {seconds} s measured; load average {load_average()}"
    )
    print(f"{'server':29} % of a core: all   p50   p99 | MB | frames per phone per minute")
    for server in servers:
        values = windows[server.name]
        whole = sum(values) / len(values)
        per_minute = {
            name: count / clients * 60 / seconds
            for name, count in sorted(frames.get(server.url, {}).items())
        }
        said = ", ".join(f"{name} {count:.1f}" for name, count in per_minute.items())
        print(
            f"{server.name:29} {whole:16.1f} {percentile(values, 0.5):5.1f}"
            f" {percentile(values, 0.99):5.1f} | {resident[server.name]:.0f} | {said} "
            f"(ping every {server.ping_interval} s)"
        )
    if closed:
        print(f"NOTE: {closed} sockets were closed during the run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--profile", type=Path, help="cProfile Exit Now's largest N here")
    parser.add_argument("--async-mode", default="eventlet", choices=["eventlet", "gevent"])
    parser.add_argument("--limit", type=int, default=900, help="seconds the whole run may take")
    add_deflate_option(parser)
    args = parser.parse_args()
    most = max(args.clients)
    raise_open_files(8 * most + 1000)
    stop_on_sigterm()
    folder = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    print(f"Exit Now: {describe(args.repo.resolve())}")
    print(f"load average at the start: {load_average()}")
    servers, phones = [], None
    with time_limit(args.limit):
        try:
            repo = args.repo.resolve()
            servers = start_servers(repo, folder, most, args.profile, None, args.async_mode)
            phones = Phones(args.processes, args.deflate)
            for clients in args.clients:
                profile = args.profile if clients == most else None
                idle_run(phones, servers, clients, args.seconds, profile)
        finally:
            if phones is not None:
                phones.stop()
            for server in servers:
                server.stop()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
