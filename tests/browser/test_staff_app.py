"""The staff app in headless Chromium against the real server: enroll, get the alarm, show the
script, sweep, and keep working offline."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import pytest

from harness import enrolled_page

AINO = 2  # the demo's first staff member: Finnish, home zone "entrance"


@pytest.fixture
def phone(live, context):
    """Aino's phone, enrolled through her link, on the home screen."""
    return open_phone(live, context)


@pytest.fixture
def phone_on_line(live, context, socket_line):
    """Aino's phone with its socket passed through `socket_line`: (page, line)."""
    return open_phone(live, context), socket_line


def open_phone(live, context):
    server, _ = live
    page = enrolled_page(context, server, AINO)
    page.wait_for_selector("#screen-home:not([hidden])")

    page.wait_for_function("() => document.getElementById('connection').className === 'ok'")
    page.wait_for_function("() => document.getElementById('home-zone').textContent !== ''")
    return page


def events_of(server, token, kind: str) -> list[dict]:
    events = server.get("/api/sites/demo/events?after=0&limit=1000", token).json()["events"]
    return [e for e in events if e["type"] == kind]


def test_a_phone_refused_while_the_server_lost_its_database_connects_again(
    live, context, socket_line
):
    """socket.io does not retry a connection the server refused; the app does, when the
    refusal says "try again" (503: PostgreSQL restarting or failing over)."""
    problem = {"type": "https://exitnow.invalid/problems/database-unreachable", "status": 503}
    refusal = "44" + json.dumps({"message": "try again", "data": problem})
    socket_line.refusals = [refusal, refusal]

    open_phone(live, context)  # its connection comes up (the indicator turns "ok")

    assert socket_line.refusals == []
    connects = [frame for frame in map(str, socket_line.sent) if frame.startswith("40")]
    assert len(connects) == 3, connects


def test_enrolled_phone_shows_who_and_where(phone):
    assert "Aino Aaltonen" in phone.inner_text("#home-who")
    assert "Sisäänkäynti ja kassat / Ingång och kassor" in phone.inner_text("#home-zone")
    assert phone.get_attribute("html", "lang") == "fi"


def test_alarm_and_script_take_over_when_the_incident_starts(live, phone):
    server, manager = live
    started = time.monotonic()
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire", "drill": True})

    phone.wait_for_selector("#screen-alarm:not([hidden])", timeout=5_000)
    print(f"alarm screen shown {time.monotonic() - started:.3f} s after the API call")

    assert phone.inner_text("#alarm-title") == "Palohälytys"
    assert phone.is_visible("#alarm-drill")
    assert "Jätä ostokset tähän." in phone.inner_text("#script-lines")
    assert phone.inner_text("#announcer") == "Palohälytys"  # screen readers are told
    # The app's own receipt: the alarm reached this phone.
    deadline = time.monotonic() + 10
    while not events_of(server, manager, "alarm.delivered") and time.monotonic() < deadline:
        time.sleep(0.1)
    [delivered] = events_of(server, manager, "alarm.delivered")
    assert delivered["payload"]["staff_id"] == AINO


def test_a_real_alarm_does_not_say_drill(live, phone):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")

    assert not phone.is_visible("#alarm-drill")
    assert phone.is_visible("#ack") and not phone.is_visible("#ack-done")
    assert not phone.is_visible("#safe-done")


def test_script_is_shown_to_the_customer_in_their_language(live, phone):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "evacuation"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")

    phone.click("#show-customer")
    phone.click("#customer-languages button[lang=en]")

    assert phone.get_attribute("#screen-customer", "lang") == "en"
    assert "Leave your purchases here." in phone.inner_text("#customer-lines")
    phone.click("#customer-languages button[lang=sv]")
    assert "Lämna dina varor här." in phone.inner_text("#customer-lines")


def test_zone_clear_is_recorded(live, phone):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")

    phone.click("#zone-clear")

    phone.wait_for_function(
        "() => document.getElementById('zone-sweep').textContent.includes('Aino')"
    )
    [cleared] = events_of(server, manager, "zone.cleared")
    assert cleared["payload"] == {
        "incident_id": 1,
        "zone": "entrance",
        "staff_id": AINO,
        "name": "Aino Aaltonen",
        "note": None,
    }


def test_got_it_tapped_while_the_receipt_is_on_its_way_is_sent_too(live, phone_on_line):
    server, manager = live
    phone, line = phone_on_line
    line.holding = True  # the delivery receipt, stopped on its way until we let it go
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")
    deadline = time.monotonic() + 5
    while not line.held and time.monotonic() < deadline:
        phone.wait_for_timeout(50)

    phone.click("#ack")
    phone.wait_for_selector("#outbox:not([hidden])")  # "got it" waits behind the receipt
    line.let_go()

    phone.wait_for_selector("#outbox", state="hidden", timeout=10_000)
    assert line.actions() == ["record_delivery", "acknowledge"]
    assert len(events_of(server, manager, "alarm.acknowledged")) == 1


def until(page, check, timeout: float = 15):
    """What `check()` returns once true, Playwright running meanwhile (it passes the frames
    of a routed socket only while the test waits through it)."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not true within {timeout} s"
        page.wait_for_timeout(50)
    return found


def post_paths(context) -> list[str]:
    """The paths of the POST requests the pages make from now on, in order."""
    paths: list[str] = []
    context.on("request", lambda r: r.method == "POST" and paths.append(urlsplit(r.url).path))
    return paths


def test_the_receipt_rides_the_open_socket(live, context, phone_on_line):
    server, manager = live
    phone, line = phone_on_line
    posted = post_paths(context)

    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")
    phone.click("#ack")

    until(phone, lambda: events_of(server, manager, "alarm.acknowledged"))
    phone.wait_for_function("() => document.getElementById('outbox').hidden")
    assert line.actions() == ["record_delivery", "acknowledge"]
    assert [p for p in posted if "/incidents/current/" in p] == []
    [delivered] = events_of(server, manager, "alarm.delivered")
    [acknowledged] = events_of(server, manager, "alarm.acknowledged")
    assert delivered["payload"]["staff_id"] == acknowledged["payload"]["staff_id"] == AINO


def test_with_the_socket_down_answers_go_over_http_once_and_in_order(live, context, phone_on_line):
    """The socket drops with the receipt sent but not acknowledged: the phone cannot know
    whether it arrived, and sends it again over HTTP (its key makes that a repeat), then the
    taps after it, in the order they were made."""
    server, manager = live
    phone, line = phone_on_line
    posted = post_paths(context)
    line.deaf = True
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")
    until(phone, lambda: events_of(server, manager, "alarm.delivered"))  # in, unanswered
    line.cut()
    phone.wait_for_function("() => document.getElementById('connection').className === 'lost'")

    phone.click("#ack")
    phone.click("#safe")

    until(phone, lambda: events_of(server, manager, "staff.safe"))
    phone.wait_for_selector("#outbox", state="hidden", timeout=15_000)
    assert line.actions() == ["record_delivery"]
    assert [p.rsplit("/", 1)[1] for p in posted if "/incidents/current/" in p] == [
        "delivered",
        "acknowledge",
        "safe",
    ]
    marks = [
        events_of(server, manager, kind)
        for kind in ("alarm.delivered", "alarm.acknowledged", "staff.safe")
    ]
    assert [len(mark) for mark in marks] == [1, 1, 1]  # the receipt too, though sent twice
    assert marks[0][0]["seq"] < marks[1][0]["seq"] < marks[2][0]["seq"]


def test_safe_reported_offline_is_delivered_exactly_once(live, phone, context):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")
    phone.wait_for_function("() => document.getElementById('outbox').hidden")
    sending = unanswered(phone, "/incidents/current/safe")

    context.set_offline(True)
    phone.click("#safe")
    phone.wait_for_selector("#outbox:not([hidden])")
    assert "olen turvassa" in phone.inner_text("#outbox")
    assert events_of(server, manager, "staff.safe") == []

    context.set_offline(False)

    phone.wait_for_selector("#outbox", state="hidden", timeout=30_000)
    # A duplicate would be a request of its own: once every one the phone sent has its
    # answer (or failed offline), the log holds all that will ever arrive.
    deadline = time.monotonic() + 10
    while sending and time.monotonic() < deadline:
        phone.wait_for_timeout(50)
    assert not sending
    assert len(events_of(server, manager, "staff.safe")) == 1


def unanswered(page, path: str) -> set:
    """The page's requests to URLs ending in `path` that have not ended yet, from now on
    (kept up to date while Playwright waits)."""
    pending: set = set()
    page.on("request", lambda request: request.url.endswith(path) and pending.add(request))
    page.on("requestfinished", lambda request: pending.discard(request))
    page.on("requestfailed", lambda request: pending.discard(request))
    return pending


def test_alarm_screen_survives_a_reload_while_offline(live, phone, context):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    phone.wait_for_selector("#screen-alarm:not([hidden])")
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    phone.reload()

    phone.wait_for_selector("#screen-alarm:not([hidden])", timeout=10_000)
    assert phone.inner_text("#alarm-title") == "Palohälytys"
    assert "Jätä ostokset tähän." in phone.inner_text("#script-lines")


@pytest.fixture
def notifications_allowed(live, context):
    """The person has allowed notifications before the app starts (as on an installed app)."""
    context.grant_permissions(["notifications"], origin=live[0].url)


def test_pushed_alarm_shows_a_notification(live, notifications_allowed, phone, context):
    server, _ = live
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")

    cdp = context.new_cdp_session(phone)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")

    def ours() -> list[dict]:
        return [
            r for r in registrations if r["scopeURL"] == server.url + "/" and not r.get("isDeleted")
        ]

    deadline = time.monotonic() + 5
    while not ours() and time.monotonic() < deadline:
        phone.wait_for_timeout(50)
    message = {"title": "PALOHÄLYTYS: poistukaa", "body": "Avaa napauttamalla.", "url": "/#alarm"}

    # Headless Chromium now and then drops a push delivered through the DevTools protocol
    # (the worker never sees it); delivering again is what the real push service does too.
    shown = []
    for _delivery in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": server.url,
                "registrationId": ours()[-1]["registrationId"],
                "data": json.dumps(message),
            },
        )
        deadline = time.monotonic() + 3
        while not shown and time.monotonic() < deadline:
            shown = phone.evaluate(
                """async () => (await (await navigator.serviceWorker.ready).getNotifications())
                               .map((n) => ({title: n.title, body: n.body, tag: n.tag}))"""
            )
        if shown:
            break
    assert shown == [
        {"title": "PALOHÄLYTYS: poistukaa", "body": "Avaa napauttamalla.", "tag": "exitnow-alarm"}
    ]


def test_the_app_is_installable(live, phone):
    server, _ = live
    manifest = phone.evaluate("async () => (await fetch('/manifest.webmanifest')).json()")
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    cdp = phone.context.new_cdp_session(phone)
    errors = cdp.send("Page.getAppManifest")["errors"]
    assert errors == []
    installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts count as incognito, where nothing installs; every other check holds.
    assert [e["errorId"] for e in installability if e["errorId"] != "in-incognito"] == []


def test_manager_shows_an_enrollment_qr_code_on_the_admin_page(live, context):
    server, _ = live
    page = enrolled_page(context, server, 1)  # Maija, manager
    page.wait_for_selector("#screen-console-start:not([hidden])")  # managers get the console

    page.goto(f"{server.url}/admin")

    page.locator(".person", has_text="Aino Aaltonen").locator("button").click()

    code = page.locator(".person", has_text="Aino Aaltonen").locator(".qr svg")
    code.wait_for()
    assert "/enroll/" in page.locator(".person", has_text="Aino Aaltonen").inner_text()


def test_backup_asked_on_one_phone_is_answered_on_the_guards(live, phone, browser):
    server, manager = live
    guard_context = browser.new_context()
    try:
        guard = enrolled_page(guard_context, server, 6)  # Ville, guard
        guard.wait_for_selector("#screen-home:not([hidden])")
        guard.wait_for_function("() => document.getElementById('connection').className === 'ok'")

        phone.click("#backup summary")
        phone.fill("#backup-location", "Till 3")
        phone.click("#backup-send")

        guard.wait_for_selector("#backup-requests:not([hidden])", timeout=5_000)
        assert "Aino Aaltonen" in guard.inner_text("#backup-request-list")
        assert "Till 3" in guard.inner_text("#backup-request-list")
        assert phone.is_hidden("#backup-requests")  # staff never see others' requests
        guard.click("#backup-request-list button")
        # Where to go stays in sight of the one on the way, until he has seen it.
        guard.wait_for_selector("#backup-request-list li.answered", timeout=5_000)
        assert "Till 3" in guard.inner_text("#backup-request-list")
        [answered] = events_of(server, manager, "backup.answered")
        assert answered["actor"]["name"] == "Ville Vartija"
        guard.click("#backup-request-list li.answered button")
        guard.wait_for_selector("#backup-requests", state="hidden", timeout=5_000)
    finally:
        guard_context.close()
