"""The customer-service mailboxes on the set-up page in Chromium: an admin lists, adds and
removes them (a provider and an address each), saved with the public channels; a mistake is
named beside its field in the admin's language, and nothing changes."""

from __future__ import annotations

import pytest

from harness import enrolled_page


@pytest.fixture
def site(server_with):
    server, tokens = server_with({"admin": 1})
    return server, tokens["admin"][0]


def setup_page(context, server, token, lang: str):
    admin_id = server.get("/api/me", token).json()["staff_id"]
    page = enrolled_page(context, server, admin_id, lang=lang)
    page.wait_for_selector("#screen-console-start:not([hidden])")
    page.goto(f"{server.url}/setup")
    page.wait_for_selector("#setup:not([hidden])")
    return page


def mailboxes(server, token) -> list:
    return server.get("/api/sites/demo/setup", token).json()["config"]["notices"].get("email")


def save_channels(page, words: str) -> None:
    page.click("form[data-section=channels] button[type=submit]")
    page.wait_for_function(
        "words => document.querySelector('form[data-section=channels] .result')"
        ".textContent.startsWith(words)",
        arg=words,
    )


def add(page, provider: str, address: str) -> None:
    page.click("#add-mailbox")
    mailbox = page.locator("#mailboxes > fieldset").last
    mailbox.locator("select").select_option(provider)
    mailbox.locator("input[type=email]").fill(address)


def test_an_admin_adds_lists_and_removes_mailboxes(site, context):
    server, token = site
    page = setup_page(context, server, token, "en")
    assert page.locator("#mailboxes > fieldset").count() == 0

    add(page, "gmail", "service@shop.example")
    add(page, "microsoft365", "sales@shop.example")
    save_channels(page, "Saved")

    assert mailboxes(server, token) == [
        {"provider": "gmail", "mailbox": "service@shop.example"},
        {"provider": "microsoft365", "mailbox": "sales@shop.example"},
    ]
    page.reload()
    page.wait_for_selector("#setup:not([hidden])")
    listed = page.locator("#mailboxes > fieldset")
    assert listed.count() == 2
    assert listed.first.get_by_label("Provider").input_value() == "gmail"
    assert listed.first.get_by_label("Email address").input_value() == "service@shop.example"
    assert "Gmail (Google Workspace)" in listed.first.get_by_label("Provider").inner_text()

    listed.first.get_by_role("button", name="Remove").click()
    save_channels(page, "Saved")

    assert mailboxes(server, token) == [
        {"provider": "microsoft365", "mailbox": "sales@shop.example"}
    ]


def test_a_mistaken_address_is_named_beside_it_in_swedish_and_nothing_changes(site, context):
    server, token = site
    page = setup_page(context, server, token, "sv")
    add(page, "sieve", "kundtjanst@butik")  # no domain ending

    save_channels(page, "Inte sparat")

    mailbox = page.locator("#mailboxes > fieldset").last
    error = mailbox.locator(".field-error")
    assert error.inner_text().startswith("Skriv en e-postadress, till exempel kundtjanst@butik.se")
    address = mailbox.get_by_label("E-postadress")
    assert address.get_attribute("aria-invalid") == "true"
    assert page.locator(f"#{address.get_attribute('aria-describedby')}").inner_text() == (
        error.inner_text()
    )
    assert "notices.email" not in page.inner_text("body")  # no developer's words
    assert not mailboxes(server, token)
