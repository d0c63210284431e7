"""Time to send the alarm's Web Push to N subscriptions (VAPID, aes128gcm encryption, HTTP POST)
to a local push service on 127.0.0.1, beside a bare sender posting the same pushes to it.

    python -m bench.bench_push [--subscriptions 1000] [--rounds 10]

The push service (harness's PushService, one thread per kept-alive connection) runs
in a process of its own, so it does not share the server's GIL. After each round, untimed, it
checks every push it got like a phone would: the VAPID signature, audience and expiry, the
Urgency/TTL headers, and that the body decrypts with that phone's keys. The bare sender posts
bodies encrypted and signed before the clock starts, with as many threads as the server has
senders: if it is not much faster than the server, the push service is the bottleneck.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from pywebpush import WebPusher

from harness import Browser, PushService, verify_vapid
from harness.bench import demo_services
from server.commands import execute
from server.live import push
from server.rules.auth import Identity, command_line

EVENT = {
    "type": "incident.started",
    "site": "demo",
    "seq": 1,
    "payload": {"incident_id": 1, "kind": "fire", "drill": True},
}


def serve_pushes(connection, count: int, answer_after: float) -> None:
    """In its own process: the push service and the N phones behind it."""
    service = PushService(answer_after)
    browsers = {f"/push/{n}": Browser(f"{service.url}/push/{n}") for n in range(count)}
    connection.send((service.url, [browser.subscription for browser in browsers.values()]))
    while (server_key := connection.recv()) is not None:
        with service.arrived:
            pushes, service.received[:] = list(service.received), []
        connection.send(check(pushes, browsers, service.url, server_key))
    service.close()


def check(pushes: list[dict], browsers: dict, audience: str, server_key: str) -> dict:
    """What the phones saw: how many pushes, how many checked out, when each arrived."""
    tokens, readable = {}, 0
    for pushed in pushes:
        headers = {name.title(): value for name, value in pushed["headers"].items()}
        authorization = headers["Authorization"]
        if authorization not in tokens:  # a push service checks each JWT it sees
            tokens[authorization] = verify_vapid(authorization, audience, server_key)
        message = browsers[pushed["path"]].decrypt(pushed["body"])
        readable += (
            headers["Urgency"] == "high"
            and headers["Content-Encoding"] == "aes128gcm"
            and int(headers["Ttl"]) > 0
            and message["type"] == "incident.started"
        )
    return {
        "pushes": len(pushes),
        "readable": readable,
        "jwts": len(tokens),
        "connections": len({pushed["connection"] for pushed in pushes}),
        "arrivals": [pushed["at"] for pushed in pushes],
    }


def subscribe_devices(services, subscriptions: list[dict]) -> None:
    for number, subscription in enumerate(subscriptions):
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
        execute(services, phone, "demo", "subscribe_push", {"subscription": subscription})


def bare_sender(url: str, subscriptions: list[dict], sender) -> callable:
    """Pushes encrypted and signed ahead, posted by SENDERS threads on kept-alive connections."""
    address = urlsplit(url)
    authorization = sender.tokens.authorization(url)
    message = json.dumps({"type": "incident.started", "title": "x" * 40}).encode()
    ready = [
        (urlsplit(s["endpoint"]).path, WebPusher(s).encode(message, "aes128gcm")["body"])
        for s in subscriptions
    ]
    local = threading.local()

    def post(item: tuple[str, bytes]) -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(address.hostname, address.port)
        path, body = item
        headers = {"Authorization": authorization, "Content-Encoding": "aes128gcm"}
        headers.update({"TTL": "3600", "Urgency": "high"})
        local.connection.request("POST", path, body=body, headers=headers)
        response = local.connection.getresponse()
        response.read()
        assert response.status == 201, response.status

    def send_all() -> None:
        with ThreadPoolExecutor(push.SENDERS) as pool:
            list(pool.map(post, ready))

    return send_all


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed_round(send, pushes, count: int, server_key: str, figures: dict) -> None:
    """One send to all N, and what the phones saw of it, added to `figures`."""
    started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the push service's process
    send()
    figures["totals"].append(time.monotonic() - started)
    pushes.send(server_key)
    phones = pushes.recv()
    assert phones["pushes"] == phones["readable"] == count, phones
    figures["arrivals"] += [at - started for at in phones["arrivals"]]
    figures["jwts"] = max(figures["jwts"], phones["jwts"])
    figures["connections"] = max(figures["connections"], phones["connections"])


def row(name: str, count: int, figures: dict) -> str:
    totals, arrivals = figures["totals"], figures["arrivals"]
    return (
        f"{name:<10}{statistics.median(totals):>9.3f}{percentile(totals, 0.99):>9.3f}"
        f"{count / statistics.median(totals):>10.0f}"
        f"{statistics.median(arrivals) * 1000:>10.0f}{percentile(arrivals, 0.99) * 1000:>9.0f}"
        f"{figures['connections']:>7}{figures['jwts']:>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--push-service-ms",
        type=float,
        default=0,
        help="the push service answers this long after a push arrives (its distance)",
    )
    args = parser.parse_args()
    pushes, theirs = multiprocessing.get_context("spawn").Pipe()
    service = multiprocessing.get_context("spawn").Process(
        target=serve_pushes,
        args=(theirs, args.subscriptions, args.push_service_ms / 1000),
        daemon=True,
    )
    service.start()
    url, subscriptions = pushes.recv()
    with tempfile.TemporaryDirectory() as folder:
        services = demo_services(folder)
        subscribe_devices(services, subscriptions)
        sender = services.push

        def send_alarm() -> None:
            outcome = sender.send_alarm("demo", EVENT)
            assert outcome["delivered"] == args.subscriptions, outcome

        senders = {"exit-now": send_alarm, "bare": bare_sender(url, subscriptions, sender)}
        figures = {
            name: {"totals": [], "arrivals": [], "jwts": 0, "connections": 0} for name in senders
        }
        for _ in range(args.rounds):  # in turns, so both see the same machine
            for name, send in senders.items():
                timed_round(send, pushes, args.subscriptions, sender.public_key, figures[name])
        services.store.close()
    pushes.send(None)
    service.join(timeout=10)
    print(
        f"Web Push of the alarm to {args.subscriptions} subscriptions, local push service in "
        f"its own process answering after {args.push_service_ms:g} ms, {args.rounds} rounds, "
        f"{push.SENDERS} senders"
    )
    print(
        f"{'sender':<10}{'median s':>9}{'p99 s':>9}{'pushes/s':>10}"
        f"{'arr. ms':>10}{'p99 ms':>9}{'conns':>7}{'JWTs':>6}"
    )
    for name, figure in figures.items():
        print(row(name, args.subscriptions, figure))


if __name__ == "__main__":
    main()
