"""Web Push as a push service sees it: a local endpoint that checks the VAPID signature and
the Urgency/TTL headers and decrypts the RFC 8291 (aes128gcm) payload, like a phone would."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest

from harness import Browser, b64url, eventually, outside_store, verify_vapid
from server.live.push import alarm_message
from server.live.push_encryption import encrypt


@pytest.fixture
def enrolled_phone(client, services, demo_links):
    """A staff phone enrolled through its link (cookie session): returns (client, csrf)."""
    link = next(url for person, url in demo_links if person["name"] == "Erik Lindqvist")
    client.post("/api/enroll", json={"code": link.rsplit("/", 1)[1]})
    return client, client.get("/api/me").get_json()["csrf_token"]


def subscribe(phone, csrf: str, subscription: dict):
    return phone.post(
        "/api/push/subscriptions",
        json={"subscription": subscription},
        headers={"X-CSRF-Token": csrf},
    )


def test_alarm_push_is_signed_urgent_and_readable_only_by_the_phone(
    enrolled_phone, push_service, api_as, client
):
    phone, csrf = enrolled_phone
    browser = Browser(push_service.url + "/push/erik")
    assert subscribe(phone, csrf, browser.subscription).status_code == 201
    server_key = client.get("/api/push/vapid-public-key").get_json()["key"]

    api_as("duty_manager").post("/api/sites/demo/incidents", {"kind": "fire"})

    [push] = push_service.wait_for(1)
    headers = {name.title(): value for name, value in push["headers"].items()}  # case-free
    assert headers["Urgency"] == "high"

    assert int(headers["Ttl"]) == 3600
    assert headers["Content-Encoding"] == "aes128gcm"
    verify_vapid(headers["Authorization"], push_service.url, server_key)
    message = browser.decrypt(push["body"])
    assert message["type"] == "incident.started" and message["kind"] == "fire"
    assert message["title"] == "BRANDLARM: utrym"  # Erik reads Swedish
    assert message["url"] == "/#alarm"
    assert push["body"].find(b"BRANDLARM") == -1  # encrypted on the wire


def test_expired_subscription_is_removed_and_logged(enrolled_phone, push_service, api_as, services):
    phone, csrf = enrolled_phone
    subscribe(phone, csrf, Browser(push_service.url + "/gone/erik").subscription)
    manager = api_as("duty_manager")

    manager.post("/api/sites/demo/incidents", {"kind": "fire"})

    push_service.wait_for(1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the removal runs right after the 410 arrives
        with services.store.reading() as db:
            if not db.execute("SELECT COUNT(*) FROM push_subscriptions").fetchone()[0]:
                break
        time.sleep(0.05)
    events = manager.get("/api/sites/demo/events?after=0&limit=1000").get_json()["events"]
    assert [e["type"] for e in events].count("push.expired") == 1


def with_keys(endpoint: str = "https://push.example/x", **keys) -> dict:
    """A browser's subscription with some of its fields replaced."""
    subscription = Browser(endpoint).subscription
    subscription["keys"].update(keys)
    return subscription


NOT_ON_THE_CURVE = b64url(b"\x04" + b"\x01" * 64)  # 65 bytes, but no P-256 point


@pytest.mark.parametrize(
    ("subscription", "field"),
    [
        ({"endpoint": "not a url", "keys": {"p256dh": "abc", "auth": "def"}}, "endpoint"),
        (with_keys("http://push.example/x"), "endpoint"),  # plain http, off this machine
        (with_keys("https://push.example/" + "x" * 2000), "endpoint"),
        (with_keys("https:///no-host"), "endpoint"),
        (with_keys(p256dh="no spaces allowed"), "keys.p256dh"),
        (with_keys(p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQ"), "keys.p256dh"),
        (with_keys(p256dh=NOT_ON_THE_CURVE), "keys.p256dh"),
        (with_keys(auth=b64url(os.urandom(8))), "keys.auth"),
        (with_keys(auth=b64url(os.urandom(32))), "keys.auth"),
        ({"endpoint": "https://push.example/x"}, "keys.p256dh"),
    ],
)
def test_a_subscription_no_push_could_use_is_refused_naming_the_field(
    enrolled_phone, event_count, services, subscription, field
):
    phone, csrf = enrolled_phone
    before = event_count()
    answer = subscribe(phone, csrf, subscription)
    assert answer.status_code == 400
    assert answer.get_json()["field"] == f"subscription.{field}"
    assert field in answer.get_json()["detail"]
    assert event_count() == before
    with services.store.reading() as db:
        assert db.execute("SELECT COUNT(*) FROM push_subscriptions").fetchone()[0] == 0


def test_a_stored_unusable_subscription_costs_one_warning_and_no_other_push(
    enrolled_phone, push_service, api_as, services, caplog
):
    """A subscription stored before its keys were checked (the log keeps it, a rebuild brings
    it back): every round still reaches the others, and the server warns about it once."""
    phone, csrf = enrolled_phone
    good = Browser(push_service.url + "/push/good")
    assert subscribe(phone, csrf, good.subscription).status_code == 201
    bad = subscribe(phone, csrf, Browser(push_service.url + "/push/bad").subscription)
    bad_id = bad.get_json()["subscription_id"]
    with outside_store(services.settings.db_path) as db:  # as an older version stored it
        db.execute(
            "UPDATE push_subscriptions SET p256dh = ? WHERE id = ?", [NOT_ON_THE_CURVE, bad_id]
        )
    manager = api_as("duty_manager")

    caplog.set_level(logging.WARNING)
    for _alarm in range(2):
        assert manager.post("/api/sites/demo/incidents", {"kind": "fire"}).status_code == 201
        manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "false_alarm"})
    pushes = push_service.wait_for(4)  # two alarms, two all-clears: to the good phone only
    assert {push["path"] for push in pushes} == {"/push/good"}
    assert [good.decrypt(push["body"])["type"] for push in pushes].count("incident.started") == 2

    def outcomes() -> list[dict]:
        events = manager.get("/api/sites/demo/events?after=0&limit=1000").get_json()["events"]
        return [e for e in events if e["type"] == "push.sent"]

    rounds = eventually(lambda: len(outcomes()) == 4 and outcomes())
    for round_ in rounds:
        answers = {r["subscription_id"]: r["outcome"] for r in round_["payload"]["results"]}
        assert answers[bad_id] == "failed"
        assert sorted(answers.values()) == ["accepted", "failed"]
    about_push = [r for r in caplog.records if r.name == "server.live.push"]
    assert [r.levelname for r in about_push] == ["WARNING"]
    assert str(bad_id) in about_push[0].getMessage() and not about_push[0].exc_info


def test_vapid_key_is_made_once_and_kept_private(settings, client):
    first = client.get("/api/push/vapid-public-key").get_json()["key"]
    key_file = os.path.join(os.path.dirname(settings.db_path), "vapid_private.pem")
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    from server import create_app

    again = create_app(settings)
    assert again.test_client().get("/api/push/vapid-public-key").get_json()["key"] == first
    again.extensions["exitnow"].store.close()


def test_one_vapid_signature_serves_every_push_to_a_push_service(services, push_service):
    sender = services.push
    for number in range(5):  # five phones on one push service, as at one site
        browser = Browser(f"{push_service.url}/push/{number}")
        keys = browser.subscription["keys"]
        row = {"id": number, "endpoint": browser.subscription["endpoint"], "language": "fi"}
        event = {
            "type": "incident.started",
            "site": "demo",
            "seq": 1,
            "payload": {"incident_id": 1, "kind": "fire", "drill": False},
        }
        assert sender._send({**row, **keys}, alarm_message(event, row))[0] == "accepted"
    tokens = {push["headers"]["Authorization"] for push in push_service.wait_for(5)}
    assert len(tokens) == 1  # signed once, not once per push
    server_key = sender.public_key
    claims = verify_vapid(tokens.pop(), push_service.url, server_key)
    assert time.time() + 11 * 3600 < claims["exp"] <= time.time() + 24 * 3600


def test_each_push_body_has_its_own_key_and_salt_and_a_phone_decrypts_it():
    browser = Browser("http://127.0.0.1:9/push/1")
    keys = browser.subscription["keys"]
    message = json.dumps({"title": "Poistu nyt – älä jää hakemaan tavaroita"}).encode()
    first, second = (encrypt(message, keys["p256dh"], keys["auth"]) for _ in range(2))
    assert first[:16] != second[:16]  # the salt
    assert first[21:86] != second[21:86]  # the sender's ECDH public key
    assert browser.decrypt(first) == browser.decrypt(second) == json.loads(message)
    with pytest.raises(ValueError):
        encrypt(b"x" * 3994, keys["p256dh"], keys["auth"])  # over the 4096 bytes of one record
