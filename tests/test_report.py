"""The evidence report: every event with its time and hash, the public channels' closed time,
the roll call, and a verification that matches verify-log."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import pytest

SITE = "/api/sites/demo"


@pytest.fixture
def finished_incident(api_as):
    """A real (not drill) fire: receipts, sweeps, a help request, a backup request, safe, then
    the all-clear."""
    manager, anna, ben = (
        api_as("duty_manager"),
        api_as("staff", name="Anna"),
        api_as("staff", name="Ben"),
    )
    incident = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()
    anna.post(f"{SITE}/incidents/current/delivered")
    anna.post(f"{SITE}/incidents/current/acknowledge")
    ben.post(f"{SITE}/zones/grocery/clear")
    ben.post(f"{SITE}/zones/stockroom/block", {"note": "Door jammed"})
    help_id = anna.post(
        f"{SITE}/help-requests", {"location": "Toilets", "note": "In a wheelchair"}
    ).get_json()["help_request"]["id"]
    ben.post(f"{SITE}/backup-requests", {"location": "Till 3"})
    ben.post(f"{SITE}/help-requests/{help_id}/resolve")
    anna.post(f"{SITE}/incidents/current/safe")
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    return manager, incident["id"]


def test_report_lists_every_event_of_the_incident_with_its_hash(finished_incident, services):
    manager, incident_id = finished_incident
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    types = [e["type"] for e in report["events"]]
    for expected in (
        "incident.started",
        "alarm.delivered",
        "alarm.acknowledged",
        "zone.cleared",
        "help.requested",
        "help.resolved",
        "staff.safe",
        "incident.ended",
    ):
        assert expected in types
    assert types.count("notice.switched") == 10  # five channels closed, five restored
    with services.store.reading() as db:
        stored = {r[0]: r[1] for r in db.execute("SELECT seq, hash FROM events WHERE site='demo'")}
    for event in report["events"]:
        assert {"seq", "ts", "type", "actor", "hash", "local_time"} <= set(event)
        assert event["hash"] == stored[event["seq"]]
    assert report["events"][0]["local_time"].endswith("+02:00")  # Helsinki in November


def test_report_says_how_long_each_channel_said_closed(finished_incident):
    manager, incident_id = finished_incident
    closures = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()["closures"]
    assert set(closures["per_channel"]) == {
        "status_page",
        "banner",
        "phone_queue",
        "queue_screen",
        "alert_feed",
    }
    for span in closures["per_channel"].values():
        assert span["closed_at"] and span["reopened_at"] and span["closed_seconds"] >= 0
    assert closures["total_closed_seconds"] >= 0


def test_report_carries_the_roll_call_and_a_matching_verification(finished_incident, services):
    manager, incident_id = finished_incident
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()
    anna = next(p for p in report["roll_call"]["staff"] if p["name"] == "Anna")
    assert anna["delivered_at"] and anna["acknowledged_at"] and anna["safe_at"]
    grocery = next(z for z in report["zones"] if z["id"] == "grocery")
    assert grocery["sweep"] == "clear" and grocery["by_name"] == "Ben"
    with services.store.reading() as db:
        count, last = db.execute(
            "SELECT COUNT(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events"
        ).fetchone()
    assert report["verification"] == {
        "ok": True,
        "count": count,
        "last_hash": last,
        "problem": None,
    }


def test_report_as_csv_and_printable_html(finished_incident):
    manager, incident_id = finished_incident
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    rows = list(
        csv.reader(
            io.StringIO(
                manager.get(f"{SITE}/incidents/{incident_id}/report.csv").get_data(as_text=True)
            )
        )
    )
    html = manager.get(f"{SITE}/incidents/{incident_id}/report.html?lang=en").get_data(as_text=True)

    assert rows[0][:4] == ["seq", "utc", "local_time", "type"]
    assert [int(r[0]) for r in rows[1:]] == [e["seq"] for e in report["events"]]
    assert "Evidence report" in html and "@media print" in html
    assert report["verification"]["last_hash"] in html
    assert "hash chain of this site is intact" in html
    for event in report["events"]:
        assert event["hash"] in html


def test_incident_history_marks_drills(api_as):
    manager = api_as("duty_manager")
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "drill_over"})
    manager.post(f"{SITE}/incidents", {"kind": "threat"})
    history = manager.get(f"{SITE}/incidents").get_json()["incidents"]
    assert [(i["kind"], i["drill"]) for i in history] == [("threat", False), ("fire", True)]


def test_report_is_for_managers_and_admins_of_the_site_only(
    finished_incident, api_as, client, other_site_manager
):
    _, incident_id = finished_incident
    url = f"{SITE}/incidents/{incident_id}/report.json"
    assert api_as("admin").get(url).status_code == 200
    assert api_as("staff").get(url).status_code == 403
    assert api_as("guard").get(url).status_code == 403
    assert client.get(url).status_code == 401
    assert other_site_manager.get(url).status_code == 403
    assert api_as("duty_manager").get(f"{SITE}/incidents/999/report.json").status_code == 404


def test_report_as_pdf_has_the_text_and_the_pages(finished_incident):
    from pypdf import PdfReader

    manager, incident_id = finished_incident
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()
    answer = manager.get(f"{SITE}/incidents/{incident_id}/report.pdf?lang=en")

    assert answer.status_code == 200 and answer.content_type == "application/pdf"
    pages = PdfReader(io.BytesIO(answer.data)).pages
    assert 1 <= len(pages) <= 5
    text = " ".join(page.extract_text() for page in pages)
    assert f"Evidence report: incident {incident_id}" in text
    assert "Exit Now demo shop" in text
    assert report["verification"]["last_hash"] in text.replace("\n", "")
    for sentence in ("The alarm started: fire alarm.", "All-clear: resolved."):
        assert sentence in text


def test_report_says_what_each_channel_said_in_each_language_and_when(api_as, services):
    """Closed (and closed again with a new reopening time), restored, then open: each wording
    of each channel and language, from the log entry that put it up to the one that took it
    down, with exactly those entries' times."""
    from server.commands import execute
    from server.rules.auth import command_line

    manager = api_as("duty_manager")
    api_as("admin").post(f"{SITE}/notice-settings", {"settings": {"restored_minutes": 0}})
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    manager.post(f"{SITE}/incidents/current/update", {"eta": "2999-01-01T12:00:00Z"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    execute(services, command_line("demo"), "demo", "reopen_notices", {})
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    entries = {e["seq"]: e for e in report["events"]}
    channels = report["channels"]
    for said in channels:
        assert set(said) == {
            "channel",
            "language",
            "text",
            "from",
            "until",
            "from_seq",
            "until_seq",
        }
        assert said["from"] == entries[said["from_seq"]]["ts"]
        assert said["until"] == entries[said["until_seq"]]["ts"]
    phone_fi = [c for c in channels if (c["channel"], c["language"]) == ("phone_queue", "fi")]
    first, second, restored = phone_fi
    assert first["text"].startswith("Exit Now demo shop on suljettu palohälytyksen vuoksi.")
    assert first["text"].endswith("Kiitos soitostasi. Näkemiin.")
    assert "avaamme uudelleen tiistaina 1.1.2999 klo 14.00" in second["text"]  # 12:00 UTC
    assert restored["text"].startswith("Exit Now demo shop on taas auki klo ")
    assert first["until_seq"] == second["from_seq"]
    assert entries[second["from_seq"]]["type"] == "notice.issued"
    assert entries[restored["from_seq"]]["payload"] == {
        "channel": "phone_queue",
        "state": "restored",
        "incident_id": incident_id,
    }
    assert entries[restored["until_seq"]]["payload"]["state"] == "open"
    # Five channels, three languages, three wordings; but the queue screens tell the people
    # inside the way out, which a new reopening time does not change.
    assert len(channels) == 5 * 3 * 3 - 3
    screen_fi = [
        c["text"] for c in channels if c["channel"] == "queue_screen" and c["language"] == "fi"
    ]
    assert screen_fi[0].startswith("Palohälytys: poistu nyt")


# --- a report an authority can read: the site's language and clock, facts as they stood --------


def page_text(html: str) -> str:
    """The words of a page, one space between them."""
    return " ".join(
        re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S)).split()
    )


def test_a_finnish_sites_report_says_plain_finnish_words_not_codes(api_as):
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "false_alarm"})

    html = manager.get(f"{SITE}/incidents/{incident_id}/report.html").get_data(as_text=True)
    text = page_text(html)

    assert '<html lang="fi">' in html  # the demo site's first language
    assert "Selvitys hälytyksestä" in text
    assert "Hälytyksen laji Palohälytys" in text
    assert "Syy väärä hälytys" in text
    assert "Hälytys alkoi: palohälytys." in text and "Vaara ohi: väärä hälytys." in text
    assert "Tilasivu" in text and "Puhelinjonon tiedote" in text
    for code in ("fire", "false_alarm", "status_page", "phone_queue", "incident.started"):
        assert f">{code}<" not in html and f"&#34;{code}&#34;" not in html  # a cell, a payload
        assert f" {code} " not in f" {text.split('Tapahtumat')[1]} "  # the timeline's words
    assert "Redogörelse för larm" in page_text(
        manager.get(f"{SITE}/incidents/{incident_id}/report.html?lang=sv").get_data(as_text=True)
    )
    assert manager.get(f"{SITE}/incidents/{incident_id}/report.html?lang=de").status_code == 400


def test_the_header_shows_the_sites_own_date_and_clock_with_utc_beside_it(api_as, monkeypatch):
    # 23:30 UTC on 23 November is 01:30 on the 24th on the shop's clock in Helsinki. A time
    # after the demo's set-up: an entry is never stamped before the site's last one.
    monkeypatch.setattr("server.commands.now_ms", lambda: 4099159815000)  # 2099, 23:30:15 UTC
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]

    for lang, started in (
        ("fi", "Hälytys alkoi 24.11.2099 klo 01.30.15 (2099-11-23 23:30:15 UTC)"),
        ("sv", "Larmet började 2099-11-24 kl. 01.30.15 (2099-11-23 23:30:15 UTC)"),
        ("en", "Alarm started 24/11/2099 01:30:15 (2099-11-23 23:30:15 UTC)"),
    ):
        url = f"{SITE}/incidents/{incident_id}/report.html?lang={lang}"
        assert started in page_text(manager.get(url).get_data(as_text=True))


def test_enrolled_people_are_counted_at_the_alarm(finished_incident, make_token, services):
    """Whoever gets the app after the incident changes nothing in its report."""
    manager, incident_id = finished_incident
    url = f"{SITE}/incidents/{incident_id}/report.json"
    before = manager.get(url).get_json()["roll_call"]

    make_token("staff", name="Late Lauri")
    make_token("staff", name="Anna")  # a second credential for a name already on the list
    after = manager.get(url).get_json()["roll_call"]

    assert after == before
    assert "Late Lauri" not in {p["name"] for p in after["staff"]}
    # The duty manager, Anna and Ben had tokens when the alarm started; the demo's people
    # had only enrollment links, never used.
    assert before["enrolled"] == sum(p["enrolled"] for p in before["staff"]) == 3


def test_the_report_holds_the_incidents_events_only_and_no_secrets(api_as, make_token, services):
    manager = api_as("duty_manager")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "threat"}).get_json()["id"]
    make_token("staff", name="New during the alarm")  # token.created, with a token_hash
    manager.post(f"{SITE}/staff/2/enrollment-links")  # enrollment.created, with a code_hash
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    types = {e["type"] for e in report["events"]}
    assert "token.created" not in types and "enrollment.created" not in types
    assert {"incident.started", "notice.switched", "incident.ended"} <= types
    from server.store.events import PRIVATE_FIELDS

    text = json.dumps(report)
    for field in PRIVATE_FIELDS:
        assert f'"{field}"' not in text


def test_help_and_backup_requests_are_listed(finished_incident, api_as):
    manager, incident_id = finished_incident
    html = manager.get(f"{SITE}/incidents/{incident_id}/report.html?lang=en").get_data(as_text=True)
    text = page_text(html)
    assert "Help requests: a person needs help getting out" in text
    assert "Toilets In a wheelchair Anna" in text  # location, note, who reported it
    assert "Backup requests: staff called a guard or a manager" in text
    assert "Till 3" in text
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()
    assert [b["location"] for b in report["backup_requests"]] == ["Till 3"]


def test_the_pdf_says_what_the_page_says_zones_and_event_details_too(finished_incident):
    from pypdf import PdfReader

    manager, incident_id = finished_incident
    answer = manager.get(f"{SITE}/incidents/{incident_id}/report.pdf")
    pages = PdfReader(io.BytesIO(answer.data)).pages
    pdf = "".join("".join(page.extract_text() for page in pages).split())
    html = page_text(
        manager.get(f"{SITE}/incidents/{incident_id}/report.html").get_data(as_text=True)
    )

    for words in (
        "Alueiden tarkastus",  # the zones
        "Elintarvikkeet / Livsmedel",
        "Ben tarkasti alueen, ja se on tyhjä: Elintarvikkeet / Livsmedel.",
        "Lisätieto: Door jammed",  # an event's details
        "Paikka: Toilets",
        "Avunpyynnöt",
        "Till 3",
        "Mitä asiakkaille kerrottiin",
        "Puhelinjonon tiedote",
        "Tarkistettuja merkintöjä",
    ):
        assert "".join(words.split()) in pdf
        assert words in html


def test_every_code_a_report_can_hold_has_plain_words_in_every_language():
    from server.basics.names import END_REASONS, KINDS, LANGUAGES
    from server.channels import CHANNELS, STATES
    from server.channels.texts import default_texts
    from server.commands.zones import SWEEP_EVENTS
    from server.rules.auth import ACTOR_ROLES
    from server.rules.mustering import HOW
    from server.store.events import EVENT_TYPES

    codes = {
        "events": EVENT_TYPES,
        "kinds": KINDS,
        "reasons": END_REASONS,
        "roles": ACTOR_ROLES,  # a visitor at the entrance too
        "accounted_how": HOW,
        "channels": CHANNELS,
        "notice_states": STATES,
        "sweeps": ("unchecked", *SWEEP_EVENTS),
        "languages": LANGUAGES,
    }
    for lang in LANGUAGES:
        texts = default_texts(lang)["report"]
        missing = [
            f"{group}.{code}"
            for group, of in codes.items()
            for code in of
            if not texts[group].get(code)
        ]
        assert missing == [], lang


# --- everyone on site: staff and visitors, how each was accounted for -------------------------


POINT_A = "Parkkipaikka, valotolppa A / Parkeringen, lyktstolpe A"  # the demo's, in fi and sv
POINT_B = "Parkkipaikka, valotolppa B / Parkeringen, lyktstolpe B"


def _staff_ids(services) -> dict[str, int]:
    with services.store.reading() as db:
        return dict(db.execute("SELECT name, id FROM staff WHERE site = 'demo'").fetchall())


@pytest.fixture
def mustered_incident(api_as, client, services):
    """A fire with visitors: one signed in at the desk (who leaves during it), one at the
    entrance (who says "I am out" from her link), one who nobody accounts for; a guard marks
    a person without a phone; Anna checks in with the sign's QR code; all-clear."""
    manager, guard = api_as("duty_manager", name="Maija"), api_as("guard", name="Ville")
    anna = api_as("staff", name="Anna")
    desk = guard.post(f"{SITE}/visitors", {"name": "Lars Lift", "company": "Lift Oy"})
    entrance = client.post(f"{SITE}/visitors/self", json={"name": "Olga Walk-in"}).get_json()
    guard.post(f"{SITE}/visitors", {"name": "Nina Nobody"})
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    pekka = _staff_ids(services)["Pekka Virtanen"]
    guard.post(
        f"{SITE}/incidents/current/accounted", {"staff_id": pekka, "assembly_point": "lamp-post-b"}
    )
    anna.post(f"{SITE}/incidents/current/safe", {"assembly_point": "lamp-post-a", "how": "qr"})
    guard.post(f"{SITE}/visitors/{desk.get_json()['visitor_id']}/leave")
    client.post(f"{SITE}/visitors/self/safe", json={"token": entrance["token"]})
    guard.post(
        f"{SITE}/incidents/current/reported-inside",
        {"staff_id": _staff_ids(services)["Erik Lindqvist"], "location": "Cold store"},
    )
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    return manager, guard, incident_id


def _muster_rows(html: str) -> dict[str, list[str]]:
    """The muster table's rows by the person's name, each cell's words."""
    section = html.split("Everyone on site: who was accounted for")[1].split("<h2>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)
    cells = [
        [unescape(page_text(c)) for c in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in rows
    ]
    return {row[0]: row for row in cells if row}


def test_the_report_lists_everyone_on_site_with_how_where_when_and_by_whom(mustered_incident):
    manager, _, incident_id = mustered_incident
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()
    html = manager.get(f"{SITE}/incidents/{incident_id}/report.html?lang=en").get_data(as_text=True)
    rows = _muster_rows(html)
    at = {
        p["name"]: report_document_time(p["accounted"]["at"])
        for p in [*report["roll_call"]["staff"], *report["roll_call"]["visitors"]]
        if p["accounted"]
    }

    assert rows["Pekka Virtanen"][1:6] == [
        "staff",
        "marked at the assembly point",
        POINT_B,
        at["Pekka Virtanen"],
        "Ville",
    ]
    assert rows["Anna"][1:4] == [
        "staff",
        "with the QR code on the assembly point's sign",
        POINT_A,
    ]
    assert rows["Lars Lift"][1:3] == ["visitor, Lift Oy", "signed out during the alarm"]
    assert rows["Olga Walk-in"][1:3] == ["visitor, signed in at the entrance", "on their own phone"]
    assert rows["Nina Nobody"][1:3] == ["visitor", "never accounted for"]
    assert rows["Erik Lindqvist"][2] == "never accounted for"
    assert rows["Erik Lindqvist"][6].startswith("Cold store (reported by Ville at ")
    everyone = len(report["roll_call"]["staff"]) + 3
    text = page_text(html)
    assert f"On site (staff and visitors): {everyone}" in text
    assert f"{everyone - 4} people were never accounted for." in text
    last = report["accounting"]["last_accounted_at"]
    assert f"The last person was accounted for at {report_document_time(last)}." in text


def report_document_time(moment: str) -> str:
    """A time as the English report writes it (the site's clock, UTC beside it)."""
    from server.reports.document import Words

    return Words({"site": {"timezone": "Europe/Helsinki"}}, "en").time(moment)


def test_the_timeline_names_visitors_and_says_who_accounted_for_whom_and_how(mustered_incident):
    manager, _, incident_id = mustered_incident
    for lang, sentences in (
        (
            "en",
            (
                "Ville marked a person safe: Pekka Virtanen, assembly point " + POINT_B + ".",
                "Anna scanned the assembly point's sign and is safe: " + POINT_A + ".",
                "A visitor was signed out at the reception: Lars Lift.",
                "Olga Walk-in said on their own phone that they are out.",
                "Ville reported that Erik Lindqvist is still inside.",
            ),
        ),
        (
            "fi",
            (
                "Ville merkitsi henkilön turvaan: Pekka Virtanen, kokoontumispaikka "
                + POINT_B
                + ".",
                "Vierailija kirjattiin ulos vastaanotossa: Lars Lift.",
                "Olga Walk-in ilmoitti omalla puhelimellaan olevansa ulkona.",
                "henkilöä jäi toteamatta turvaan.",
            ),
        ),
        (
            "sv",
            (
                "Ville prickade av en person som i säkerhet: Pekka Virtanen, återsamlingsplats "
                + POINT_B
                + ".",
                "Olga Walk-in meddelade med sin egen telefon att hen är ute.",
                "besökare, skrev in sig själv vid entrén",
            ),
        ),
    ):
        url = f"{SITE}/incidents/{incident_id}/report.html?lang={lang}"
        text = unescape(page_text(manager.get(url).get_data(as_text=True)))
        for sentence in sentences:
            assert sentence in text, (lang, sentence)


def test_the_report_says_how_long_until_everyone_was_accounted_for(api_as, services, client):
    manager, guard = api_as("duty_manager", name="Maija"), api_as("guard", name="Ville")
    visitor = guard.post(f"{SITE}/visitors", {"name": "Vera"}).get_json()["visitor_id"]
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True}).get_json()[
        "id"
    ]
    url = f"{SITE}/incidents/current/accounted"
    for staff_id in _staff_ids(services).values():
        guard.post(url, {"staff_id": staff_id, "assembly_point": "lamp-post-a"})
    guard.post(url, {"visitor_id": visitor, "assembly_point": "lamp-post-a"})
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "drill_over"})

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()
    accounting = report["accounting"]
    assert accounting["everyone_accounted"] is True
    from server.reports.document import Words

    took = Words(report, "en").duration(accounting["seconds_to_everyone"])
    text = page_text(
        manager.get(f"{SITE}/incidents/{incident_id}/report.html?lang=en").get_data(as_text=True)
    )
    assert f"Everyone was accounted for, {took} after the alarm started." in text
    assert "never accounted for" not in text
    fi = page_text(
        manager.get(f"{SITE}/incidents/{incident_id}/report.html").get_data(as_text=True)
    )
    assert "Kaikki todettiin turvaan" in fi and "hälytyksen alkamisesta" in fi


def test_the_pdf_and_the_roll_call_csv_list_everyone_on_site(mustered_incident):
    from pypdf import PdfReader

    manager, _, incident_id = mustered_incident
    answer = manager.get(f"{SITE}/incidents/{incident_id}/report.pdf?lang=en")
    pdf = "".join(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages).split()
    )
    for words in ("Everyone on site", "Nina Nobody", "visitor, Lift Oy", "never accounted for"):
        assert "".join(words.split()) in pdf

    sheet = manager.get(f"{SITE}/incidents/{incident_id}/roll-call.csv")
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(sheet.get_data(as_text=True))))
    by_name = {row["name"]: row for row in rows}
    assert by_name["Pekka Virtanen"]["how"] == "marshal"
    assert by_name["Pekka Virtanen"]["assembly_point"] == "lamp-post-b"
    assert by_name["Pekka Virtanen"]["by"] == "Ville"
    assert by_name["Lars Lift"]["person"] == "visitor" and by_name["Lars Lift"]["how"] == "left"
    assert by_name["Nina Nobody"]["how"] == "" and by_name["Nina Nobody"]["accounted_at"] == ""
    assert by_name["Erik Lindqvist"]["reported_inside"] == "Cold store"


def test_a_visitors_name_never_becomes_a_formula_in_the_roll_call_sheet(api_as, client):
    manager = api_as("duty_manager")
    name = '=HYPERLINK("http://evil.example","Click")'
    assert client.post(f"{SITE}/visitors/self", json={"name": name}).status_code == 201
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]

    sheet = manager.get(f"{SITE}/incidents/{incident_id}/roll-call.csv").get_data(as_text=True)

    names = [row["name"] for row in csv.DictReader(io.StringIO(sheet))]
    assert f"'{name}" in names and name not in names  # shown as typed, never run


def test_the_pdf_is_laid_out_off_the_event_loop(settings):
    """With a thousand people fpdf2 takes half a minute (bench/bench_report.py): in the event
    loop every site's sockets and alarms would wait for it. It goes to the native runner."""
    from harness import Api
    from server import create_app, demo
    from server.commands import execute
    from server.reports.pdf import report_pdf
    from server.rules.auth import command_line

    ran = []

    def native(function, *args):
        ran.append(function)
        return function(*args)

    app = create_app(settings, run_native=native)
    services = app.extensions["exitnow"]
    try:
        demo.seed(services)
        params = {"name": "Maija", "role": "duty_manager"}
        token = execute(services, command_line("demo"), "demo", "create_token", params)["token"]
        manager = Api(app.test_client(), token)
        incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
        ran.clear()

        assert manager.get(f"{SITE}/incidents/{incident_id}/report.pdf").status_code == 200
        assert ran.count(report_pdf) == 1
        assert manager.get(f"{SITE}/incidents/{incident_id}/report.bundle").status_code == 200
        assert ran.count(report_pdf) == 2
    finally:
        services.store.close()
