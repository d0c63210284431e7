"""The public channels say a moment as the site's language writes it, in the site's time zone,
with its date when it is not today; a false alarm and a drill say so in words on every channel
while "open again" shows, and the channels then return to plain open."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server import timers
from server.basics.clock import now_ms

HELSINKI = ZoneInfo("Europe/Helsinki")  # the demo site's zone
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


def in_two_days_at_ten() -> datetime:
    """10.00 the day after tomorrow, in the site's zone."""
    day = datetime.now(HELSINKI).date() + timedelta(days=2)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=HELSINKI)


def public_words(client, lang: str) -> dict[str, str]:
    """channel -> what it says in `lang` now."""
    status = client.get("/status/demo.json").get_json()
    cap = client.get("/cap/demo.xml")
    cap_text = ""
    if cap.status_code == 200:
        root = ET.fromstring(cap.data)
        for info in root.iter(f"{CAP}info"):
            if info.findtext(f"{CAP}language", "").startswith(lang):
                cap_text = " ".join(
                    info.findtext(f"{CAP}{name}", "") for name in ("headline", "description")
                )
    return {
        "status_json": " ".join(
            [status["notice"][lang]["headline"], status["notice"][lang]["text"]]
        ),
        "status_page": client.get(f"/status/demo?lang={lang}").data.decode(),
        "banner": client.get("/embed/demo/banner.js").data.decode(),
        "phone": client.get(f"/phone/demo/{lang}.txt").data.decode(),
        "twiml": client.get(f"/phone/demo/{lang}.twiml").data.decode(),
        "cap": cap_text,
    }


def test_a_reopening_two_days_ahead_carries_its_date_on_every_channel(client, manager):
    eta = in_two_days_at_ten()
    manager.post("/api/sites/demo/incidents", {"kind": "fire", "eta": eta.isoformat()})

    finnish = public_words(client, "fi")
    for channel in ("status_json", "status_page", "phone", "twiml", "cap"):
        assert f"{eta.day}.{eta.month}. klo 10.00" in finnish[channel], channel
    swedish = public_words(client, "sv")
    months_sv = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                 "september", "oktober", "november", "december"]  # fmt: skip
    assert f"den {eta.day} {months_sv[eta.month - 1]} kl. 10.00" in swedish["phone"]
    english = public_words(client, "en")
    assert f"at 10:00 on {eta.strftime('%A')} {eta.day} {eta.strftime('%B')}" in english["phone"]
    # The banner carries the same words as status.json, in every language.
    assert f"{eta.day}.{eta.month}. klo 10.00" in finnish["banner"]


def test_times_today_carry_no_date_and_finnish_writes_them_with_a_full_stop(client, manager):
    started = datetime.now(HELSINKI)
    eta = (started + timedelta(minutes=61)).replace(second=0, microsecond=0)
    if eta.date() != started.date():
        pytest.skip("too close to midnight for an estimated time later today")
    manager.post("/api/sites/demo/incidents", {"kind": "fire", "eta": eta.isoformat()})

    finnish = client.get("/phone/demo/fi.txt").data.decode()
    assert f"klo {eta:%H.%M}." in finnish
    assert f"Suljettu klo {started:%H}." in finnish
    assert f"{eta.day}.{eta.month}." not in finnish  # today: no date
    assert f"kl. {eta:%H.%M}." in client.get("/phone/demo/sv.txt").data.decode()
    assert f"at {eta:%H:%M}." in client.get("/phone/demo/en.txt").data.decode()


def test_a_moment_of_another_day_is_said_with_its_date_after_midnight(manager, services):
    """A notice closed yesterday says so with the date: the words are for the day they show."""
    from dataclasses import replace

    from server.channels import load_notice
    from server.channels.texts import notice_texts

    with services.store.reading() as db:
        notice = load_notice(db, "demo")
    yesterday = datetime.now(HELSINKI).replace(hour=23, minute=10) - timedelta(days=1)
    closed = replace(notice, state="closed", kind="fire", since=int(yesterday.timestamp() * 1000))
    text = notice_texts(closed, "fi")["text"]
    assert f"{yesterday.day}.{yesterday.month}. klo 23.10 alkaen." in text
    assert "klo 23.10" in notice_texts(replace(closed, rendered_at=closed.since), "fi")["text"]
    assert (
        f"{yesterday.day}.{yesterday.month}."
        not in notice_texts(replace(closed, rendered_at=closed.since), "fi")["text"]
    )


FALSE_ALARM = {"fi": "väärä hälytys", "sv": "falsklarm", "en": "false alarm"}


def test_a_false_alarm_is_named_on_every_channel_then_they_return_to_normal(
    client, manager, api_as, services
):
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "false_alarm"})

    for lang, words in FALSE_ALARM.items():
        said = public_words(client, lang)
        for channel, text in said.items():
            assert words in text, (lang, channel)
    # The banner shows "open again" rather than vanishing: it is drawn while restored.
    assert '"restored"' in client.get("/embed/demo/banner.js").data.decode()

    with services.store.transaction() as db:  # as if the restored time were over
        db.execute("UPDATE public_notices SET restored_until = 0")
    assert timers.reopen_due_sites(services) == ["demo"]
    for lang, words in FALSE_ALARM.items():
        said = public_words(client, lang)
        assert not any(words in text for text in said.values()), lang
    assert client.get("/status/demo.json").get_json()["state"] == "open"


def test_a_resolved_alarm_does_not_speak_of_a_false_alarm(client, manager):
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "resolved"})
    status = client.get("/status/demo.json").get_json()
    assert status["state"] == "restored"
    for lang, words in FALSE_ALARM.items():
        assert words not in status["notice"][lang]["text"]


DRILL = {"fi": "harjoitus", "sv": "övning", "en": "drill"}


def test_a_drill_that_reaches_the_public_says_so_in_words(client, manager, api_as):
    api_as("admin").post("/api/sites/demo/notice-settings", {"settings": {"public_on_drill": True}})
    manager.post("/api/sites/demo/incidents", {"kind": "fire", "drill": True})
    for lang, word in DRILL.items():
        for channel, text in public_words(client, lang).items():
            assert word in text.lower(), (lang, channel)
    manager.post("/api/sites/demo/incidents/current/all-clear", {"reason": "drill_over"})
    for lang, word in DRILL.items():
        status = client.get("/status/demo.json").get_json()
        assert word in status["notice"][lang]["text"].lower(), lang


def test_status_json_gives_the_queue_screens_their_words_and_each_zones_way_out(client, manager):
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    status = client.get("/status/demo.json").get_json()
    zones = {zone["id"]: zone for zone in status["screen"]["zones"]}
    assert zones["grocery"]["exits"] == [
        "Hätäuloskäynti leipomon takana / Nödutgång bakom bageriet"
    ]
    assert (
        zones["grocery"]["assembly_point"]
        == "Parkkipaikka, valotolppa A / Parkeringen, lyktstolpe A"
    )
    inside = status["notice"]["fi"]["inside"]
    assert inside["headline"] == "Palohälytys: poistu nyt"
    assert "Jätä ostokset tähän." in inside["lines"]
    assert "Älä tule myymälään" not in " ".join(inside["lines"])
    assert inside["way_out"] is True
    assert (
        status["words_day"] == datetime.fromtimestamp(now_ms() / 1000, HELSINKI).date().isoformat()
    )


def test_the_words_are_written_anew_after_the_sites_midnight(services, manager):
    manager.post("/api/sites/demo/incidents", {"kind": "fire"})
    days: dict[str, str] = {}
    assert timers.rewrite_after_midnight(services, days) == []  # first seen: today
    days["demo"] = "2000-01-01"  # as if it had last been written on another day
    assert timers.rewrite_after_midnight(services, days) == ["demo"]
    assert days["demo"] != "2000-01-01"


def test_a_webhooks_sentence_says_its_moments_as_the_language_writes_them():
    from server.integrations.webhooks import sentence

    site = {"name": "Kauppa", "timezone": "Europe/Helsinki", "languages": '["fi"]'}
    started = datetime(2026, 5, 4, 10, 16, tzinfo=HELSINKI)
    at = int(started.timestamp() * 1000)
    event = {"type": "incident.started", "ts": at, "payload": {"kind": "fire", "drill": False}}
    assert sentence(event, site) == "Kauppa: PALOHÄLYTYS: poistukaa. Alkoi klo 10.16."
    eta = {"eta": "2026-05-06T07:00:00Z"}  # 10.00 in Helsinki, two days later
    updated = {"type": "incident.updated", "ts": at, "payload": eta}
    assert sentence(updated, site) == (
        "Kauppa: arvioitu avautumisaika on keskiviikkona 6.5. klo 10.00."
    )
    swedish = {**site, "languages": '["sv"]'}
    assert sentence(updated, swedish).endswith("väntas öppna igen onsdag den 6 maj kl. 10.00.")
