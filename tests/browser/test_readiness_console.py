"""Phone readiness in Chromium: a phone enrolled with notifications granted is ready; one whose
push endpoint answers 410 is not, and the duty manager's console says why; a test alarm
reaches the ready phone's service worker (pwa/sw.js), which answers it, and the answer is
recorded. Headless Chromium cannot subscribe at Google's push service, so the phone's
subscription points at the local push service, and the push that arrives there is handed to
the phone's service worker through the DevTools protocol, as the push service would."""

from __future__ import annotations

import json

import pytest
import requests

from harness import Browser, enrolled_page, eventually
from server.rules.auth import CSRF_HEADER

MAIJA, ERIK, SARA = 1, 3, 4  # the demo's duty manager, and two of its staff


@pytest.fixture
def site(server_with):
    return server_with({"duty_manager": 1})


def subscribe_from(page, subscription: dict) -> None:
    """The page's own write, signed in by its cookie, as app.js sends the subscription."""
    status = page.evaluate(
        """async (subscription) => {
             const me = await (await fetch("/api/me")).json();
             const answer = await fetch("/api/push/subscriptions", {
               method: "POST",
               headers: {"Content-Type": "application/json", "X-CSRF-Token": me.csrf_token},
               body: JSON.stringify({subscription}),
             });
             return answer.status;
           }""",
        subscription,
    )
    assert status == 201


def service_worker_of(context, page) -> tuple:
    """A DevTools session on the phone's page and its service worker's registration id."""
    session = context.new_cdp_session(page)
    registrations: list[str] = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r["isDeleted"]
        ),
    )
    session.send("ServiceWorker.enable")
    for _ in range(200):  # the events arrive while Playwright has the turn, not in a sleep
        if registrations:
            return session, registrations[0]
        page.wait_for_timeout(50)
    raise AssertionError("the phone's service worker was never registered")


def test_ready_phone_answers_the_test_alarm_and_the_console_names_the_one_that_is_not(
    site, browser, push_service
):
    server, tokens = site
    manager_token = tokens["duty_manager"][0]
    phone_context = browser.new_context()
    manager_context = browser.new_context()
    try:
        phone_context.grant_permissions(["notifications"], origin=server.url)
        erik = enrolled_page(phone_context, server, ERIK, lang="en")
        erik.wait_for_function("() => document.getElementById('connection')?.className === 'ok'")
        erik.wait_for_function("() => navigator.serviceWorker.controller !== null")
        eriks_keys = Browser(push_service.url + "/erik")
        subscribe_from(erik, eriks_keys.subscription)
        # Sara's phone: enrolled and subscribed, but the push service has forgotten it (410).
        link = server.post(f"/api/sites/demo/staff/{SARA}/enrollment-links", manager_token)
        sara = requests.Session()
        sara.post(f"{server.url}/api/enroll", json={"code": link.json()["code"]})
        csrf = sara.get(f"{server.url}/api/me").json()["csrf_token"]
        sara.post(
            f"{server.url}/api/push/subscriptions",
            json={"subscription": Browser(push_service.url + "/gone/sara").subscription},
            headers={CSRF_HEADER: csrf},
        )
        console = enrolled_page(manager_context, server, MAIJA, lang="en")
        console.wait_for_selector("#screen-console-start:not([hidden])")
        console.wait_for_function(
            "() => document.getElementById('readiness-summary').innerText.includes('phones')"
        )
        readiness = server.get("/api/sites/demo/readiness", manager_token).json()["people"]
        erik_now = next(p for p in readiness if p["staff_id"] == ERIK)
        assert erik_now["ready"] and erik_now["notifications"] == "granted"
        assert erik_now["connected"] and erik_now["app_version"]  # the shell's version

        console.click("#test-alarm-all")

        pushes = push_service.wait_for(2)
        [to_erik] = [push for push in pushes if push["path"] == "/erik"]
        message = eriks_keys.decrypt(to_erik["body"])
        session, registration = service_worker_of(phone_context, erik)
        session.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": server.url, "registrationId": registration, "data": json.dumps(message)},
        )

        def answered() -> dict | None:
            people = server.get("/api/sites/demo/readiness", manager_token).json()["people"]
            erik_then = next(p for p in people if p["staff_id"] == ERIK)
            return erik_then if erik_then["test"]["answered_at"] else None

        erik_then = eventually(answered, timeout=10)
        assert erik_then["ready"] and erik_then["test"]["push"] == "accepted"
        sara_item = console.locator(f"#readiness-people li[data-staff-id='{SARA}']")
        sara_item.wait_for(timeout=10_000)
        console.wait_for_function(
            "(id) => document.querySelector(`#readiness-people li[data-staff-id='${id}']`)"
            ".innerText.includes('HTTP 410')",
            arg=SARA,
            timeout=10_000,
        )
        assert "no longer knows the phone" in sara_item.inner_text()
        assert console.locator(f"#readiness-people li[data-staff-id='{ERIK}']").count() == 0
        # Erik's phone alone: Maija's headless console has no push subscription either.
        total = len(readiness)
        console.wait_for_function(
            "(text) => document.getElementById('readiness-summary').innerText === text",
            arg=f"1 of {total} phones ready.",
            timeout=10_000,
        )
    finally:
        phone_context.close()
        manager_context.close()


def test_the_console_shows_who_is_unreached_and_how_each_was_tried(
    server_with, browser, push_service
):
    server, tokens = server_with({"duty_manager": 1, "admin": 1})
    manager_token, admin_token = tokens["duty_manager"][0], tokens["admin"][0]
    config = server.get("/api/sites/demo/setup", admin_token).json()["config"]
    config["escalation"] = {"seconds": 1}
    assert server.post("/api/sites/demo/setup", admin_token, {"config": config}).ok
    link = server.post(f"/api/sites/demo/staff/{ERIK}/enrollment-links", manager_token)
    erik = requests.Session()  # a phone that stays silent: no receipt ever comes from it
    erik.post(f"{server.url}/api/enroll", json={"code": link.json()["code"]})
    erik.post(
        f"{server.url}/api/push/subscriptions",
        json={"subscription": Browser(push_service.url + "/erik").subscription},
        headers={CSRF_HEADER: erik.get(f"{server.url}/api/me").json()["csrf_token"]},
    )
    context = browser.new_context()
    try:
        console = enrolled_page(context, server, MAIJA, lang="en")
        console.wait_for_selector("#screen-console-start:not([hidden])")

        server.post("/api/sites/demo/incidents", manager_token, {"kind": "fire", "drill": True})

        console.wait_for_selector("#screen-console:not([hidden])")
        console.wait_for_function(
            "() => document.getElementById('unreached').innerText"
            ".includes('Erik Lindqvist: pushed again at ')",
            timeout=10_000,
        )
        erik_item = console.locator(f"#unreached li[data-staff-id='{ERIK}']")
        console.wait_for_function(
            "(id) => document.querySelector(`#unreached li[data-staff-id='${id}']`)"
            ".innerText.includes('(accepted)')",
            arg=ERIK,
            timeout=10_000,
        )
        assert erik_item.inner_text().startswith("Erik Lindqvist: pushed again at ")
        assert len([p for p in push_service.wait_for(2) if p["path"] == "/erik"]) == 2
    finally:
        context.close()
