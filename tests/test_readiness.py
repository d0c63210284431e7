"""Phone readiness before the day: a duty manager sees, for every person, whether their phone
can be reached now (enrolled in the app, notifications allowed, a push subscription the push
service accepted the last time, last connected, app version) and why not; a test alarm reaches
the phones only (no incident, nothing public) and each phone's answer is recorded."""

from __future__ import annotations

import pytest
import requests
import socketio

from harness import Browser, eventually
from server.rules.auth import CSRF_HEADER, SESSION_COOKIE

SITE = "demo"


@pytest.fixture
def phones(client, services, demo_links, app):
    """phones(name) -> (a test client enrolled as that demo person by their link, its CSRF
    token): a phone, signed in by its session cookie."""

    def enroll(name: str):
        link = next(url for person, url in demo_links if person["name"] == name)
        phone = app.test_client()
        assert phone.post("/api/enroll", json={"code": link.rsplit("/", 1)[1]}).status_code == 201
        return phone, phone.get("/api/me").get_json()["csrf_token"]

    return enroll


def subscribe(phone, csrf: str, browser: Browser) -> None:
    answer = phone.post(
        "/api/push/subscriptions",
        json={"subscription": browser.subscription},
        headers={CSRF_HEADER: csrf},
    )
    assert answer.status_code == 201, answer.get_json()


def readiness_of(manager, name: str) -> dict:
    answer = manager.get(f"/api/sites/{SITE}/readiness")
    assert answer.status_code == 200, answer.get_json()
    return next(person for person in answer.get_json()["people"] if person["name"] == name)


def test_a_token_only_person_is_not_ready(api_as, make_token):
    make_token("staff", name="Tiina Token")  # an integration's credential: no phone behind it
    manager = api_as("duty_manager")

    tiina = readiness_of(manager, "Tiina Token")

    assert tiina["ready"] is False
    assert tiina["enrolled"] is False
    assert tiina["reasons"] == ["not_enrolled"]


def test_an_enrolled_subscribed_phone_is_ready_and_the_count_says_so(api_as, phones, push_service):
    phone, csrf = phones("Erik Lindqvist")
    subscribe(phone, csrf, Browser(push_service.url + "/push/erik"))
    manager = api_as("duty_manager")

    answer = manager.get(f"/api/sites/{SITE}/readiness").get_json()

    erik = next(person for person in answer["people"] if person["name"] == "Erik Lindqvist")
    assert erik["ready"] is True and erik["reasons"] == [] and erik["subscriptions"] == 1
    assert answer["ready"] == 1  # the demo's other five people have no phone yet
    assert answer["total"] == len(answer["people"]) == 7  # with the manager asking


def test_a_subscription_answered_410_shows_not_ready_with_the_reason(api_as, phones, push_service):
    phone, csrf = phones("Erik Lindqvist")
    subscribe(phone, csrf, Browser(push_service.url + "/gone/erik"))
    manager = api_as("duty_manager")
    assert readiness_of(manager, "Erik Lindqvist")["ready"] is True  # nothing says otherwise yet

    manager.post(f"/api/sites/{SITE}/test-alarms", {})

    push_service.wait_for(1)
    erik = eventually(lambda: (e := readiness_of(manager, "Erik Lindqvist"))["reasons"] and e)
    assert erik["ready"] is False
    assert erik["reasons"] == ["subscription_expired"]
    assert erik["push"]["outcome"] == "expired" and erik["push"]["status"] == 410
    assert erik["subscriptions"] == 0  # the push service forgot it, so did the server


def test_a_test_alarm_reaches_the_ready_phone_and_its_answer_is_recorded(
    api_as, phones, push_service, client
):
    phone, csrf = phones("Erik Lindqvist")
    browser = Browser(push_service.url + "/push/erik")
    subscribe(phone, csrf, browser)
    manager = api_as("duty_manager")
    public_before = client.get(f"/status/{SITE}.json").get_json()

    sent = manager.post(f"/api/sites/{SITE}/test-alarms", {})

    assert sent.status_code == 201, sent.get_json()
    [push] = push_service.wait_for(1)
    message = browser.decrypt(push["body"])
    assert message["type"] == "test_alarm.sent" and message["test_id"] == sent.get_json()["test_id"]
    assert message["title"] == "Provlarm från Exit Now"  # Erik reads Swedish
    # What the service worker does with it (pwa/sw.js): the receipt, with the phone's cookie.
    receipt = phone.post(message["answer"], json={}, headers={CSRF_HEADER: message["csrf_token"]})
    assert receipt.status_code == 200 and receipt.get_json()["changed"] is True

    erik = eventually(lambda: (e := readiness_of(manager, "Erik Lindqvist"))["push"] and e)
    assert erik["ready"] is True
    assert erik["test"]["push"] == "accepted" and erik["test"]["answered_at"] is not None
    assert erik["push"] == {**erik["push"], "outcome": "accepted", "purpose": "test"}
    # Silent to the site: no incident, the public notice as it was.
    assert manager.get(f"/api/sites/{SITE}/state").get_json()["incident"] is None
    assert client.get(f"/status/{SITE}.json").get_json()["state"] == public_before["state"]
    assert len(push_service.received_within(2, timeout=0.5)) == 1  # only Erik's phone can get one
    since = sent.get_json()["seq"] - 1
    events = manager.get(f"/api/sites/{SITE}/events?after={since}").get_json()["events"]
    types = [event["type"] for event in events]
    # The phone may answer before the push service's answers are logged: either order.
    assert sorted(types) == ["push.sent", "test_alarm.answered", "test_alarm.sent"]


def test_a_test_alarm_answer_is_refused_from_someone_it_was_not_sent_to(api_as, phones):
    manager = api_as("duty_manager")
    aino = next(
        p["staff_id"]
        for p in manager.get(f"/api/sites/{SITE}/readiness").get_json()["people"]
        if p["name"] == "Aino Aaltonen"
    )
    test_id = manager.post(f"/api/sites/{SITE}/test-alarms", {"staff_id": aino}).get_json()[
        "test_id"
    ]
    phone, csrf = phones("Erik Lindqvist")

    answer = phone.post(
        f"/api/sites/{SITE}/test-alarms/{test_id}/answer", json={}, headers={CSRF_HEADER: csrf}
    )

    assert answer.status_code == 404


def test_staff_cannot_read_the_readiness_list(api_as):
    assert api_as("staff").get(f"/api/sites/{SITE}/readiness").status_code == 403


def test_the_phones_connection_app_version_and_notifications_show(live_server):
    """On the real server: the phone says its app version and notification permission as it
    connects (pwa/js/device.js); the server keeps it in memory and the list shows it."""
    manager = live_server.token("duty_manager", "Maija Manager")
    link = live_server.cli("enrollment-link", "--site", SITE, "--staff-id", "3")
    code = link.stdout.strip().splitlines()[-1].rsplit("/", 1)[1]
    enrolled = requests.post(f"{live_server.url}/api/enroll", json={"code": code}, timeout=10)
    cookie = enrolled.cookies[SESSION_COOKIE]
    name = enrolled.json()["name"]
    phone = socketio.Client(reconnection=False, websocket_extra_options={"origin": live_server.url})
    phone.connect(
        live_server.url,
        auth={"app_version": "0123abcd", "notifications": "denied"},
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
        transports=["websocket"],
        wait_timeout=10,
    )
    try:

        def person() -> dict:
            people = live_server.get(f"/api/sites/{SITE}/readiness", manager).json()["people"]
            return next(p for p in people if p["name"] == name)

        connected = eventually(lambda: (p := person())["connected"] and p)
        assert connected["app_version"] == "0123abcd"
        assert connected["notifications"] == "denied"
        assert "notifications_off" in connected["reasons"]
    finally:
        phone.disconnect()
    gone = eventually(lambda: not (p := person())["connected"] and p)
    assert gone["last_connected"] is not None and gone["app_version"] == "0123abcd"
