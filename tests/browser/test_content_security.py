"""Every HTML page runs under a strict Content-Security-Policy, and still works: no page breaks
a rule of its own policy (Chromium reports each refusal as a console error)."""

from __future__ import annotations

import pytest

from harness import enrolled_page

AINO = 2  # a staff member of the demo site


@pytest.fixture
def site(server_with):
    return server_with({"duty_manager": 1, "admin": 1, "staff": 1})


def refusals(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else 0)
    return found


def test_the_public_pages_keep_their_policy_and_work(site, page):
    server, tokens = site
    server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})
    refused = refusals(page)
    status = page.goto(f"{server.url}/status/demo?lang=en")
    assert "Content-Security-Policy" not in status.headers  # the file carries it
    policy = page.eval_on_selector("meta[http-equiv=Content-Security-Policy]", "m => m.content")
    assert (
        "script-src 'sha256-" in policy and "'unsafe-inline'" not in policy.split("script-src")[1]
    )
    page.wait_for_timeout(3500)  # the reload script has fetched status.json at least once
    assert page.evaluate("() => document.body.dataset.version")
    screen = page.goto(f"{server.url}/screen/demo")
    assert "frame-ancestors 'none'" in screen.headers["content-security-policy"]
    page.wait_for_function(
        "() => document.body.innerText.includes('Fire alarm: leave now')", timeout=10000
    )
    assert refused == []


def test_the_staff_app_works_under_the_policy(site, context):
    server, tokens = site
    refused: list[str] = []
    context.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else 0)
    page = enrolled_page(context, server, AINO)
    page.wait_for_selector("#screen-home:not([hidden])")
    page.wait_for_function("() => document.getElementById('connection').className === 'ok'")
    server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})
    page.wait_for_selector("#screen-alarm:not([hidden])", timeout=5_000)
    answer = page.goto(f"{server.url}/")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "script-src 'self';" in answer.headers["content-security-policy"]
    assert refused == []
