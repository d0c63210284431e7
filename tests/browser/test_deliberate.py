"""Starting and ending an alarm are deliberate on a phone-sized touch screen: a quick double
tap at one spot starts and ends nothing, the confirmation never lies under the arming tap, an
armed choice disarms by itself, and the confirmation names what will happen."""

from __future__ import annotations

import pytest

from harness import enrolled_page

MAIJA = 1  # the demo's duty manager
SITE = "/api/sites/demo"


@pytest.fixture
def console(live, new_phone):
    """Maija's console on her phone, in English, nothing running."""
    server, _ = live
    page = enrolled_page(new_phone(), server, MAIJA, lang="en")
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.wait_for_function("() => document.getElementById('connection').className === 'ok'")
    return page


def centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def covers(page, selector: str, point: tuple[float, float]) -> bool:
    box = page.locator(selector).bounding_box()
    x, y = point
    return (
        bool(box)
        and box["x"] <= x <= box["x"] + box["width"]
        and (box["y"] <= y <= box["y"] + box["height"])
    )


def incident(server, token) -> dict | None:
    return server.get(f"{SITE}/state", token).json()["incident"]


def double_tap(page, point: tuple[float, float]) -> None:
    """Two taps 250 ms apart at the same point, as a hurried thumb does."""
    page.touchscreen.tap(*point)
    page.wait_for_timeout(250)
    page.touchscreen.tap(*point)


KINDS = ("fire", "evacuation", "threat", "power_outage", "shelter")


@pytest.mark.parametrize("text_size", [100, 200])  # the phone's font size setting, in %
def test_the_confirmation_never_lies_where_the_arming_tap_landed(live, new_phone, text_size):
    server, manager = live
    console = enrolled_page(new_phone(), server, MAIJA)  # in Finnish
    console.wait_for_selector("#screen-console-start:not([hidden])")
    cdp = console.context.new_cdp_session(console)  # the setting lasts while this session does
    size = 16 * text_size // 100
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": size, "fixed": size}})
    height = console.viewport_size["height"]
    landed_on = []
    # Every kind, wherever the page is scrolled to: the arming tap, then where the confirmation is.
    for kind in KINDS:
        button = f"#kinds button[data-kind={kind}]"
        for scrolled in range(0, 1600, 80):
            console.evaluate(f"() => scrollTo(0, {scrolled})")
            box = console.locator(button).bounding_box()
            if box["y"] < 0 or box["y"] + box["height"] > height:
                continue  # not on the screen at this scroll
            point = centre(console, button)
            console.touchscreen.tap(*point)
            console.wait_for_selector("#start-confirm", state="visible")
            if covers(console, "#start-confirm", point):
                landed_on.append((kind, scrolled))
            console.evaluate("() => document.getElementById('start-cancel').click()")
    assert landed_on == []
    assert incident(server, manager) is None


@pytest.mark.parametrize("kind", ["fire", "evacuation", "shelter"])
def test_a_double_tap_on_a_kind_starts_nothing(live, console, kind):
    server, manager = live
    point = centre(console, f"#kinds button[data-kind={kind}]")

    double_tap(console, point)

    console.wait_for_timeout(1500)  # what a start would take to reach the server, and more
    assert incident(server, manager) is None
    assert console.is_visible("#screen-console-start")


def test_an_armed_kind_disarms_by_itself(live, console):
    server, manager = live
    console.tap("#kinds button[data-kind=evacuation]")
    console.wait_for_selector("#start-confirm", state="visible")
    assert "Cancels itself in" in console.inner_text("#start-panel")

    console.wait_for_selector("#start-confirm", state="hidden", timeout=12_000)

    pressed = console.get_attribute("#kinds button[data-kind=evacuation]", "aria-pressed")
    assert pressed == "false"
    assert incident(server, manager) is None


def test_the_confirmation_names_what_will_happen_and_the_drill_switch_resets(live, console):
    server, manager = live
    console.tap("#kinds button[data-kind=fire]")
    assert console.inner_text("#start-confirm") == "Start a REAL fire evacuation"
    console.tap("#start-drill")  # beside the confirmation, in sight while deciding
    assert console.inner_text("#start-confirm") == "Start a fire DRILL"

    console.tap("#start-confirm")

    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    assert incident(server, manager)["drill"] is True
    server.post(f"{SITE}/incidents/current/all-clear", manager, {"reason": "drill_over"})
    console.wait_for_selector("#screen-console-start:not([hidden])", timeout=5_000)
    console.tap("#kinds button[data-kind=fire]")
    assert console.inner_text("#start-confirm") == "Start a REAL fire evacuation"
    assert not console.is_checked("#start-drill")


def test_a_double_tap_on_an_all_clear_reason_ends_nothing(live, console):
    server, manager = live
    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    console.locator("#reasons button[data-reason=false_alarm]").scroll_into_view_if_needed()
    point = centre(console, "#reasons button[data-reason=false_alarm]")

    double_tap(console, point)

    console.wait_for_timeout(1500)
    assert incident(server, manager) is not None
    assert not covers(console, "#allclear-confirm", point)
    # What is still open is in sight before the all-clear can be confirmed.
    warning = console.inner_text("#allclear-warning")
    assert (
        "4 zones are not swept clear: Sisäänkäynti ja kassat / Ingång och kassor, Elintarvikkeet / Livsmedel"
        in warning
    )
    assert console.inner_text("#allclear-confirm") == "Give the all-clear: false alarm"

    console.tap("#allclear-confirm")

    console.wait_for_selector("#screen-console-start:not([hidden])", timeout=5_000)
    assert incident(server, manager) is None


def test_a_drill_ends_as_a_drill(live, console):
    server, manager = live
    server.post(f"{SITE}/incidents", manager, {"kind": "fire", "drill": True})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)

    shown = console.locator("#reasons button:visible").all_inner_texts()

    assert shown == ["Drill over"]
    console.tap("#reasons button[data-reason=drill_over]")
    assert console.inner_text("#allclear-confirm") == "End the drill"
