"""Issue 25: a person is told, in their language, what is kept about them, why, for how long
and by whom, before their phone is enrolled (the site file's `privacy`)."""

from __future__ import annotations

import pytest

SITE = "/api/sites/demo"
AINO, ERIK = 2, 3  # the demo's staff: Finnish, Swedish
CONTROLLER = "Kauppa Oy, tietosuoja@kauppa.example"
NOTICE = "https://kauppa.example/privacy"
WORDS = {
    AINO: ("Tietojesi rekisterinpitäjä: " + CONTROLLER, "poistetaan 200 päivän kuluttua"),
    ERIK: ("Personuppgiftsansvarig: " + CONTROLLER, "raderas 200 dagar efter larmet"),
}


@pytest.mark.parametrize("person", [AINO, ERIK])
def test_the_enrollment_page_tells_the_person_about_their_data_in_their_language(
    server_with, new_phone, person
):
    server, tokens = server_with({"admin": 1})
    admin = tokens["admin"][0]
    config = server.get(f"{SITE}/setup", admin).json()["config"]
    config["privacy"] = {"controller": CONTROLLER, "notice_url": NOTICE, "incidents_days": 200}
    assert server.post(f"{SITE}/setup", admin, {"config": config}).status_code == 200
    link = server.post(f"{SITE}/staff/{person}/enrollment-links", admin).json()

    page = new_phone().new_page()
    page.goto(f"{server.url}{link['path']}")
    page.wait_for_selector("#privacy:not([hidden])")

    text = page.inner_text("#privacy")
    controller, retention = WORDS[person]
    assert controller in text and retention in text
    assert page.get_attribute("#privacy-link", "href") == NOTICE
    assert page.is_visible("#privacy-link")


VISITOR_WORDS = {
    "fi": ("Tietojesi rekisterinpitäjä: " + CONTROLLER, "poistetaan 14 päivän kuluttua"),
    "sv": ("Personuppgiftsansvarig: " + CONTROLLER, "raderas 14 dagar efter att du skrivit ut dig"),
}


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_visitor_page_tells_a_visitor_about_their_data_in_their_language(
    server_with, new_phone, lang
):
    server, tokens = server_with({"admin": 1})
    admin = tokens["admin"][0]
    config = server.get(f"{SITE}/setup", admin).json()["config"]
    config["privacy"] = {"controller": CONTROLLER, "notice_url": NOTICE, "visitors_days": 14}
    assert server.post(f"{SITE}/setup", admin, {"config": config}).status_code == 200

    page = new_phone().new_page()
    page.goto(f"{server.url}/visit/demo?lang={lang}")
    page.wait_for_selector("#visit-privacy-more:not([hidden])")

    text = page.inner_text("#visit-privacy")
    controller, retention = VISITOR_WORDS[lang]
    assert controller in text and retention in text
    assert page.get_attribute("#visit-privacy-link", "href") == NOTICE
