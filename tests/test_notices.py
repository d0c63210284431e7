"""The public channels switch themselves: closed at the start, restored at the all-clear, open
after the site's restored time; every file and URL says so, in Finnish, Swedish and English."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from server import timers

LANGS = ("fi", "sv", "en")
# TwiML voice verbs and their nouns (Twilio's documentation): nothing else may appear.
TWILIO_VOICE_ELEMENTS = {
    "Response",
    "Say",
    "Play",
    "Pause",
    "Hangup",
    "Redirect",
    "Record",
    "Gather",
    "Dial",
    "Enqueue",
    "Leave",
    "Reject",
    "Number",
    "Client",
    "Conference",
    "Queue",
    "Sip",
}
CLOSED_WORDS = {"fi": "suljettu", "sv": "stängd", "en": "closed"}
RESTORED_WORDS = {"fi": "taas auki", "sv": "öppen igen", "en": "open again"}


@pytest.fixture
def site_folder(settings) -> Path:
    return Path(settings.public_dir) / "demo"


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


def channel_urls(lang: str) -> dict[str, str]:
    """URL -> snapshot file name, for one language."""
    return {
        f"/status/demo?lang={lang}": f"status.{lang}.html",
        f"/phone/demo/{lang}.twiml": f"phone.{lang}.twiml",
        f"/phone/demo/{lang}.ssml": f"phone.{lang}.ssml",
        f"/phone/demo/{lang}.txt": f"phone.{lang}.txt",
    }


def test_starting_an_incident_closes_every_channel_before_the_answer(client, manager, site_folder):
    answer = manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    assert answer.status_code == 201
    # The answer has come back: every file and URL must already say closed.
    status = json.loads((site_folder / "status.json").read_text())
    assert status["state"] == "closed" and status["since"] and status["eta"] is None
    for lang in LANGS:
        assert CLOSED_WORDS[lang] in status["notice"][lang]["text"]
        for url, name in channel_urls(lang).items():
            served = client.get(url)
            assert served.status_code == 200, url
            assert served.data == (site_folder / name).read_bytes(), url
            assert CLOSED_WORDS[lang] in served.data.decode(), url
    assert client.get("/status/demo.json").get_json() == status
    banner = client.get("/embed/demo/banner.js")
    assert banner.data == (site_folder / "banner.js").read_bytes()
    assert '"state": "closed"' in banner.data.decode()


def test_all_clear_shows_restored_for_the_restored_time(client, manager, services):
    manager.post("/api/sites/demo/incidents", {"kind": "power_outage"})
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})

    restored = client.get("/status/demo.json").get_json()
    assert restored["state"] == "restored"
    for lang in LANGS:
        assert RESTORED_WORDS[lang] in restored["notice"][lang]["text"]
    assert timers.reopen_due_sites(services) == []  # 30 minutes by default
    assert client.get("/status/demo.json").get_json()["state"] == "restored"


def test_channels_are_plain_open_once_the_restored_time_is_over(
    client, manager, api_as, services, site_folder
):
    api_as("admin").post("/api/sites/demo/notice-settings", {"settings": {"restored_minutes": 0}})
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})

    assert timers.reopen_due_sites(services) == ["demo"]

    status = client.get("/status/demo.json").get_json()
    assert status["state"] == "open"
    assert "is open as usual" in status["notice"]["en"]["text"]
    assert not (site_folder / "cap.xml").exists()
    assert client.get("/cap/demo.xml").status_code == 404


def test_every_channel_switch_is_in_the_log(client, manager, services):
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})
    with services.store.transaction() as db:  # as if the restored time were over
        db.execute("UPDATE public_notices SET restored_until = 0")
    timers.reopen_due_sites(services)

    events = manager.get("/api/sites/demo/events?after=0&limit=1000").get_json()["events"]
    switches = [
        (e["payload"]["channel"], e["payload"]["state"])
        for e in events
        if e["type"] == "notice.switched"
    ]
    channels = {"status_page", "banner", "phone_queue", "queue_screen", "alert_feed"}
    for state in ("closed", "restored", "open"):
        assert {channel for channel, s in switches if s == state} == channels


def test_conditional_get_answers_304_until_the_notice_changes(client, manager):
    first = client.get("/status/demo.json")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "stale-while-revalidate" in first.headers["Cache-Control"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/status/demo.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304

    manager.post("/api/sites/demo/incidents", {"kind": "fire"})

    changed = client.get("/status/demo.json", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert changed.get_json()["state"] == "closed"


def test_a_drill_leaves_the_public_channels_open(client, manager):
    manager.post("/api/sites/demo/incidents", {"kind": "fire", "drill": True})
    assert client.get("/status/demo.json").get_json()["state"] == "open"


def test_a_drill_closes_the_channels_when_the_site_says_so(client, manager, api_as):
    admin = api_as("admin")
    answer = admin.post("/api/sites/demo/notice-settings", {"settings": {"public_on_drill": True}})
    assert answer.status_code == 200
    manager.post("/api/sites/demo/incidents", {"kind": "fire", "drill": True})
    assert client.get("/status/demo.json").get_json()["state"] == "closed"


def test_estimated_reopening_time_shows_and_follows_changes(client, manager):
    manager.post("/api/sites/demo/incidents", {"kind": "evacuation"})
    eta = "2099-01-01T12:30:00+00:00"  # 14.30 in Helsinki, a Thursday

    changed = manager.post("/api/sites/demo/incidents/current/update", {"eta": eta})

    assert changed.status_code == 200
    status = client.get("/status/demo.json").get_json()
    assert status["eta"] == "2099-01-01T12:30:00.000Z"
    assert "14:30 on Thursday 1 January 2099" in status["notice"]["en"]["text"]
    assert "torstaina 1.1.2099 klo 14.30" in client.get("/phone/demo/fi.txt").data.decode()
    past = manager.post("/api/sites/demo/incidents/current/update", {"eta": "2001-01-01T00:00:00Z"})
    assert past.status_code == 400


def test_public_wording_reveals_no_details_of_a_threat(client, manager):
    manager.post(
        "/api/sites/demo/incidents", {"kind": "threat", "message": "armed person at till 3"}
    )
    everything = " ".join(
        client.get(url).data.decode().lower()
        for lang in LANGS
        for url in [*channel_urls(lang), "/status/demo.json"]
    )
    for word in ("armed", "weapon", "threat", "till 3", "uhka", "hot"):
        assert word not in everything


def test_status_page_speaks_the_visitors_language_and_links_the_others(client, manager):
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})

    swedish = client.get("/status/demo", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
    english = client.get("/status/demo?lang=en", headers={"Accept-Language": "sv"})

    assert '<html lang="sv">' in swedish.data.decode()
    assert "stängd" in swedish.data.decode()
    assert '<html lang="en">' in english.data.decode()
    for lang in ("fi", "sv"):
        assert f'href="?lang={lang}" lang="{lang}" hreflang="{lang}"' in english.data.decode()
    assert "Accept-Language" in swedish.headers["Vary"]


@pytest.mark.parametrize("state", ["closed", "restored", "open"])
def test_twiml_is_well_formed_and_uses_only_twilio_verbs(client, manager, services, state):
    manager.post("/api/sites/demo/notice-settings", {"settings": {}})
    if state != "open":
        manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    if state == "restored":
        manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})
    for lang in LANGS:
        root = ET.fromstring(client.get(f"/phone/demo/{lang}.twiml").data)
        assert root.tag == "Response"
        assert {element.tag for element in root.iter()} <= TWILIO_VOICE_ELEMENTS
        if state == "closed":
            assert [e.tag for e in root][-1] == "Hangup"
            assert root.find("Say").get("language").startswith(lang)


def test_open_twiml_hands_the_call_back_and_closed_can_take_a_message(client, api_as, manager):
    admin = api_as("admin")
    admin.post(
        "/api/sites/demo/notice-settings",
        {
            "settings": {
                "phone_open_redirect": "https://example.invalid/queue",
                "phone_when_closed": "voicemail",
            }
        },
    )
    opened = ET.fromstring(client.get("/phone/demo/en.twiml").data)
    assert opened.find("Redirect").text == "https://example.invalid/queue"

    manager.post("/api/sites/demo/incidents", {"kind": "fire"})

    closed = ET.fromstring(client.get("/phone/demo/en.twiml").data)
    assert closed.find("Record") is not None
    assert closed.find("Redirect") is None


def test_site_can_reword_a_notice_per_language(client, api_as, manager):
    admin = api_as("admin")
    wording = {"en": {"apology": "Call us tomorrow at 010 123 4567."}}
    admin.post("/api/sites/demo/notice-settings", {"settings": {"texts": wording}})
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})

    status = client.get("/status/demo.json").get_json()

    assert "Call us tomorrow at 010 123 4567." in status["notice"]["en"]["lines"]
    assert "Call us tomorrow" not in status["notice"]["fi"]["text"]


@pytest.mark.parametrize(
    "settings_body",
    [
        {"settings": {"public_on_drill": "yes"}},
        {"settings": {"no_such_setting": 1}},
        {"settings": {"phone_when_closed": "sing"}},
        {"settings": "everything"},
    ],
)
def test_bad_notice_settings_are_refused_and_change_nothing(api_as, event_count, settings_body):
    admin = api_as("admin")
    before = event_count()
    answer = admin.post("/api/sites/demo/notice-settings", settings_body)
    assert answer.status_code == 400
    assert event_count() == before


def test_unknown_site_has_no_public_channels(client, demo_links):
    for url in (
        "/status/nowhere",
        "/status/nowhere.json",
        "/embed/nowhere/banner.js",
        "/phone/nowhere/fi.twiml",
        "/cap/nowhere.xml",
    ):
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert answer.content_type == "application/problem+json"


def test_every_public_file_names_its_type_and_charset_once(client, manager):
    """Twilio and the contact-centre platforms read the Content-Type as written: one type, one
    charset (it said `charset=utf-8; charset=utf-8` on the phone queue's files)."""
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    expected = {
        "/phone/demo/fi.twiml": "text/xml; charset=utf-8",
        "/phone/demo/fi.ssml": "application/ssml+xml; charset=utf-8",
        "/phone/demo/fi.txt": "text/plain; charset=utf-8",
        "/status/demo?lang=fi": "text/html; charset=utf-8",
        "/status/demo.json": "application/json",
        "/embed/demo/banner.js": "text/javascript; charset=utf-8",
        "/cap/demo.xml": "application/cap+xml; charset=utf-8",
        "/cap/demo.atom": "application/atom+xml; charset=utf-8",
    }
    for url, content_type in expected.items():
        for method in ("GET", "POST") if "/phone/" in url else ("GET",):
            answer = client.open(url, method=method)
            assert answer.status_code == 200, url
            assert answer.headers["Content-Type"] == content_type, url
