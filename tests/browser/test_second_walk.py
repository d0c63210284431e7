"""Issue 23, the second walk: what a stressed shop worker and an untrained duty manager still
tripped on, on phone-sized touch screens in Finnish and Swedish. The console's roll call is one
model (every count and sentence true at the same moment)."""

from __future__ import annotations

import re

import pytest
from helpers import enrolled_page

MAIJA = 1  # the demo's duty manager
SITE = "/api/sites/demo"
WORDS = {
    "fi": {
        "alarm": "Hälytys perillä 3/3 puhelimessa",
        "waiting": "staff 0: hälytys ei vielä perillä",
        "has_alarm": "staff 0: sai hälytyksen",
        "not_tried": "ei vielä yritetty",
        "no_phone": "Hälytys on perillä kaikissa puhelimissa, mutta 5 henkilöllä ei ole puhelinta",
    },
    "sv": {
        "alarm": "Larmet har nått 3 av 3 telefoner",
        "waiting": "staff 0: larmet har inte kommit fram än",
        "has_alarm": "staff 0: har fått larmet",
        "not_tried": "inget försök ännu",
        "no_phone": "Larmet har nått alla telefoner, men 5 personer har ingen telefon",
    },
}


def shows(page, selector: str, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s).innerText.includes(t)",
        arg=[selector, text],
        timeout=timeout,
    )


@pytest.fixture
def site(server_with):
    """The demo site with a duty manager's token and a colleague's (each a phone)."""
    server, tokens = server_with({"duty_manager": 1, "staff": 1})
    return server, tokens["duty_manager"][0], tokens["staff"][0]


def console_of(new_phone, server, lang: str):
    page = enrolled_page(new_phone(), server, MAIJA, lang=lang)
    page.wait_for_function("() => document.getElementById('connection')?.className === 'ok'")
    return page


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_roll_call_and_unreached_card_say_the_same_at_the_same_moment(
    site, new_phone, connect, screenshots, lang
):
    server, manager, colleague = site
    words = WORDS[lang]
    console = console_of(new_phone, server, lang)
    manager_phone, colleague_phone = connect(server.url, manager), connect(server.url, colleague)
    server.post(f"{SITE}/incidents", manager, {"kind": "fire"})
    console.wait_for_selector("#screen-console:not([hidden])", timeout=5_000)
    shows(console, "#roll-people", words["waiting"])
    shows(console, "#unreached", "staff 0")

    colleague_phone.act("record_delivery")
    # The moment the roll call says he has the alarm, the card no longer lists him.
    seen = console.wait_for_function(
        """(text) => document.getElementById('roll-people').innerText.includes(text)
           && document.getElementById('unreached').innerText""",
        arg=words["has_alarm"],
        timeout=5_000,
    ).json_value()
    assert "staff 0" not in seen, seen

    manager_phone.act("acknowledge")
    shows(console, "#roll-summary", words["alarm"])
    # Every person in exactly one state: the state lines add up to everyone on the list.
    summary = console.inner_text("#roll-summary").splitlines()
    people = len(console.query_selector_all("#roll-people li"))
    counted = [int(re.search(r"\d+", line).group()) for line in summary[1:]]
    assert sum(counted) == people == 8, summary
    # No line says that nobody answered (or acknowledged) beside one that says everybody did.
    assert not any(
        line.startswith("0 ") and "turvassa" not in line and "säkerhet" not in line
        for line in summary[1:]
    ), summary
    # "On every phone" never hides the people who have none.
    assert words["no_phone"] in console.inner_text("#unreached")
    assert words["not_tried"] not in console.inner_text("#unreached")
    console.locator("#roll-heading").scroll_into_view_if_needed()
    console.screenshot(path=screenshots / f"roll-call-{lang}.png", full_page=True)
