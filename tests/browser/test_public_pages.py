"""What customers see in a real browser: the banner on a shop's own page, the queue screen,
and a status page that passes axe-core's WCAG 2.1 AA checks in every language."""

from __future__ import annotations

import time

import pytest

from harness import end_restored_time

BANNER_HOST = """<!doctype html><html lang="en"><head><title>Shop</title>
<style>p { color: rgb(10, 20, 30); font-size: 13px; } h2 { color: rgb(200, 0, 0); }</style>
</head><body><h2>Our shop</h2><p id="own">Welcome to our web shop.</p>
<script>window.hostScriptRan = true;</script>
<script src="{src}" data-interval="1" async></script></body></html>"""


def banner_text(page) -> str:
    return page.evaluate(
        """() => { const host = document.querySelector('[data-exitnow-banner]');
                   return host ? host.shadowRoot.textContent : ''; }"""
    )


def test_banner_appears_when_closed_says_open_again_then_vanishes(live, page, host_page):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    page.goto(host_page(BANNER_HOST.replace("{src}", f"{server.url}/embed/demo/banner.js")))

    page.wait_for_function("() => document.querySelector('[data-exitnow-banner]')")
    assert "closed" in banner_text(page) and "fire alarm" in banner_text(page)
    # The host page keeps its own styles and scripts.
    assert page.evaluate("() => window.hostScriptRan") is True
    own = page.eval_on_selector(
        "#own", "e => [getComputedStyle(e).color, getComputedStyle(e).fontSize]"
    )
    assert own == ["rgb(10, 20, 30)", "13px"]

    server.post("/api/sites/demo/incidents/current/all-clear", manager, {"reason": "resolved"})

    page.wait_for_function(
        """() => document.querySelector('[data-exitnow-banner]')
                   ?.shadowRoot.querySelector('h2').textContent.endsWith('is open again')""",
        timeout=20_000,
    )
    end_restored_time(server.db_path)
    page.wait_for_function("() => !document.querySelector('[data-exitnow-banner]')", timeout=20_000)
    assert page.locator("#own").is_visible()


# A shop's ordinary strict policy: nothing inline, and our host added only where the banner's
# instructions say (script-src for banner.js, connect-src for status.json).
STRICT_SHOP = """<!doctype html><html lang="en"><head><title>Shop</title></head>
<body><p id="own">Welcome to our web shop.</p>
<script src="{src}" data-interval="1" async></script></body></html>"""


def test_banner_is_styled_and_follows_the_notice_under_a_strict_policy(live, page, host_page):
    server, manager = live
    policy = f"default-src 'self'; script-src 'self' {server.url}; connect-src 'self' {server.url}"
    violations = []
    page.on("console", lambda message: violations.append(message.text))
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    src = f"{server.url}/embed/demo/banner.js"
    page.goto(host_page(STRICT_SHOP.replace("{src}", src), {"Content-Security-Policy": policy}))

    page.wait_for_function("() => document.querySelector('[data-exitnow-banner]')")
    look = """() => { const s = document.querySelector('[data-exitnow-banner]')
                          .shadowRoot.querySelector('section');
                      const style = getComputedStyle(s);
                      return [style.backgroundColor, style.borderBottomWidth, style.fontSize]; }"""
    assert page.evaluate(look) == ["rgb(255, 243, 205)", "4px", "16px"]  # closed: amber

    server.post("/api/sites/demo/incidents/current/all-clear", manager, {"reason": "resolved"})
    page.wait_for_function(
        """() => document.querySelector('[data-exitnow-banner]')
                   ?.shadowRoot.querySelector('h2').textContent.endsWith('is open again')""",
        timeout=20_000,
    )
    assert page.evaluate(look)[0] == "rgb(232, 245, 233)"  # restored: green
    assert not [text for text in violations if "Content Security Policy" in text], violations


def test_banner_shows_nothing_while_open(live, page, host_page):
    server, _ = live
    page.goto(host_page(BANNER_HOST.replace("{src}", f"{server.url}/embed/demo/banner.js")))
    page.wait_for_function("() => window.hostScriptRan")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-exitnow-banner]").count() == 0


def test_queue_screen_is_taken_over_by_the_pushed_notice(live, page):
    server, manager = live
    page.goto(f"{server.url}/screen/demo")
    page.wait_for_function("() => document.body.dataset.state === 'open'")

    started = time.monotonic()
    server.post("/api/sites/demo/incidents", manager, {"kind": "evacuation"})
    # The screen's fallback polls every 10 s: switching well before that proves the push.
    page.wait_for_selector("#takeover:not([hidden])", timeout=5_000)
    print(f"queue screen switched {time.monotonic() - started:.3f} s after the API call")

    takeover = page.inner_text("#takeover")
    for headline in ("Evakuointi: poistu nyt", "Utrymning: gå ut nu", "Evacuation: leave now"):
        assert headline in takeover


def test_queue_screen_recovers_by_itself_after_a_network_cut(live, page, context):
    server, manager = live
    page.goto(f"{server.url}/screen/demo")
    page.wait_for_function("() => document.body.dataset.state === 'open'")

    context.set_offline(True)
    page.wait_for_selector("#connection.lost", timeout=30_000)
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    context.set_offline(False)

    page.wait_for_selector("#takeover:not([hidden])", timeout=30_000)
    assert "Fire alarm: leave now" in page.inner_text("#takeover")


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize("closed", [True, False])
def test_status_page_has_no_wcag_21_aa_violations(live, page, lang, closed):
    from axe_playwright_python.sync_playwright import Axe

    server, manager = live
    if closed:
        server.post("/api/sites/demo/incidents", manager, {"kind": "threat"})
    page.goto(f"{server.url}/status/demo?lang={lang}")
    assert page.get_attribute("html", "lang") == lang

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )

    assert results.violations_count == 0, results.generate_report()
