"""The public channels in a real browser as people meet them: the queue screen inside the shop
tells those already inside the way out (its zone's exits and assembly point) and never the
website's "do not come"; a false alarm is named on the queue screen, the status page and the
banner for the restored time, and then they return to normal; at 200 % text on a phone
nothing is cut off. Screenscreenshots of the queue screen and the status page in Finnish and
Swedish go to a folder named at the end of the run."""

from __future__ import annotations

import json

import pytest

from harness import CUT_OFF, end_restored_time, larger_text

ALL_ZONES = "() => document.body.dataset.state === 'closed'"
# The website's words, which mean nothing to a person already inside.
WEBSITE_WORDS = (
    "Älä tule myymälään",
    "Kerromme tällä sivulla",
    "Kerromme verkkosivuillamme",
    "Kom inte till butiken",
    "Vi meddelar här",
    "Vi meddelar på vår webbplats",
    "do not come to the shop",
    "We will say here",
    "We will say on our website",
)
FALSE_ALARM = {"fi": "väärä hälytys", "sv": "falsklarm", "en": "false alarm"}
TV = {"viewport": {"width": 1920, "height": 1080}}


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_queue_screen_shows_its_zones_way_out_and_not_the_websites_words(
    live, browser, screenshots, lang
):
    server, manager = live
    context = browser.new_context(**TV, locale=lang)
    try:
        screen = context.new_page()
        screen.goto(f"{server.url}/screen/demo?zone=grocery")
        screen.wait_for_function("() => document.body.dataset.state === 'open'")
        server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
        screen.wait_for_function(ALL_ZONES, timeout=5_000)

        shown = screen.inner_text("#takeover")
        assert (
            "Hätäuloskäynti leipomon takana / Nödutgång bakom bageriet" in shown
        )  # the zone's exit
        assert "Parkkipaikka, valotolppa A" in shown  # and its assembly point
        assert "Pääovi" not in shown and "valotolppa B" not in shown  # not another zone's
        assert {"fi": "Palohälytys: poistu nyt", "sv": "Brandlarm: gå ut nu"}[lang] in shown
        assert {"fi": "Uloskäynti:", "sv": "Utgång:"}[lang] in shown  # one exit: singular
        assert [words for words in WEBSITE_WORDS if words in shown] == []
        problems = screen.evaluate(CUT_OFF)
        assert problems == [], "\n".join(problems)
        screen.screenshot(path=screenshots / f"queue-screen-{lang}-fire-grocery.png")
    finally:
        context.close()


def test_a_queue_screen_refused_while_the_server_lost_its_database_connects_again(
    live, socket_line, page
):
    """As the staff app: a 503 refusal of its live connection is tried again, and the
    screen then follows the notice live, not by polling."""
    server, manager = live
    problem = {"type": "https://exitnow.invalid/problems/database-unreachable", "status": 503}
    socket_line.refusals = ["44/public," + json.dumps({"message": "try again", "data": problem})]
    page.goto(f"{server.url}/screen/demo")
    page.wait_for_function("() => document.body.dataset.state === 'open'")

    def connects() -> list[str]:
        return [frame for frame in map(str, socket_line.sent) if frame.startswith("40/public")]

    for _ in range(100):  # Playwright's routes run while the page is waited on
        if len(connects()) == 2:
            break
        page.wait_for_timeout(100)
    assert len(connects()) == 2, socket_line.sent
    page.wait_for_function(
        "() => !document.getElementById('connection').classList.contains('lost')"
    )

    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})

    page.wait_for_function(ALL_ZONES, timeout=3_000)  # live: the screen polls every 10 s


def test_a_queue_screen_without_a_zone_says_the_nearest_exit_and_every_assembly_point(live, page):
    server, manager = live
    server.post("/api/sites/demo/incidents", manager, {"kind": "evacuation"})
    page.goto(f"{server.url}/screen/demo")  # the URL screens have today keeps working
    page.wait_for_function(ALL_ZONES)
    shown = page.inner_text("#takeover")
    assert "Poistu lähimmästä uloskäynnistä." in shown
    assert (
        "Kokoontumispaikat: Parkkipaikka, valotolppa A / Parkeringen, lyktstolpe A ja Parkkipaikka, valotolppa B / Parkeringen, lyktstolpe B"
        in shown
    )
    assert "Återsamlingsplatser:" in shown and "Assembly points:" in shown


def test_a_false_alarm_is_named_on_the_screen_page_and_banner_then_they_return_to_normal(
    live, browser, host_page, screenshots
):
    server, manager = live
    context = browser.new_context(**TV)
    try:
        screen, status, shop = context.new_page(), context.new_page(), context.new_page()
        screen.goto(f"{server.url}/screen/demo")
        screen.wait_for_function("() => document.body.dataset.state === 'open'")
        server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
        screen.wait_for_function(ALL_ZONES, timeout=5_000)
        server.post(
            "/api/sites/demo/incidents/current/all-clear", manager, {"reason": "false_alarm"}
        )

        screen.wait_for_function("() => document.body.dataset.state === 'restored'", timeout=5_000)
        for words in FALSE_ALARM.values():
            assert words in screen.inner_text("#takeover")
        screen.screenshot(path=screenshots / "queue-screen-false-alarm.png")
        status.goto(f"{server.url}/status/demo?lang=fi")
        assert FALSE_ALARM["fi"] in status.inner_text("main")
        shop.goto(
            host_page(
                '<!doctype html><html lang="sv"><head><title>Shop</title></head><body>'
                f'<script src="{server.url}/embed/demo/banner.js" data-interval="1"></script>'
                "</body></html>"
            )
        )
        banner = "() => document.querySelector('[data-exitnow-banner]')?.shadowRoot.textContent"
        assert FALSE_ALARM["sv"] in shop.evaluate(banner)  # open again, and why: not gone

        end_restored_time(server.db_path)

        screen.wait_for_function("() => document.body.dataset.state === 'open'", timeout=15_000)
        assert screen.locator("#takeover").is_hidden()
        status.wait_for_function(
            "() => !document.body.innerText.includes('väärä hälytys')", timeout=15_000
        )
        assert "on auki normaalisti" in status.inner_text("main")
        shop.wait_for_function(
            "() => !document.querySelector('[data-exitnow-banner]')", timeout=15_000
        )
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_at_200_percent_text_on_a_phone_nothing_is_cut_off(live, new_phone, screenshots, lang):
    server, manager = live
    server.post(
        "/api/sites/demo/incidents",
        manager,
        {"kind": "fire", "eta": "2099-06-01T09:00:00Z"},
    )
    page = new_phone().new_page()
    page.goto(f"{server.url}/status/demo?lang={lang}")
    larger_text(page, 200)
    problems = page.evaluate(CUT_OFF)
    assert problems == [], "\n".join(problems)
    page.screenshot(path=screenshots / f"status-page-{lang}-200.png")

    page.goto(f"{server.url}/screen/demo?zone=entrance")
    page.wait_for_function(ALL_ZONES)
    larger_text(page, 200)
    problems = page.evaluate(CUT_OFF)
    assert problems == [], "\n".join(problems)
    page.screenshot(path=screenshots / f"queue-screen-{lang}-phone-200.png")


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_status_page_says_a_reopening_in_another_year_with_its_date(
    live, new_phone, screenshots, lang
):
    server, manager = live
    server.post(
        "/api/sites/demo/incidents", manager, {"kind": "fire", "eta": "2099-06-01T09:00:00Z"}
    )
    page = new_phone().new_page()
    page.goto(f"{server.url}/status/demo?lang={lang}")
    text = page.inner_text("main")
    reopens = {"fi": "maanantaina 1.6.2099 klo 12.00", "sv": "måndag den 1 juni 2099 kl. 12.00"}
    assert reopens[lang] in text
    page.screenshot(path=screenshots / f"status-page-{lang}-closed.png", full_page=True)


def test_a_drill_that_reaches_the_queue_screen_says_so_and_looks_like_a_drill(
    server_with, browser, screenshots
):
    server, tokens = server_with({"duty_manager": 1, "admin": 1})
    settings = {"settings": {"public_on_drill": True}}
    server.post("/api/sites/demo/notice-settings", tokens["admin"][0], settings)
    server.post(
        "/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire", "drill": True}
    )
    context = browser.new_context(**TV)
    try:
        screen = context.new_page()
        screen.goto(f"{server.url}/screen/demo?zone=clothing")
        screen.wait_for_function(ALL_ZONES)
        shown = screen.inner_text("#takeover")
        for words in ("HARJOITUS: TÄMÄ EI OLE TODELLINEN HÄLYTYS.", "ÖVNING:", "DRILL:"):
            assert words in shown  # in capitals on the screen
        assert "drill" in screen.get_attribute("#takeover", "class")
        assert "Nödutgång vid provrummen" in shown
        screen.screenshot(path=screenshots / "queue-screen-fi-drill-clothing.png")
    finally:
        context.close()
