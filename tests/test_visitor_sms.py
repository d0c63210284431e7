"""The alarm's SMS to visitors, on the real server under eventlet, through a stand-in for
Twilio's API on 127.0.0.1: a visitor who gave a phone number gets one SMS when an alarm starts
(or when they sign in during one), in their language, with their personal link, saying what the
incident's kind asks of them; a visitor without a phone gets none; each answer is logged."""

from __future__ import annotations

import pytest
import requests

from harness import eventually, prepare_database

SITE = "demo"
VERA, SVEN, ELSA, LATE = "+358401110001", "+46701110002", "+447700900003", "+358401110004"


@pytest.fixture
def site(tmp_path, live_servers, twilio):
    """The real server with Twilio configured (the stand-in): (server, manager, guard)."""
    tokens = prepare_database(tmp_path / "site.db", {"duty_manager": 1, "guard": 1})
    server = live_servers(tmp_path / "site.db", env=twilio.env()).start()
    return server, tokens["duty_manager"][0], tokens["guard"][0]


def sign_in(server, guard: str, **visitor) -> str:
    """A visitor signed in at the desk; their personal link's token."""
    answer = server.post(f"/api/sites/{SITE}/visitors", guard, visitor)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"]


def by_phone(messages: list[dict]) -> dict[str, str]:
    bodies: dict[str, str] = {}
    for message in messages:
        assert message["To"] not in bodies, f"two SMS to {message['To']}"
        bodies[message["To"]] = message["Body"]
    return bodies


def alarm(server, manager: str, twilio, expected: int, **incident) -> dict[str, str]:
    """Start an incident; the SMS it sent (exactly `expected` of them), by phone number."""
    before = len(twilio.received)
    started = server.post(f"/api/sites/{SITE}/incidents", manager, incident)
    assert started.status_code == 201, started.text
    twilio.wait_for(before + expected)
    return by_phone(twilio.received_within(before + expected + 1, timeout=1)[before:])


def all_clear(server, manager: str) -> None:
    ended = server.post(
        f"/api/sites/{SITE}/incidents/current/all-clear", manager, {"reason": "resolved"}
    )
    assert ended.status_code == 200, ended.text


def test_visitors_with_a_phone_get_one_sms_in_their_language_with_their_link(site, twilio):
    server, manager, guard = site
    state = server.get(f"/api/sites/{SITE}/state", manager).json()
    host = next(p for p in state["roll_call"]["staff"] if p["expected_assembly_point"])
    points = {p["id"]: p["name"] for p in state["assembly_points"]}
    hosts_point = points[host["expected_assembly_point"]]
    links = {
        VERA: sign_in(
            server, guard, name="Vera", phone=VERA, language="fi", host_staff_id=host["staff_id"]
        ),
        SVEN: sign_in(server, guard, name="Sven", phone=SVEN, language="sv"),
    }
    sign_in(server, guard, name="Nils No-phone", language="fi")
    elsa = requests.post(  # at the entrance: no account
        f"{server.url}/api/sites/{SITE}/visitors/self",
        json={"name": "Elsa", "phone": ELSA, "language": "en"},
        timeout=10,
    )
    assert elsa.status_code == 201, elsa.text
    links[ELSA] = elsa.json()["token"]

    sms = alarm(server, manager, twilio, 3, kind="evacuation", drill=True)

    assert set(sms) == {VERA, SVEN, ELSA}  # none to the visitor without a phone
    for phone, token in links.items():
        assert f"/visit/{SITE}#{token}" in sms[phone]
    assert sms[VERA].startswith("HARJOITUS: evakuointi")
    assert f"mene kokoontumispaikalle: {hosts_point}." in sms[VERA]  # their host's point only
    other = next(name for name in points.values() if name != hosts_point)
    assert other not in sms[VERA]
    assert sms[SVEN].startswith("ÖVNING: utrymning")
    assert all(name in sms[SVEN] for name in points.values())  # no host: every point
    assert sms[ELSA].startswith("DRILL: evacuation") and "nearest exit" in sms[ELSA]

    late = sign_in(server, guard, name="Late Larry", phone=LATE, language="en")
    [joined] = twilio.wait_for(4)[3:]
    assert joined["To"] == LATE and f"#{late}" in joined["Body"] and "DRILL" in joined["Body"]

    def texted() -> list:
        answer = server.get(f"/api/sites/{SITE}/events?after=0&limit=1000", manager)
        logged = [e["payload"] for e in answer.json()["events"] if e["type"] == "visitor.texted"]
        return len(logged) >= 4 and logged

    texted = eventually(texted)  # each answer is logged after Twilio's
    assert len(texted) == 4 and {t["outcome"] for t in texted} == {"accepted"}
    assert all(t["sid"].startswith("SM") and t["incident_id"] == 1 for t in texted)
    assert len(twilio.received_within(5, timeout=1)) == 4  # once each, not again


def test_shelter_says_stay_and_a_threat_names_no_assembly_point(site, twilio):
    server, manager, guard = site
    state = server.get(f"/api/sites/{SITE}/state", manager).json()
    points = [p["name"] for p in state["assembly_points"]]
    sign_in(server, guard, name="Vera", phone=VERA, language="fi")
    sign_in(server, guard, name="Elsa", phone=ELSA, language="en")

    shelter = alarm(server, manager, twilio, 2, kind="shelter")
    all_clear(server, manager)
    threat = alarm(server, manager, twilio, 2, kind="threat")

    assert shelter[ELSA].startswith("SHELTER IN PLACE: stay inside")
    assert "Stay inside" in shelter[ELSA] and "Pysy sisällä" in shelter[VERA]
    assert "Follow the staff's instructions" in threat[ELSA]
    assert "Toimi henkilökunnan ohjeiden mukaan" in threat[VERA]
    for text in [*shelter.values(), *threat.values()]:
        assert not any(point in text for point in points)
        assert "nearest exit" not in text and "uloskäyn" not in text
