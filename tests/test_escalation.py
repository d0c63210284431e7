"""Escalation during an incident, on the real server under eventlet, against the local push
service and a stand-in for Twilio's API on 127.0.0.1: a phone that has not confirmed the alarm
within the site's time gets the push again, then an SMS in its owner's language; a phone that
confirmed gets neither; every attempt is logged and the console's state shows it."""

from __future__ import annotations

import pytest
import requests

from harness import Browser, TwilioStandIn, eventually, prepare_database
from server.rules.auth import CSRF_HEADER, SESSION_COOKIE

SITE = "demo"
ACCOUNT, SENDER = TwilioStandIn.ACCOUNT, TwilioStandIn.SENDER
ERIKS_PHONE = "+46701234567"


@pytest.fixture
def site(tmp_path, live_servers, twilio):
    """The real server with Twilio configured (the stand-in), the demo site's escalation after
    1 s with SMS on, and Erik's phone number: (server, admin token, manager token)."""
    tokens = prepare_database(tmp_path / "site.db", {"admin": 1, "duty_manager": 1})
    server = live_servers(tmp_path / "site.db", env=twilio.env()).start()
    admin, manager = tokens["admin"][0], tokens["duty_manager"][0]
    config = server.get(f"/api/sites/{SITE}/setup", admin).json()["config"]
    for person in config["staff"]:
        if person["name"] == "Erik Lindqvist":
            person["phone"] = ERIKS_PHONE
    config["escalation"] = {"seconds": 1, "sms": True}
    saved = server.post(f"/api/sites/{SITE}/setup", admin, {"config": config})
    assert saved.status_code == 200, saved.text
    return server, admin, manager


def phone_of(server, manager: str, name: str, push_url: str) -> tuple[requests.Session, Browser]:
    """A person's phone: enrolled through a link, subscribed to the push service."""
    people = server.get(f"/api/sites/{SITE}/readiness", manager).json()["people"]
    staff_id = next(p["staff_id"] for p in people if p["name"] == name)
    link = server.post(f"/api/sites/{SITE}/staff/{staff_id}/enrollment-links", manager).json()
    phone = requests.Session()
    assert phone.post(f"{server.url}/api/enroll", json={"code": link["code"]}).status_code == 201
    assert phone.cookies.get(SESSION_COOKIE)
    csrf = phone.get(f"{server.url}/api/me").json()["csrf_token"]
    browser = Browser(push_url)
    subscribed = phone.post(
        f"{server.url}/api/push/subscriptions",
        json={"subscription": browser.subscription},
        headers={CSRF_HEADER: csrf},
    )
    assert subscribed.status_code == 201, subscribed.text
    phone.headers[CSRF_HEADER] = csrf
    return phone, browser


def test_a_silent_phone_gets_the_push_again_then_an_sms_in_its_language(site, push_service, twilio):
    server, _admin, manager = site
    erik, eriks_browser = phone_of(server, manager, "Erik Lindqvist", push_service.url + "/erik")
    sara, _ = phone_of(server, manager, "Sara Smith", push_service.url + "/sara")

    started = server.post(f"/api/sites/{SITE}/incidents", manager, {"kind": "fire"})
    assert started.status_code == 201, started.text
    push_service.wait_for(2)  # the alarm, to both phones
    # Sara's app confirms at once (the automatic receipt); Erik's phone stays silent.
    assert sara.post(f"{server.url}/api/sites/{SITE}/incidents/current/delivered").ok

    pushes = push_service.wait_for(3)
    [sms] = twilio.wait_for(1)

    to_erik = [push for push in pushes if push["path"] == "/erik"]
    assert len(to_erik) == 2  # the alarm, and the alarm again
    again = eriks_browser.decrypt(to_erik[1]["body"])
    assert again["type"] == "incident.started" and again["title"] == "BRANDLARM: utrym"
    assert sms["To"] == ERIKS_PHONE and sms["From"] == SENDER
    assert sms["Body"].startswith("BRANDLARM: utrym") and "Öppna Exit Now" in sms["Body"]
    assert sms["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert sms["authorization"].startswith("Basic ")
    assert [push["path"] for push in push_service.received_within(4, timeout=2)].count("/sara") == 1

    def tried() -> list:
        state = server.get(f"/api/sites/{SITE}/state", manager).json()
        attempts = state["escalations"]
        return len(attempts) == 2 and all(a["outcome"] for a in attempts) and attempts

    attempts = eventually(tried, timeout=10)
    erik_id = attempts[0]["staff_id"]
    assert [(a["staff_id"], a["channel"], a["outcome"]) for a in attempts] == [
        (erik_id, "push", "accepted"),
        (erik_id, "sms", "accepted"),
    ]
    events = server.get(f"/api/sites/{SITE}/events?after={started.json()['seq']}", manager)
    types = [event["type"] for event in events.json()["events"]]
    assert types.count("alarm.escalated") == 2 and types.count("sms.sent") == 1
    assert len(twilio.received_within(2, timeout=2)) == 1  # one SMS, not one per worker or second
