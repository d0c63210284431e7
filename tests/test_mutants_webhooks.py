"""Outbound webhooks as an admin subscribes one and its receiver sees the deliveries: what a
mutation tester changed in the webhook code and no test noticed (issue 28). The app in this
process; each round of deliveries is run by the test (`deliver_due`), to a receiver on
127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
from test_webhooks import SECRET, Receiver, verified

import server.integrations.webhooks as webhooks_module
from harness import StandIn
from server.basics.clock import now_ms as server_clock
from server.basics.clock import parse_iso
from server.basics.errors import DiskFull
from server.channels.texts import default_texts
from server.integrations.webhooks import sentence

SITE = "/api/sites/demo"


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.close()


def deliver_all(services) -> None:
    while services.webhooks.deliver_due(services):
        pass


def test_a_webhook_that_does_not_ask_for_names_gets_roles_and_counts(services, api_as, receiver):
    hooked = api_as("admin").post(
        f"{SITE}/webhooks", {"url": receiver.url, "secret": SECRET, "events": ["backup.requested"]}
    )
    assert hooked.status_code == 201 and hooked.get_json()["include_names"] is False
    asked = api_as("staff", name="Lars Larsson").post(
        f"{SITE}/backup-requests", {"location": "Till 3", "note": "Lars"}
    )
    assert asked.status_code == 201

    deliver_all(services)

    [body] = [verified(request) for request in receiver.wait_for(1)]
    assert body["type"] == "backup.requested" and body["actor"]["role"] == "staff"
    assert [word for word in ("Lars", "Till 3") if word in json.dumps(body)] == []


NOT_HTTP = "'url' must be an http:// or https:// URL."
WITH_LOGIN = "'url' must not hold a user name or password."


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"url": "ftp://example.org/hook"}, NOT_HTTP),
        ({"url": "https:///hook"}, NOT_HTTP),
        ({"url": "mailto:ops@example.org"}, NOT_HTTP),
        ({"url": "example.org"}, NOT_HTTP),
        ({"url": "https://ops@example.org/hook"}, WITH_LOGIN),
        ({"url": "https://:password@example.org/hook"}, WITH_LOGIN),
        ({"url": "https://example.org:http/hook"}, "'url' has a port that is not a number."),
        ({"events": ["incident.started"]}, "'url' is required."),
    ],
)
def test_a_url_a_webhook_cannot_be_posted_to_is_refused(api_as, event_count, body, problem):
    admin = api_as("admin")
    before = event_count()

    answer = admin.post(f"{SITE}/webhooks", body)

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == problem
    assert event_count() == before


# --- a receiver that answers as told ---------------------------------------------------------


class Answering(StandIn):
    """A receiver answering each POST with `status` and a short body, after `gate` opens and
    `answer_after` seconds (a receiver across the internet); or with the bytes `garbled`
    instead of an HTTP answer (a URL naming a port that speaks something else)."""

    def __init__(self, status: int, answer_after: float = 0.0, garbled: bytes = b""):
        super().__init__()
        self.status, self.gate, self.answer_after = status, threading.Event(), answer_after
        self.gate.set()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stand_in.record({"body": body})
                stand_in.gate.wait(10)
                time.sleep(stand_in.answer_after)
                if garbled:
                    self.wfile.write(garbled)
                    return
                self.send_response(stand_in.status)
                self.send_header("Content-Length", "12")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.url = self.serve(Handler)


@pytest.fixture
def answering():
    made: list[Answering] = []
    yield lambda *args, **kwargs: made.append(Answering(*args, **kwargs)) or made[-1]
    for stand_in in made:
        stand_in.gate.set()
        stand_in.close()


def subscribe(api_as, url: str, **more) -> tuple:
    admin = api_as("admin")
    hooked = admin.post(f"{SITE}/webhooks", {"url": url, "secret": SECRET} | more)
    assert hooked.status_code == 201, hooked.get_json()
    return admin, hooked.get_json()["webhook_id"]


def deliveries(admin) -> list[dict]:
    return admin.get(f"{SITE}/webhooks/deliveries").get_json()["deliveries"]


def test_a_receiver_answering_200_with_a_body_has_the_event_once(services, api_as, answering):
    receiver = answering(200, 1.2)
    admin, _ = subscribe(api_as, receiver.url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    deliver_all(services)

    [body] = [json.loads(r["body"]) for r in receiver.received_within(2, timeout=1)]
    assert (body["type"], body["test"]) == ("incident.started", False)  # a real alarm
    [delivered] = deliveries(admin)
    assert delivered["state"] == "delivered" and delivered["next_at"] is None
    assert 1200 <= delivered["attempts"][0]["milliseconds"] < 10_000  # how long it took


@pytest.mark.parametrize("status", [200, 204, 299])  # any 2xx is a success (RFC 9110)
def test_a_receiver_answering_any_2xx_has_its_delivery_delivered(
    services, api_as, answering, status
):
    """The delivery log shows delivered, not a retry, whatever 2xx the receiver answers."""
    admin, _ = subscribe(api_as, answering(status).url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    deliver_all(services)

    [delivered] = deliveries(admin)
    assert delivered["state"] == "delivered"
    assert [(a["status"], a["error"]) for a in delivered["attempts"]] == [(status, None)]


def test_an_answer_that_is_not_http_is_shown_cut_at_300_characters(services, api_as, answering):
    """The delivery log shows what came back instead of HTTP, its first 300 characters."""
    receiver = answering(200, garbled=b"x" * 400 + b"\r\n")
    admin, _ = subscribe(api_as, receiver.url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    deliver_all(services)

    [pending] = deliveries(admin)
    [attempt] = pending["attempts"]
    assert (pending["state"], attempt["status"]) == ("pending", None)
    assert attempt["error"] == "BadStatusLine: " + "x" * (300 - len("BadStatusLine: "))


@pytest.mark.parametrize("status", [500, 300])  # a redirect is not followed: a failure
def test_a_failed_delivery_says_when_it_is_tried_again(services, api_as, answering, status):
    admin, _ = subscribe(api_as, answering(status).url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    deliver_all(services)

    [pending] = deliveries(admin)
    assert pending["state"] == "pending" and pending["attempts"][0]["status"] == status
    waits = parse_iso(pending["next_at"]) - parse_iso(pending["attempts"][0]["at"])
    assert waits == services.settings.webhook_retry_seconds * 1000  # the first of the backoff


@pytest.fixture
def hooks_clock(monkeypatch):
    """The deliveries' clock, moved on by the test: {"now": UTC ms}."""
    moment = {"now": server_clock()}
    monkeypatch.setattr(webhooks_module, "now_ms", lambda: moment["now"])
    return moment


def test_retries_wait_twice_as_long_each_time_and_stop_after_the_give_up_time(
    services, api_as, answering, hooks_clock
):
    admin, _ = subscribe(api_as, answering(500).url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    retry = int(services.settings.webhook_retry_seconds * 1000)
    give_up = int(services.settings.webhook_give_up_hours * 3_600_000)

    waits = []
    for _ in range(3):
        deliver_all(services)
        [pending] = deliveries(admin)
        waits.append(parse_iso(pending["next_at"]) - hooks_clock["now"])
        hooks_clock["now"] = parse_iso(pending["next_at"])
    hooks_clock["now"] += give_up
    deliver_all(services)

    assert waits == [retry, 2 * retry, 4 * retry]
    [given_up] = deliveries(admin)
    assert (given_up["state"], len(given_up["attempts"])) == ("gave_up", 4)


def test_a_delivery_failing_at_the_give_up_time_is_tried_once_more(
    services, api_as, answering, hooks_clock
):
    """A delivery is given up only once more than EXITNOW_WEBHOOK_GIVE_UP_HOURS have passed."""
    receiver = answering(500)
    admin, _ = subscribe(api_as, receiver.url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    deliver_all(services)
    [request] = receiver.wait_for(1)
    event_at = parse_iso(json.loads(request["body"])["ts"])

    hooks_clock["now"] = event_at + int(services.settings.webhook_give_up_hours * 3_600_000)
    deliver_all(services)
    [at_the_limit] = deliveries(admin)
    hooks_clock["now"] = parse_iso(at_the_limit["next_at"])
    deliver_all(services)

    assert (at_the_limit["state"], len(at_the_limit["attempts"])) == ("pending", 2)
    [given_up] = deliveries(admin)
    assert (given_up["state"], len(given_up["attempts"])) == ("gave_up", 3)


def test_the_server_log_names_each_failed_delivery_and_no_good_one(
    services, api_as, answering, hooks_clock, caplog
):
    subscribe(api_as, answering(500).url, events=["incident.started"])
    subscribe(api_as, answering(204).url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    with caplog.at_level(logging.WARNING, logger=webhooks_module.__name__):
        deliver_all(services)

    said = [r.getMessage() for r in caplog.records if r.name == webhooks_module.__name__]
    assert len(said) == 1 and said[0].endswith(" failed: HTTP 500")


def test_a_webhook_with_nothing_to_hear_does_not_hold_up_the_next(services, api_as, answering):
    quiet, busy = answering(204), answering(204)
    subscribe(api_as, quiet.url, events=["backup.requested"])
    subscribe(api_as, busy.url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    deliver_all(services)

    assert len(busy.wait_for(1)) == 1 and quiet.received == []


def test_a_round_with_nothing_due_writes_nothing(services, api_as, client, answering):
    subscribe(api_as, answering(204).url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    deliver_all(services)
    before = client.get("/healthz").get_json()["writer"]["transactions"]

    rounds = [services.webhooks.deliver_due(services) for _ in range(3)]

    assert rounds == [0, 0, 0]
    assert client.get("/healthz").get_json()["writer"]["transactions"] == before


def test_a_delivery_waiting_for_its_retry_costs_the_rounds_no_write(
    services, api_as, client, answering, hooks_clock
):
    admin, _ = subscribe(api_as, answering(500).url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    deliver_all(services)
    [waiting] = deliveries(admin)
    assert waiting["state"] == "pending" and parse_iso(waiting["next_at"]) > hooks_clock["now"]
    before = client.get("/healthz").get_json()["writer"]["transactions"]

    rounds = [services.webhooks.deliver_due(services) for _ in range(3)]

    assert rounds == [0, 0, 0]
    assert client.get("/healthz").get_json()["writer"]["transactions"] == before


def test_a_delivery_waiting_for_its_retry_is_not_sent_early_with_anothers(
    services, api_as, answering, hooks_clock
):
    failing, other = answering(500), answering(204)
    subscribe(api_as, failing.url, events=["incident.started"])
    subscribe(api_as, other.url, events=["incident.updated"])
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    deliver_all(services)
    manager.post(f"{SITE}/incidents/current/update", {"message": "Use the back door"})

    deliver_all(services)  # the other webhook's event is due; the retry is not yet

    assert len(other.wait_for(1)) == 1
    assert len(failing.received_within(2, timeout=1)) == 1


class Stopped(BaseException):
    """Ends the worker's endless loop in a test."""


def test_the_delivery_worker_goes_on_after_a_full_disk_and_a_failed_round(
    services, monkeypatch, caplog
):
    rounds = iter([DiskFull(), RuntimeError("the database is locked"), Stopped()])
    pauses = []

    def deliver_due(_services):
        raise next(rounds)

    monkeypatch.setattr(services.webhooks, "deliver_due", deliver_due)
    monkeypatch.setattr(services.socketio, "sleep", pauses.append)
    with caplog.at_level(logging.WARNING), pytest.raises(Stopped):
        services.webhooks.run_forever(services)

    assert pauses == [webhooks_module.POLL_SECONDS] * 2  # tried again after each
    # The full disk is said once, by the disk's own check, not again each second here.
    assert [r.getMessage() for r in caplog.records] == ["delivering webhooks failed"]


def test_a_delivery_under_way_is_not_taken_by_a_second_worker(services, api_as, client, answering):
    slow, other = answering(204), answering(204)
    slow.gate.clear()  # its first attempt hangs until the test lets it answer
    subscribe(api_as, slow.url, events=["incident.started"])
    subscribe(api_as, other.url, events=["incident.updated"])
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    first = threading.Thread(target=services.webhooks.deliver_due, args=(services,))
    first.start()
    slow.wait_for(1)
    written = client.get("/healthz").get_json()["writer"]["transactions"]
    assert services.webhooks.deliver_due(services) == 0  # nothing else due: not even a write
    assert client.get("/healthz").get_json()["writer"]["transactions"] == written
    manager.post(f"{SITE}/incidents/current/update", {"message": "Use the back door"})

    second = services.webhooks.deliver_due(services)  # another worker's round, meanwhile

    slow.gate.set()
    first.join(10)
    assert second == 1 and len(other.wait_for(1)) == 1
    assert len(slow.received_within(2, timeout=1)) == 1


def test_a_second_worker_leaves_a_delivery_under_way_until_its_lease_runs_out(
    services, api_as, answering, hooks_clock
):
    """A receiver slow to answer gets the event once: the worker sending it holds it 30 s."""
    slow = answering(204)
    slow.gate.clear()  # the first worker's attempt hangs until the test lets it answer
    admin, _ = subscribe(api_as, slow.url, events=["incident.started"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    hooks_clock["now"] |= 0xFFFF  # any moment: the lease runs 30 s from it, whatever its digits
    first = threading.Thread(target=services.webhooks.deliver_due, args=(services,))
    first.start()
    slow.wait_for(1)

    hooks_clock["now"] += webhooks_module.LEASE_MS - 1
    second = webhooks_module.WebhookDeliveries().deliver_due(services)

    slow.gate.set()
    first.join(10)
    assert second == 0 and len(slow.received_within(2, timeout=1)) == 1
    [delivered] = deliveries(admin)
    assert (delivered["state"], len(delivered["attempts"])) == ("delivered", 1)


def test_a_teams_webhook_gets_a_card_whose_text_wraps(services, api_as, answering):
    receiver = answering(200)
    subscribe(api_as, receiver.url, events=["incident.started"], format="teams")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    deliver_all(services)

    [request] = receiver.wait_for(1)
    [card] = json.loads(request["body"])["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    [block] = card["content"]["body"]
    assert block["type"] == "TextBlock" and block["wrap"] is True
    assert block["text"].startswith("Exit Now demo shop: ")


# --- the sentence a chat reads -----------------------------------------------------------------

SHOP = {"name": "Kauppa", "timezone": "Europe/Helsinki", "languages": '["en"]'}
WORDS = default_texts("en")["webhook_text"]


def said(type_: str, **payload) -> str:
    """The sentence for an event as the log gives it back: its words read from JSON."""
    event = {"type": type_, "ts": 1_800_000_000_000, "payload": payload}
    return sentence(json.loads(json.dumps(event)), SHOP)


@pytest.mark.parametrize(
    ("type_", "payload", "key"),
    [
        ("incident.ended", {"reason": "resolved"}, "incident.ended"),
        ("incident.updated", {"eta": "2099-01-01T10:00:00Z"}, "incident.updated_eta"),
        ("incident.updated", {"eta": None, "message": "Use the back door"}, "incident.updated"),
        ("webhook.tested", {"webhook_id": 1}, "webhook.tested"),
        ("notice.switched", {"channel": "status", "state": "closed"}, "notice.switched.closed"),
        ("notice.switched", {"channel": "banner", "state": "restored"}, "notice.switched.restored"),
        (
            "notice.switched",
            {"channel": "cap", "state": "closed", "eta": "2099-01-01T10:00:00Z"},
            "notice.switched.closed",
        ),
    ],
)
def test_each_event_has_its_own_sentence(type_, payload, key):
    words_before_a_moment = WORDS[key].replace("{site}", "Kauppa").split("{")[0]

    assert said(type_, **payload).startswith(words_before_a_moment)


@pytest.mark.parametrize(
    ("reply", "state"),
    [("ours", "closed"), ("earlier", "restored"), ("off", "restored"), ("theirs", "restored")],
)
def test_a_mailboxs_reply_is_said_as_closed_only_while_it_is_ours(reply, state):
    text = said("notice.switched", channel="email", mailbox="info@kauppa.fi", reply=reply)

    assert text == WORDS[f"notice.switched.email.{state}"].format(
        site="Kauppa", mailbox="info@kauppa.fi"
    )


@pytest.mark.parametrize(
    ("type_", "payload", "status"),
    [
        ("notice.switch_failed", {"state": "closed", "answer": {"status": 503}}, 503),
        (
            "notice.switch_failed",
            {"state": "closed", "answer": {"error": "timed out"}},
            "timed out",
        ),
        ("notice.reply_kept", {"state": "restored"}, None),
    ],
)
def test_a_mailbox_not_switched_is_not_said_to_be_switched(type_, payload, status):
    text = said(type_, channel="email", mailbox="info@kauppa.fi", **payload)

    assert text == WORDS[type_].format(site="Kauppa", mailbox="info@kauppa.fi", status=status)


def test_only_the_admins_test_delivery_is_marked_a_test(services, api_as, answering):
    receiver = answering(204)
    admin, webhook_id = subscribe(api_as, receiver.url, events=["zone.claimed"])
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    assert api_as("staff").post(f"{SITE}/zones/grocery/claim").status_code == 200
    assert admin.post(f"{SITE}/webhooks/{webhook_id}/test").status_code == 200

    deliver_all(services)

    bodies = [json.loads(request["body"]) for request in receiver.wait_for(2)]
    assert [(body["type"], body["test"]) for body in bodies] == [
        ("zone.claimed", False),
        ("webhook.tested", True),
    ]
