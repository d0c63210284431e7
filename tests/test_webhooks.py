"""Outbound webhooks: a site's events go to the URLs an admin subscribed, as JSON signed with
HMAC-SHA256 over `<timestamp>.<body>` (server/basics/signing.py), in the log's order, each event id
once, retried with backoff across restarts of the server, with a delivery log admins read."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from harness import StandIn, eventually, free_port, prepare_database
from server.basics import signing

SITE = "demo"
SECRET = "the-receivers-shared-secret"
RETRIES = {"EXITNOW_WEBHOOK_RETRY_SECONDS": "0.3", "EXITNOW_WEBHOOK_RETRY_MAX_SECONDS": "1"}


class Receiver(StandIn):
    """An HTTP receiver on 127.0.0.1 and a port of its own, which can be down (nothing listens
    there: connection refused) and brought up; it records every request as it came."""

    def __init__(self):
        super().__init__()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks/exit-now?token=capability"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.record({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.serve(Handler, self.port)

    def wait_for(self, count: int, timeout: float = 20) -> list[dict]:
        return super().wait_for(count, timeout)


@pytest.fixture
def server(tmp_path, live_servers):
    """The real server (eventlet) on the demo site with an admin and a duty manager, quick
    retries: (server, admin's token, manager's token)."""
    tokens = prepare_database(tmp_path / "hooks.db", {"admin": 1, "duty_manager": 1})
    started = live_servers(tmp_path / "hooks.db", env=RETRIES).start()
    return started, tokens["admin"][0], tokens["duty_manager"][0]


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def verified(request: dict) -> dict:
    """The body, after checking its signature as a receiver does."""
    headers = {name.lower(): value for name, value in request["headers"].items()}
    signing.verify(
        [SECRET],
        headers[signing.TIMESTAMP_HEADER.lower()],
        headers[signing.SIGNATURE_HEADER.lower()],
        request["body"],
        time.time(),
    )
    body = json.loads(request["body"])
    assert headers[signing.EVENT_ID_HEADER.lower()] == body["id"]
    return body


def test_every_event_arrives_in_order_once_and_signed_across_a_restart(server, receiver):
    server, admin, manager = server
    added = server.post(
        f"/api/sites/{SITE}/webhooks", admin, {"url": receiver.url, "secret": SECRET}
    )
    assert added.status_code == 201, added.text
    since = added.json()["seq"]
    # The receiver is down: the first delivery fails, again and again.
    server.post(f"/api/sites/{SITE}/incidents", manager, {"kind": "fire"})
    eta = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    server.post(f"/api/sites/{SITE}/incidents/current/update", manager, {"eta": eta})

    def failing() -> list:
        log = server.get(f"/api/sites/{SITE}/webhooks/deliveries", admin).json()["deliveries"]
        return log and len(log[-1]["attempts"]) >= 2 and log

    first = eventually(failing, timeout=20)[-1]
    assert first["state"] == "pending" and first["type"] == "incident.started"
    assert all(attempt["status"] is None for attempt in first["attempts"])  # refused
    server.kill()  # a power cut, deliveries still pending
    server.start()
    server.post(f"/api/sites/{SITE}/incidents/current/all-clear", manager, {"reason": "resolved"})
    receiver.start()

    events = server.get(f"/api/sites/{SITE}/events?after={since}&limit=1000", admin).json()
    wanted = [f"{SITE}:{e['seq']}" for e in events["events"] if e["type"] in added.json()["events"]]
    assert len(wanted) >= 10  # started, updated, ended and the channels' switches
    received = receiver.wait_for(len(wanted))
    time.sleep(1.5)  # anything sent twice would be here by now
    bodies = [verified(request) for request in receiver.received]
    assert [body["id"] for body in bodies] == wanted  # in order, each once
    assert received[0]["path"] == "/hooks/exit-now?token=capability"
    assert bodies[0]["type"] == "incident.started" and bodies[0]["payload"]["kind"] == "fire"
    assert bodies[-1]["type"] in ("incident.ended", "notice.switched")
    assert "PALOHÄLYTYS" in bodies[0]["text"]  # a sentence in the site's first language
    # Each delivery carries the newest signed checkpoint: the incident's start is witnessed.
    started_seq = int(wanted[0].split(":")[1])
    origin, size = bodies[-1]["checkpoint"].split("\n")[:2]
    assert origin.endswith(f"/{SITE}") and int(size) >= started_seq
    log = server.get(f"/api/sites/{SITE}/webhooks/deliveries", admin).json()["deliveries"]
    assert {delivery["state"] for delivery in log} == {"delivered"}
    assert len(log) == len(wanted)


def test_a_test_delivery_reaches_only_its_webhook_and_the_log_is_for_admins(server, receiver):
    server, admin, manager = server
    receiver.start()
    other = Receiver()
    other.start()
    try:
        mine = server.post(
            f"/api/sites/{SITE}/webhooks",
            admin,
            {"url": receiver.url, "secret": SECRET, "events": ["incident.started"]},
        ).json()
        server.post(f"/api/sites/{SITE}/webhooks", admin, {"url": other.url, "format": "slack"})

        tested = server.post(f"/api/sites/{SITE}/webhooks/{mine['webhook_id']}/test", admin)

        assert tested.status_code == 200, tested.text
        [request] = receiver.wait_for(1)
        body = verified(request)
        assert body["type"] == "webhook.tested" and body["test"] is True
        assert other.received_within(1, timeout=2) == []
    finally:
        other.close()
    for path in ("webhooks", "webhooks/deliveries"):
        assert server.get(f"/api/sites/{SITE}/{path}", manager).status_code == 403
    listed = server.get(f"/api/sites/{SITE}/webhooks", admin).json()["webhooks"]
    assert [hook["origin"] for hook in listed] == [
        f"http://127.0.0.1:{receiver.port}",
        f"http://127.0.0.1:{other.port}",
    ]
    stored = b"".join(
        path.read_bytes() for path in server.db_path.parent.glob(f"{server.db_path.name}*")
    )
    assert SECRET.encode() not in stored and b"token=capability" not in stored  # sealed


def test_a_slack_webhook_gets_slacks_shape(server, receiver):
    server, admin, _manager = server
    receiver.start()
    hook = server.post(
        f"/api/sites/{SITE}/webhooks", admin, {"url": receiver.url, "format": "slack"}
    ).json()

    server.post(f"/api/sites/{SITE}/webhooks/{hook['webhook_id']}/test", admin)

    [request] = receiver.wait_for(1)
    assert list(json.loads(request["body"])) == ["text"]


def test_a_webhook_names_roles_not_people_unless_it_asks_for_names(tmp_path, live_servers):
    tokens = prepare_database(tmp_path / "hooks.db", {"admin": 1, "staff": 1})
    server = live_servers(tmp_path / "hooks.db", env=RETRIES).start()
    admin, staff = tokens["admin"][0], tokens["staff"][0]
    plain, named = Receiver(), Receiver()
    plain.start()
    named.start()
    try:
        for receiver, include_names in ((plain, False), (named, True)):
            hooked = server.post(
                f"/api/sites/{SITE}/webhooks",
                admin,
                {"url": receiver.url, "secret": SECRET, "events": ["backup.requested"]}
                | {"include_names": include_names},
            )
            assert hooked.status_code == 201 and hooked.json()["include_names"] is include_names
        asked = server.post(
            f"/api/sites/{SITE}/backup-requests", staff, {"location": "Till 3", "note": "Lars"}
        )
        assert asked.status_code == 201, asked.text

        [without] = [verified(request) for request in plain.wait_for(1)]
        [with_names] = [verified(request) for request in named.wait_for(1)]
    finally:
        plain.close()
        named.close()
    assert without["actor"] == {"staff_id": without["actor"]["staff_id"], "role": "staff"}
    assert [word for word in ("staff 0", "Till 3", "Lars") if word in json.dumps(without)] == []
    assert with_names["actor"]["name"] == "staff 0"
    assert (
        with_names["payload"]["location"] == "Till 3" and with_names["payload"]["name"] == "staff 0"
    )
