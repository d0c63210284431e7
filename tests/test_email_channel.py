"""The email channel: a customer-service mailbox's automatic reply switches with the other
public channels, in the background, through its provider (here Microsoft Graph's and Gmail's
stand-ins on 127.0.0.1, checking each request as documented); the mailbox's own earlier reply
is put back exactly at the all-clear, and never reaches the log."""

from __future__ import annotations

import io
import json

import pytest
from mail_standins import GmailApi, Graph
from pypdf import PdfReader

from harness import unit_settings
from server.basics.clock import iso

SITE = "/api/sites/demo"
BOX = "service@shop.example"
EARLIER_GRAPH = {
    "status": "scheduled",
    "externalAudience": "contactsOnly",
    "externalReplyMessage": "<p>Holiday until Monday: ring Pekka-Oskari on 040 123 4567</p>",
    "internalReplyMessage": "<p>Away until Monday</p>",
    "scheduledStartDateTime": {"dateTime": "2030-07-01T08:00:00.0000000", "timeZone": "UTC"},
    "scheduledEndDateTime": {"dateTime": "2030-07-08T08:00:00.0000000", "timeZone": "UTC"},
}
HEADLINES = ("on suljettu", "är stängd", "is closed")  # fi, sv, en: the site's order


@pytest.fixture
def graph():
    standin = Graph("tenant-1", "client-1", "s3cret-value")
    standin.add_mailbox(BOX, EARLIER_GRAPH)
    standin.add_mailbox("ceo@shop.example", {"status": "disabled"})
    yield standin
    standin.close()


@pytest.fixture
def gmail(tmp_path):
    standin = GmailApi(tmp_path)
    standin.add_mailbox(BOX, {"enableAutoReply": False, "responseSubject": "Away"})
    yield standin
    standin.close()


@pytest.fixture
def settings(tmp_path, graph, gmail):
    return graph.settings_for(unit_settings(tmp_path / "exitnow.db")).with_changes(
        public_url="https://exitnow.shop.example",
        ms_unlisted_mailbox="ceo@shop.example",  # no site lists it
        gmail_key_file=str(gmail.key_file),
        gmail_api_url=gmail.url,
        email_retry_seconds=0.0,  # tried again at the next round
    )


@pytest.fixture
def admin(api_as):
    return api_as("admin")


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


def with_mailbox(admin, provider: str = "microsoft365", address: str = BOX):
    answer = admin.post(
        f"{SITE}/notice-settings",
        {"settings": {"email": [{"provider": provider, "mailbox": address}]}},
    )
    assert answer.status_code == 200, answer.json


def switch(services) -> int:
    """One round of the background switcher, as its loop runs it each second."""
    return services.mailboxes.switch_due(services)


def events(services, *types) -> list[dict]:
    with services.store.reading() as db:
        rows = db.execute(
            f"SELECT type, ts, payload FROM events WHERE type IN ({','.join('?' * len(types))}) "
            "ORDER BY id",
            types,
        ).fetchall()
    return [{"type": t, "ts": ts, **json.loads(p)} for t, ts, p in rows]


def email_switches(services) -> list[dict]:
    return [e for e in events(services, "notice.switched") if e["channel"] == "email"]


def whole_log(services) -> str:
    with services.store.reading() as db:
        return "\n".join(row[0] for row in db.execute("SELECT payload FROM events"))


def test_the_mailbox_says_the_notice_while_closed_and_its_own_reply_comes_back(
    services, admin, manager, graph
):
    with_mailbox(admin)
    manager.post(f"{SITE}/incidents", {"kind": "fire", "eta": "2099-01-01T12:00:00Z"})
    assert graph.received == []  # nothing on the alarm's path: the switcher does it

    assert switch(services) == 1

    now = graph.mailboxes[BOX]
    assert now["status"] == "alwaysEnabled" and now["externalAudience"] == "all"
    reply = now["externalReplyMessage"]
    assert now["internalReplyMessage"] == reply
    places = [reply.index(headline) for headline in HEADLINES]
    assert places == sorted(places)  # every language, in the site's order
    assert "https://exitnow.shop.example/status/demo" in reply
    assert "2099" in reply  # the estimated reopening, with its date
    (switched,) = email_switches(services)
    assert switched["mailbox"] == BOX and switched["provider"] == "microsoft365"
    assert switched["state"] == "closed" and switched["answer"]["status"] == 200

    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    assert switch(services) == 1

    assert graph.mailboxes[BOX] == EARLIER_GRAPH  # every field, exactly
    assert [e["reply"] for e in email_switches(services)] == ["ours", "earlier"]
    log = whole_log(services)
    assert (
        "Pekka-Oskari" not in log and "Holiday" not in log
    )  # the customer's own text: sealed only
    assert "s3cret-value" not in log
    assert graph.problems == []
    assert switch(services) == 0  # nothing more to do, nothing more asked


def test_a_provider_down_at_the_alarm_is_retried_until_it_answers(services, admin, manager, graph):
    with_mailbox(admin)
    graph.fail_next(503, count=2)
    manager.post(f"{SITE}/incidents", {"kind": "evacuation"})

    switch(services)
    switch(services)

    failed = events(services, "notice.switch_failed")
    assert [f["answer"]["status"] for f in failed] == [503, 503]
    assert [f["attempt"] for f in failed] == [1, 2]
    assert email_switches(services) == []
    assert services.mailboxes and graph.mailboxes[BOX]["status"] == "scheduled"

    switch(services)

    assert graph.mailboxes[BOX]["status"] == "alwaysEnabled"
    assert len(email_switches(services)) == 1


def test_a_429_is_retried_after_the_time_it_asks(services, admin, manager, graph):
    with_mailbox(admin)
    graph.fail_next(429, Retry_After=120)
    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    switch(services)

    (failed,) = events(services, "notice.switch_failed")
    assert failed["answer"]["status"] == 429
    from server.basics.clock import parse_iso

    assert 119_000 <= parse_iso(failed["retry_at"]) - failed["ts"] <= 121_000
    assert switch(services) == 0  # not before its time
    assert graph.mailboxes[BOX]["status"] == "scheduled"


def test_a_refused_token_is_replaced_by_a_fresh_one_at_once(services, admin, manager, graph):
    with_mailbox(admin)
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    switch(services)
    graph.revoke_tokens()  # as when an admin rotates the secret's tokens
    manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:00:00Z"})

    switch(services)

    assert graph.token_requests == 2
    assert events(services, "notice.switch_failed") == []
    assert "2099" in graph.mailboxes[BOX]["externalReplyMessage"]


def test_a_mailbox_behind_catches_up_to_the_newest_notice(services, client, admin, manager, graph):
    with_mailbox(admin)
    graph.fail_next(503)
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    switch(services)  # fails
    for eta in ("2099-01-01T12:00:00Z", "2099-01-01T13:00:00Z", "2099-01-01T14:00:00Z"):
        manager.post(f"{SITE}/incidents/current/update", {"eta": eta})

    switch(services)

    patches = [r for r in graph.received if r["method"] == "PATCH"]
    assert len(patches) == 1  # the newest, not each change
    newest = client.get("/status/demo.json").json["notice"]["fi"]["lines"]
    assert all(line in graph.mailboxes[BOX]["externalReplyMessage"] for line in newest)
    (switched,) = email_switches(services)
    with services.store.reading() as db:
        (version,) = db.execute("SELECT version FROM public_notices").fetchone()
    assert switched["version"] == version


def test_a_reply_someone_changed_during_the_incident_is_left_as_they_set_it(
    services, admin, manager, graph
):
    with_mailbox(admin)
    manager.post(f"{SITE}/incidents", {"kind": "threat"})
    switch(services)
    theirs = {**graph.mailboxes[BOX], "externalReplyMessage": "<p>Closed today. The team</p>"}
    graph.mailboxes[BOX] = dict(theirs)  # the team lead wrote their own in Outlook

    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    switch(services)

    assert graph.mailboxes[BOX] == theirs
    (kept,) = events(services, "notice.reply_kept")
    assert kept["mailbox"] == BOX
    with services.store.reading() as db:
        row = db.execute("SELECT reply FROM mailbox_states").fetchone()
    assert row[0] == "theirs"  # what the console shows


def test_a_drill_leaves_the_mailbox_alone_unless_the_public_hears_of_drills(
    services, admin, manager, graph
):
    with_mailbox(admin)
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": True})
    switch(services)
    assert graph.received == [] and email_switches(services) == []


def test_gmail_takes_the_notice_and_gets_its_vacation_settings_back(
    services, admin, manager, gmail
):
    earlier = dict(gmail.mailboxes[BOX])
    with_mailbox(admin, "gmail")
    manager.post(f"{SITE}/incidents", {"kind": "fire"})

    switch(services)

    vacation = gmail.mailboxes[BOX]
    assert vacation["enableAutoReply"] is True
    assert vacation["restrictToContacts"] is False and vacation["restrictToDomain"] is False
    for field in ("responseSubject", "responseBodyPlainText", "responseBodyHtml"):
        assert HEADLINES[0] in vacation[field], field
    assert "https://exitnow.shop.example/status/demo" in vacation["responseBodyPlainText"]

    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "false_alarm"})
    switch(services)

    assert gmail.mailboxes[BOX] == earlier
    assert [e["reply"] for e in email_switches(services)] == ["ours", "off"]
    assert gmail.problems == []


@pytest.mark.parametrize(
    "entry, field",
    [
        ({"provider": "microsoft356", "mailbox": BOX}, "settings.email[0].provider"),
        ({"provider": "gmail", "mailbox": "service@shop"}, "settings.email[0].mailbox"),
        ({"provider": "gmail", "mailbox": BOX, "pasword": "x"}, "settings.email[0].pasword"),
    ],
)
def test_a_mailbox_setting_with_a_typo_is_refused_naming_the_field(
    admin, event_count, entry, field
):
    before = event_count()
    answer = admin.post(f"{SITE}/notice-settings", {"settings": {"email": [entry]}})
    assert answer.status_code == 400
    assert answer.json["field"] == field
    assert event_count() == before


def test_webhook_sentences_say_what_each_mailbox_did(services, admin, manager, graph):
    from server.integrations.webhooks import sentence

    with_mailbox(admin)
    graph.fail_next(503)
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    switch(services)
    switch(services)
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    switch(services)

    with services.store.reading() as db:
        site = next(db.query("SELECT * FROM sites WHERE id = 'demo'"))
        rows = db.execute(
            """SELECT type, ts, payload FROM events WHERE type IN ('notice.switch_failed',
               'notice.switched') AND json_extract(payload, '$.channel') = 'email'
               ORDER BY seq"""
        ).fetchall()
    said = [sentence({"type": t, "ts": ts, "payload": json.loads(p)}, site) for t, ts, p in rows]
    assert said == [
        f"Exit Now demo shop: osoitteen {BOX} automaattista vastausta ei voitu vaihtaa (503). "
        "Yritetään uudelleen.",
        f"Exit Now demo shop: osoitteen {BOX} automaattinen vastaus kertoo, että palvelu on "
        "suljettu.",
        f"Exit Now demo shop: osoitteella {BOX} on taas oma automaattinen vastauksensa.",
    ]


def test_the_real_server_answers_the_start_while_the_provider_hangs(tmp_path, live_servers):
    """The alarm never waits for a mailbox: with Graph holding every request, the start is
    answered, and the mailbox takes the notice once Graph answers."""
    from harness import eventually, prepare_database

    graph = Graph("tenant-1", "client-1", "s3cret-value")
    graph.add_mailbox(BOX, EARLIER_GRAPH)
    try:
        db_path = tmp_path / "live.db"
        tokens = prepare_database(db_path, {"admin": 1, "duty_manager": 1})
        server = live_servers(
            db_path,
            env={
                "EXITNOW_MS_LOGIN_URL": graph.url,
                "EXITNOW_MS_GRAPH_URL": graph.url,
                "EXITNOW_MS_TENANT_ID": "tenant-1",
                "EXITNOW_MS_CLIENT_ID": "client-1",
                "EXITNOW_MS_CLIENT_SECRET": "s3cret-value",
            },
        ).start()
        settings = {"settings": {"email": [{"provider": "microsoft365", "mailbox": BOX}]}}
        assert server.post(f"{SITE}/notice-settings", tokens["admin"][0], settings).ok
        graph.hold()

        started = server.post(f"{SITE}/incidents", tokens["duty_manager"][0], {"kind": "fire"})

        assert started.status_code == 201
        assert graph.mailboxes[BOX]["status"] == "scheduled"  # Graph has not answered yet
        graph.release.set()
        eventually(lambda: graph.mailboxes[BOX]["status"] == "alwaysEnabled", timeout=15)
    finally:
        graph.release.set()
        graph.close()


def test_the_mailboxes_state_is_rebuilt_from_the_log(
    services, settings, tmp_path, admin, manager, graph
):
    from server.store.rebuild import rebuild

    with_mailbox(admin)
    graph.fail_next(503)
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    switch(services)
    switch(services)

    with services.store.reading() as db:
        assert rebuild(db, str(tmp_path / "rebuilt.db")) == []
    with services.store.reading() as db:
        row = next(db.query("SELECT * FROM mailbox_states"))
    assert (row["state"], row["reply"], row["failing_status"]) == ("closed", "ours", None)


# --- the evidence: what a writer read, from when to when --------------------------------------


def test_the_report_quotes_each_mailboxs_reply_from_when_it_took_it_until_its_own_came_back(
    services, admin, manager, graph
):
    """Each language's words, from the entry where the mailbox took our reply (a failed
    attempt is not it) to the one where it got its own back: the background switch's own
    times, not the alarm's; a new reopening time shows once the mailbox took it."""
    with_mailbox(admin)
    graph.fail_next(503)
    incident = manager.post(f"{SITE}/incidents", {"kind": "fire"}).json["id"]
    switch(services)  # fails
    switch(services)
    manager.post(f"{SITE}/incidents/current/update", {"eta": "2099-01-01T12:00:00Z"})
    switch(services)
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    switch(services)

    report = manager.get(f"{SITE}/incidents/{incident}/report.json").json

    entries = {e["seq"]: e for e in report["events"]}
    mailbox = [c for c in report["channels"] if c["channel"] == "email"]
    assert {(c["mailbox"], c["provider"]) for c in mailbox} == {(BOX, "microsoft365")}
    first, second = [c for c in mailbox if c["language"] == "fi"]
    switched = [e for e in report["events"] if e["payload"].get("mailbox") == BOX]
    took, took_eta, got_back = [e for e in switched if e["type"] == "notice.switched"]
    assert (first["from_seq"], first["until_seq"]) == (took["seq"], took_eta["seq"])
    assert (second["from_seq"], second["until_seq"]) == (took_eta["seq"], got_back["seq"])
    assert got_back["payload"]["reply"] == "earlier"
    for said in mailbox:
        assert said["from"] == entries[said["from_seq"]]["ts"]
        assert said["until"] == entries[said["until_seq"]]["ts"]
    # The words are the reply's plain text, each language its own paragraph.
    assert first["text"].startswith("Exit Now demo shop on suljettu")
    assert "https://exitnow.shop.example/status/demo" in first["text"]
    assert "2099" in second["text"] and "2099" not in first["text"]
    assert [c["language"] for c in mailbox[:3]] == ["fi", "sv", "en"]
    # The other channels keep their own rows and the alarm's times.
    assert {c["channel"] for c in report["channels"]} > {"status_page", "email"}

    page = manager.get(f"{SITE}/incidents/{incident}/report.html?lang=en").get_data(as_text=True)
    assert f"Automatic reply of {BOX} (Microsoft 365)" in page
    assert f"Someone changed the automatic reply of {BOX}" not in page
    assert f"The automatic reply of {BOX} could not be changed" in page  # the failed attempt


def test_the_report_ends_a_mailboxs_words_where_someone_elses_reply_was_found(
    services, admin, manager, graph
):
    with_mailbox(admin)
    incident = manager.post(f"{SITE}/incidents", {"kind": "threat"}).json["id"]
    switch(services)
    graph.mailboxes[BOX] = {**graph.mailboxes[BOX], "externalReplyMessage": "<p>Closed.</p>"}
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    switch(services)

    report = manager.get(f"{SITE}/incidents/{incident}/report.json").json

    kept = next(e for e in report["events"] if e["type"] == "notice.reply_kept")
    mailbox = [c for c in report["channels"] if c["channel"] == "email"]
    assert len(mailbox) == 3 and all(c["until_seq"] == kept["seq"] for c in mailbox)
    page = manager.get(f"{SITE}/incidents/{incident}/report.html?lang=sv").get_data(as_text=True)
    assert f"Någon ändrade det automatiska svaret från {BOX} under larmet" in page
    pdf = manager.get(f"{SITE}/incidents/{incident}/report.pdf?lang=fi").data
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert f"Osoitteen {BOX} automaattinen vastaus (Microsoft 365)" in text


# --- the console: each mailbox's state -------------------------------------------------------


def test_the_site_state_tells_responders_how_each_mailbox_is_doing(
    services, admin, manager, api_as, graph
):
    with_mailbox(admin)
    staff = api_as("staff")
    graph.fail_next(503)
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    switch(services)

    (failing,) = manager.get(f"{SITE}/state").json["mailbox_states"]
    assert failing["mailbox"] == BOX and failing["reply"] is None
    assert failing["failing"]["status"] == 503 and failing["failing"]["retry_at"]
    switch(services)
    (on,) = manager.get(f"{SITE}/state").json["mailbox_states"]
    assert (on["reply"], on["failing"]) == ("ours", None)
    assert on["since"] == iso(email_switches(services)[0]["ts"])  # when the mailbox took it
    # Staff phones read neither the states nor a provider's refusal.
    assert "mailbox_states" not in staff.get(f"{SITE}/state").json
    events = staff.get(f"{SITE}/events?after=0").json["events"]
    assert "notice.switch_failed" not in {e["type"] for e in events}

    graph.mailboxes[BOX] = {**graph.mailboxes[BOX], "externalReplyMessage": "<p>Closed.</p>"}
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    switch(services)
    (theirs,) = manager.get(f"{SITE}/state").json["mailbox_states"]
    assert theirs["reply"] == "theirs"


# --- readiness: credentials that do not work, before any alarm --------------------------------


def check(services) -> int:
    """One round of the background checks, as the switcher's loop runs them each second."""
    from server.channels.mailboxes.checks import check_due

    return check_due(services, services.mailboxes.providers)


def mailbox_readiness(manager) -> dict:
    (mailbox,) = manager.get(f"{SITE}/readiness").json["mailboxes"]
    return mailbox


def test_a_refused_secret_shows_the_mailbox_not_ready_before_any_alarm(
    services, admin, manager, graph, event_count
):
    with_mailbox(admin)
    graph.client_secret = "rotated-in-entra"  # ours no longer works
    before = event_count()

    assert mailbox_readiness(manager)["ready"] is None  # not tried yet: never on the request
    assert graph.received == [] and graph.token_requests == 0
    assert check(services) == 1

    mailbox = mailbox_readiness(manager)
    assert (mailbox["ready"], mailbox["reason"], mailbox["status"]) == (False, "token_refused", 401)
    assert mailbox["checked_at"] is not None
    assert check(services) == 0  # tried again only after EXITNOW_EMAIL_CHECK_SECONDS
    assert event_count() == before  # how things stand, not a fact for the log

    graph.client_secret = "s3cret-value"  # the secret in Entra is ours again
    with services.store.transaction() as db:  # and the next round comes
        db.execute("UPDATE mailbox_checks SET next_at = 0")
    check(services)
    assert mailbox_readiness(manager)["ready"] is True


@pytest.mark.parametrize(
    "status, reason", [(403, "access_refused"), (401, "access_refused"), (503, "failing")]
)
def test_a_mailbox_whose_settings_are_refused_is_not_ready(
    services, admin, manager, graph, status, reason
):
    with_mailbox(admin)
    graph.fail_next(status, count=2)  # a fresh token is tried once after a 401

    check(services)

    mailbox = mailbox_readiness(manager)
    assert (mailbox["ready"], mailbox["reason"], mailbox["status"]) == (False, reason, status)


def test_microsoft_365_warns_when_the_app_can_also_read_an_unlisted_mailbox(
    services, admin, manager, graph
):
    with_mailbox(admin)  # EXITNOW_MS_UNLISTED_MAILBOX=ceo@shop.example (the settings above)

    check(services)

    mailbox = mailbox_readiness(manager)
    assert mailbox["ready"] is True
    assert mailbox["warning"] == {"reason": "reaches_unlisted", "mailbox": "ceo@shop.example"}
    assert graph.mailboxes["ceo@shop.example"] == {"status": "disabled"}  # only read

    graph.limit_to(BOX)  # New-ApplicationAccessPolicy ... -AccessRight RestrictAccess
    with services.store.transaction() as db:
        db.execute("UPDATE mailbox_checks SET next_at = 0")
    check(services)

    mailbox = mailbox_readiness(manager)
    assert (mailbox["ready"], mailbox["warning"]) == (True, None)
