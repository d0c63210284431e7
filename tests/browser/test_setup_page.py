"""The site set-up page in Chromium: an admin adds a zone and a person and rewrites a public
notice, each section saved on its own; a mistake is named beside its field, in the admin's
language, and changes nothing. The admin page names roles in plain words and who has a phone."""

from __future__ import annotations

import re

import pytest

from harness import CUT_OFF, enrolled_page, larger_text


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


def saved(page, section: str, words: str) -> None:
    """Save one section and wait for its answer to say `words`."""
    page.click(f"form[data-section={section}] button[type=submit]")
    page.wait_for_function(
        """([section, words]) => document.querySelector(
             `form[data-section=${section}] .result`).textContent.startsWith(words)""",
        arg=[section, words],
    )


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
    new_zone.get_by_label("Assembly point").select_option("lamp-post-b")
    page.click("#add-person")
    new_person = page.locator("#staff > fieldset").last
    new_person.get_by_label("Name").fill("Veera Virtanen")
    new_person.get_by_label("Role").select_option("guard")
    fire = page.locator("#notices fieldset", has_text="Fire")
    fire.get_by_label("English: text").fill("We are closed: the fire brigade is on its way.")
    for section in ("zones", "staff", "notices"):
        saved(page, section, "Saved")
    config = setup_of(server, token)
    cafe = next(zone for zone in config["zones"] if zone["id"] == "cafe")
    assert cafe["exits"] == ["Terrace door", "Main door"]
    assert cafe["assembly_point"] == "lamp-post-b"  # a declared place, chosen by its name
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


def test_a_mistake_is_named_beside_its_field_in_finnish_and_nothing_changes(site, context):
    server, token = site
    before = setup_of(server, token)
    admin_id = server.get("/api/me", token).json()["staff_id"]
    page = enrolled_page(context, server, admin_id, lang="fi")
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.goto(f"{server.url}/setup")
    page.wait_for_selector("#setup:not([hidden])")
    page.click("#add-zone")
    new_zone = page.locator("#zones > fieldset").last
    new_zone.get_by_label("Lyhyt tunnus").fill("Roof Top")
    new_zone.get_by_label("Nimi").fill("Katto")
    new_zone.get_by_label("Kokoontumispaikka").select_option("lamp-post-b")
    page.click("form[data-section=zones] button[type=submit]")

    error = new_zone.locator(".field-error")
    error.wait_for()
    assert error.inner_text().startswith("Tunnuksessa saa olla vain pieniä kirjaimia a–z")
    described = new_zone.get_by_label("Lyhyt tunnus").get_attribute("aria-describedby")
    assert page.locator(f"#{described}").inner_text() == error.inner_text()
    result = page.inner_text("form[data-section=zones] .result")
    assert result == "Ei tallennettu: korjaa merkityt kohdat."
    assert "zones[4]" not in page.inner_text("body")  # no developer's words
    assert setup_of(server, token) == before


def test_one_section_saves_alone_and_the_others_keep_what_was_typed(site, setup_page):
    server, token = site
    page = setup_page
    page.get_by_label("Name").first.fill("Demo shop, renamed")
    page.click("#add-zone")
    new_zone = page.locator("#zones > fieldset").last
    new_zone.get_by_label("Short id").fill("cafe")

    saved(page, "site", "Saved")

    config = setup_of(server, token)
    assert config["name"] == "Demo shop, renamed"
    assert [zone["id"] for zone in config["zones"]] == [
        "entrance",
        "grocery",
        "clothing",
        "stockroom",
    ]
    assert page.locator("#zones > fieldset").last.get_by_label("Short id").input_value() == "cafe"


def test_the_help_line_shows_its_placeholders_as_written(setup_page):
    help_line = setup_page.inner_text("#notices > p")
    assert "{site}" in help_line and "{when}" in help_line and "{eta_when}" in help_line


def test_the_admin_page_names_roles_in_finnish_and_who_has_a_phone(site, context, screenshots):
    server, token = site
    admin_id = server.get("/api/me", token).json()["staff_id"]
    page = enrolled_page(context, server, admin_id, lang="fi")
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.goto(f"{server.url}/admin")
    maija = page.locator("li.person", has_text="Maija Manager")
    maija.wait_for()
    assert maija.locator(".role").inner_text() == "Vuoropäällikkö"
    assert "duty_manager" not in page.inner_text("body")
    assert maija.locator(".phone").inner_text() == "Ei vielä puhelinta."
    me = page.locator("li.person", has_text="admin 0")
    assert me.locator(".phone").inner_text().startswith("Puhelin on otettu käyttöön.")

    maija.get_by_role("button").click()
    until = maija.locator("p", has_text="Koodi toimii kerran")
    until.wait_for()
    # Three days ahead (EXITNOW_ENROLLMENT_TTL_HOURS): a date, in Finnish, and a time "10.00".
    assert re.fullmatch(
        r"Koodi toimii kerran, \d{1,2}\. \w+ta klo \d\d\.\d\d asti\.", until.inner_text()
    )
    assert "T" not in until.inner_text().replace("Koodi toimii", "")  # no ISO timestamp
    page.screenshot(path=screenshots / "admin-page-fi.png", full_page=True)


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_at_200_percent_text_on_a_phone_no_control_of_the_setup_page_is_cut_off(
    site, new_phone, screenshots, lang
):
    server, token = site
    admin_id = server.get("/api/me", token).json()["staff_id"]
    page = enrolled_page(new_phone(), server, admin_id, lang=lang)
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.goto(f"{server.url}/setup")
    page.wait_for_selector("#setup:not([hidden])")
    larger_text(page, 200)
    problems = page.evaluate(CUT_OFF)
    assert problems == [], "\n".join(problems)
    page.screenshot(path=screenshots / f"setup-page-{lang}-200.png")


def test_admin_adds_an_assembly_point_for_a_zone_and_makes_a_marshal(site, setup_page):
    server, token = site
    page = setup_page
    page.click("#add-point")
    point = page.locator("#points > fieldset").last
    point.get_by_label("Short id").fill("kiosk")
    point.get_by_label("Name").fill("Kiosk corner")
    point.get_by_label("Where").fill("Across the street")
    saved(page, "points", "Saved")
    sign = page.locator("#points > fieldset", has_text="Kiosk corner").get_by_role("link")
    assert sign.get_attribute("href") == "/sites/demo/assembly-points/kiosk/sign"
    page.locator("#zones > fieldset", has_text="Elintarvikkeet").get_by_label(
        "Assembly point"
    ).select_option("kiosk")
    saved(page, "zones", "Saved")
    sara = page.locator("#staff > fieldset", has_text="Sara Smith")
    sara.get_by_label("Marshal").check()
    saved(page, "staff", "Saved")

    config = setup_of(server, token)
    assert config["assembly_points"][-1] == {
        "id": "kiosk",
        "name": "Kiosk corner",
        "where": "Across the street",
    }
    assert next(z for z in config["zones"] if z["id"] == "grocery")["assembly_point"] == "kiosk"
    marshals = sorted(p["name"] for p in config["staff"] if p.get("marshal"))
    assert marshals == ["Pekka Virtanen", "Sara Smith"]
    assert (
        page.locator("#staff > fieldset", has_text="Sara Smith")
        .get_by_label("Marshal")
        .is_checked()
    )
