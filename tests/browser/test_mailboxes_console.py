"""The customer-service mailboxes on the duty manager's console in Chromium at phone size, in
Finnish: the real server switches the mailbox in the background against Graph's stand-in; the
console says it is failing (503) while Graph refuses, that the automatic reply is on since when
once Graph takes it, and, after the all-clear, that it was left as someone else set it."""

from __future__ import annotations

import re

import pytest
from mail_standins import Graph

from harness import enrolled_page, eventually, prepare_database

BOX = "asiakaspalvelu@shop.example"
MAIJA = 1  # the demo's duty manager
LIST = "#console-mailboxes-list"


@pytest.fixture
def graph():
    standin = Graph("tenant-1", "client-1", "s3cret-value")
    standin.add_mailbox(BOX, {"status": "disabled", "externalReplyMessage": ""})
    standin.add_mailbox("ceo@shop.example", {"status": "disabled"})
    standin.client_secret = "rotated"  # until the test says: ours is refused
    yield standin
    standin.release.set()
    standin.close()


@pytest.fixture
def site(graph, live_servers, tmp_path):
    """The real server with a mailbox on Graph's stand-in: (server, tokens {role: [token]})."""
    tokens = prepare_database(tmp_path / "live.db", {"admin": 1, "duty_manager": 1})
    env = {
        "EXITNOW_MS_LOGIN_URL": graph.url,
        "EXITNOW_MS_GRAPH_URL": graph.url,
        "EXITNOW_MS_TENANT_ID": "tenant-1",
        "EXITNOW_MS_CLIENT_ID": "client-1",
        "EXITNOW_MS_CLIENT_SECRET": "s3cret-value",
        "EXITNOW_EMAIL_RETRY_SECONDS": "1",
        "EXITNOW_EMAIL_RETRY_MAX_SECONDS": "1",
        "EXITNOW_EMAIL_CHECK_SECONDS": "1",
        "EXITNOW_MS_UNLISTED_MAILBOX": "ceo@shop.example",
    }
    server = live_servers(tmp_path / "live.db", env=env).start()
    mailbox = {"provider": "microsoft365", "mailbox": BOX}
    settings = {"settings": {"email": [mailbox]}}
    assert server.post("/api/sites/demo/notice-settings", tokens["admin"][0], settings).ok
    return server, tokens


def ready(server, token: str) -> bool | None:
    (mailbox,) = server.get("/api/sites/demo/readiness", token).json()["mailboxes"]
    return mailbox["ready"]


def says(page, selector: str, pattern: str) -> None:
    page.wait_for_function(
        "([selector, pattern]) => new RegExp(pattern).test("
        "document.querySelector(selector).innerText)",
        arg=[selector, pattern],
        timeout=15_000,
    )


def test_the_console_says_how_each_mailbox_is_doing(site, graph, new_phone, screenshots):
    server, tokens = site
    manager = tokens["duty_manager"][0]
    eventually(lambda: ready(server, manager) is False, timeout=15)  # tried in the background
    page = enrolled_page(new_phone(), server, MAIJA, lang="fi")
    page.wait_for_selector("#screen-console-start:not([hidden])")
    # Before any alarm: the secret is refused, and the console says so.
    says(page, "#start-mailboxes-list", rf"{BOX}: ei valmis: kirjautuminen hylättiin \(401\)")
    graph.client_secret = "s3cret-value"
    eventually(lambda: ready(server, manager) is True, timeout=15)
    page.reload()
    says(page, "#start-mailboxes-list", rf"{BOX}: valmis \(toistaiseksi oma vastaus\)")
    says(page, "#start-mailboxes-warning", "pääsee lukemaan myös osoitetta ceo@shop.example")
    page.screenshot(path=screenshots / "console-mailbox-ready-fi.png", full_page=True)
    graph.fail_next(503, count=10_000)  # Graph is down at the alarm

    assert server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}).status_code == 201

    page.wait_for_selector("#screen-console:not([hidden])")
    says(page, LIST, f"{BOX}: vaihto ei onnistu: 503, yritetään uudelleen")
    page.screenshot(path=screenshots / "console-mailbox-failing-fi.png", full_page=True)
    graph.failures.clear()  # Graph answers again
    says(page, LIST, rf"{BOX}: automaattinen vastaus päällä klo \d\d\.\d\d alkaen")
    assert graph.mailboxes[BOX]["status"] == "alwaysEnabled"
    box = page.locator("#console-mailboxes").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the phone

    graph.mailboxes[BOX] = {**graph.mailboxes[BOX], "externalReplyMessage": "<p>Suljettu.</p>"}
    ended = server.post(
        "/api/sites/demo/incidents/current/all-clear", manager, {"reason": "resolved"}
    )
    assert ended.ok

    page.wait_for_selector("#screen-console-start:not([hidden])")
    says(page, "#start-mailboxes-list", rf"{BOX}: jätetty sellaiseksi kuin joku sen asetti")
    page.reload()  # the same from the server's state as from the events
    says(page, "#start-mailboxes-list", rf"{BOX}: jätetty sellaiseksi kuin joku sen asetti")
    assert graph.mailboxes[BOX]["externalReplyMessage"] == "<p>Suljettu.</p>"
    page.screenshot(path=screenshots / "console-mailbox-theirs-fi.png", full_page=True)
    assert not re.search(r"\b(automatic|failing|retrying)\b", page.inner_text("body"))
