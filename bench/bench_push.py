"""Time to send the alarm's Web Push to N subscriptions (VAPID signing, aes128gcm encryption,
HTTP POST) to a local push service on 127.0.0.1.

    python bench/bench_push.py [--subscriptions 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from test_push import Browser, PushService  # noqa: E402

from server import create_app, demo  # noqa: E402
from server.auth import Identity, command_line  # noqa: E402
from server.commands import execute  # noqa: E402
from server.settings import Settings  # noqa: E402


def subscribe_devices(services, service: PushService, count: int) -> None:
    for number in range(count):
        made = execute(
            services,
            command_line("demo"),
            "demo",
            "create_token",
            {"name": f"phone {number}", "role": "staff"},
        )
        phone = Identity(
            "demo", "staff", f"phone {number}", made["staff_id"], made["credential_id"]
        )
        subscription = Browser(f"{service.url}/push/{number}").subscription
        execute(services, phone, "demo", "subscribe_push", {"subscription": subscription})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    service = PushService()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            db_path=f"{folder}/bench.db",
            public_dir=f"{folder}/public",
            async_mode="threading",
            secret_key="bench",
        )
        services = create_app(settings).extensions["exitnow"]
        demo.seed(services)
        subscribe_devices(services, service, args.subscriptions)
        event = {
            "type": "incident.started",
            "site": "demo",
            "seq": 1,
            "payload": {"incident_id": 1, "kind": "fire", "drill": True},
        }
        seconds = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            outcome = services.publisher.push.send_alarm("demo", event)
            seconds.append(time.perf_counter() - started)
            assert outcome["delivered"] == args.subscriptions, outcome
        services.store.close()
    service.close()
    print(
        f"Web Push of the alarm to {args.subscriptions} subscriptions, local push service, "
        f"{args.rounds} rounds, 2 cores"
    )
    print(
        f"total seconds: median {statistics.median(seconds):.2f}, max {max(seconds):.2f}; "
        f"{args.subscriptions / statistics.median(seconds):.0f} pushes/s"
    )


if __name__ == "__main__":
    main()
