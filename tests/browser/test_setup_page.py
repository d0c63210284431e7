"""The site set-up page in Chromium: an admin adds a zone and a person and rewrites a public
notice; a mistake is named and changes nothing."""

from __future__ import annotations

import pytest
from helpers import enrolled_page


@pytest.fixture
def site(server_with):
    server, tokens = server_with({"admin": 1})
    return server, tokens["admin"][0]


@pytest.fixture
def setup_page(site, context):
    server, token = site
    admin_id = server.get("/api/me", token).json()["staff_id"]
    page = enrolled_page(context, server, admin_id, lang="en")
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.click("#setup-link")
    page.wait_for_selector("#setup:not([hidden])")
    return page


def setup_of(server, token) -> dict:
    return server.get("/api/sites/demo/setup", token).json()["config"]


def test_admin_adds_a_zone_and_a_person_and_rewrites_a_notice(site, setup_page):
    server, token = site
    page = setup_page
    page.click("#add-zone")
    new_zone = page.locator("#zones > fieldset").last
    new_zone.get_by_label("Short id").fill("cafe")
    new_zone.get_by_label("Name").fill("Café")
    new_zone.get_by_label("Exits").fill("Terrace door, Main door")
    new_zone.get_by_label("Assembly point").fill("Parking lot")
    page.click("#add-person")
    new_person = page.locator("#staff > fieldset").last
    new_person.get_by_label("Name").fill("Veera Virtanen")
    new_person.get_by_label("Role").select_option("guard")
    fire = page.locator("#notices fieldset", has_text="Fire")
    fire.get_by_label("English: text").fill("We are closed: the fire brigade is on its way.")
    page.click("button[type=submit]")
    page.wait_for_function(
        "() => document.getElementById('setup-result').textContent.startsWith('Saved')"
    )

    config = setup_of(server, token)
    cafe = next(zone for zone in config["zones"] if zone["id"] == "cafe")
    assert cafe["exits"] == ["Terrace door", "Main door"]
    assert {"name": "Veera Virtanen", "role": "guard"}.items() <= next(
        p for p in config["staff"] if p["name"] == "Veera Virtanen"
    ).items()
    # Only the changed wording is kept; the others still follow the defaults.
    own = config["notices"]["texts"]
    assert list(own) == ["en"] and list(own["en"]["closed"]) == ["fire"]
    assert own["en"]["closed"]["fire"]["body"] == "We are closed: the fire brigade is on its way."
    assert server.post("/api/sites/demo/incidents", token, {"kind": "fire"}).status_code == 201
    status = server.get("/status/demo.json", token).json()
    assert "the fire brigade is on its way" in status["notice"]["en"]["text"]


def test_a_mistake_is_named_and_nothing_changes(site, setup_page):
    server, token = site
    before = setup_of(server, token)
    page = setup_page
    page.click("#add-zone")
    new_zone = page.locator("#zones > fieldset").last
    new_zone.get_by_label("Short id").fill("Roof Top")
    new_zone.get_by_label("Name").fill("Roof")
    new_zone.get_by_label("Assembly point").fill("Yard")
    page.click("button[type=submit]")
    page.wait_for_function("() => document.getElementById('setup-result').textContent !== ''")
    assert "zones[4].id" in page.inner_text("#setup-result")
    assert setup_of(server, token) == before
