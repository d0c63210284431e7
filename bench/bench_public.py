"""Requests per second for a site's status.json: from the app (plain and conditional GET) and
from nginx serving the same snapshot file, measured in the same run with wrk.

    python -m bench.bench_public [--seconds 10] [--connections 50]

Needs Debian's wrk and nginx (apt-get install -y wrk nginx-light). Everything runs on
127.0.0.1 and every process it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from harness import LiveServer, prepare_database, start_nginx


def wrk(url: str, seconds: int, connections: int, etag: str | None = None) -> dict:
    """Run wrk once; return requests/s and the 50th/99th percentile latency in ms."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if etag:
        command[1:1] = ["-H", f"If-None-Match: {etag}"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return {"rps": rate, "p50": _latency(output, "50%"), "p99": _latency(output, "99%")}


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        tokens = prepare_database(folder / "bench.db", {"duty_manager": 1})
        app = LiveServer(folder / "bench.db", {"EXITNOW_PUBLIC_DIR": str(folder / "public")})
        nginx = None
        try:
            app.start()
            app.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})
            nginx, static = start_nginx(
                folder / "nginx", folder / "public", app.port, connections=1024
            )
            runs = {}
            for name, base in (("app", app.url), ("nginx", static)):
                url = base + "/status/demo.json"
                etag = requests.get(url, timeout=5).headers["ETag"]
                runs[f"{name} plain GET"] = wrk(url, args.seconds, args.connections)
                runs[f"{name} conditional GET (304)"] = wrk(
                    url, args.seconds, args.connections, etag
                )
        finally:
            app.stop()
            if nginx:
                nginx.terminate()
                nginx.wait(timeout=10)
    print(f"status.json, wrk -t2 -c{args.connections} -d{args.seconds}s, 127.0.0.1, 2 cores")
    print(f"{'server':<30} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, run in runs.items():
        print(f"{name:<30} {run['rps']:>10.0f} {run['p50']:>8.2f} {run['p99']:>8.2f}")
    for kind in ("plain GET", "conditional GET (304)"):
        ratio = runs[f"nginx {kind}"]["rps"] / runs[f"app {kind}"]["rps"]
        print(f"nginx / app, {kind}: {ratio:.1f}x")


if __name__ == "__main__":
    main()
