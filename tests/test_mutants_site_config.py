"""A site's set-up as one file, imported by the CLI or the admin's set-up page: what a mutation
tester changed in the site file's checks, lines and export and no test noticed (issue 28)."""

from __future__ import annotations

import pytest
from test_site_config import SHOP, events_in

from harness import flask_cli

SETUP = "/api/sites/demo/setup"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        # A tab where YAML wants spaces: the line the admin's editor shows the tab on.
        (("    role: staff\n", "\trole: staff\n"), "line 20: (file): not valid YAML or JSON"),
        (("role: duty_manager", "role: duty_manager: x"), "line 16: (file): not valid YAML"),
        # A field left out: the line of the person it is missing from, not of `staff:`.
        (("    role: staff\n", ""), "line 19: staff[1].role: one of:"),
    ],
)
def test_a_file_with_a_mistake_names_the_line_the_mistake_is_on(settings, tmp_path, change, said):
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP.replace(*change))

    result = flask_cli(settings.db_path, "site-import", str(source))

    assert result.returncode != 0
    assert f"shop-42.yaml: {said}" in result.stderr
    assert events_in(settings) == 0


def test_an_exported_file_spells_names_in_their_own_letters(settings, tmp_path):
    """An export goes into version control and is edited by hand: "Myymälä", not "Myym\\xE4l\\xE4"."""
    source = tmp_path / "shop-42.yaml"
    source.write_text(SHOP.replace("Sales floor", "Myymälä").replace("Juha", "Åsa"))
    assert flask_cli(settings.db_path, "site-import", str(source)).returncode == 0

    exported = flask_cli(settings.db_path, "site-export", "shop-42").stdout

    assert "name: Myymälä" in exported and "name: Åsa" in exported
    assert "\\x" not in exported and "\\u" not in exported


def test_notices_that_show_open_again_for_no_minutes_are_accepted(api_as):
    """restored_minutes 0: straight back to plain "open" after the all-clear (the API's schema
    documents 0 as its minimum)."""
    admin = api_as("admin")
    config = admin.get(SETUP).get_json()["config"]
    config["notices"]["restored_minutes"] = 0

    assert admin.post(SETUP, {"config": config}).status_code == 200
    assert admin.get(SETUP).get_json()["config"]["notices"]["restored_minutes"] == 0


SIEVE = {"provider": "sieve", "mailbox": "service@shop.example"}


def test_a_sieve_mailbox_with_its_login_name_is_accepted(api_as):
    admin = api_as("admin")
    config = admin.get(SETUP).get_json()["config"]
    config["notices"]["email"] = [{**SIEVE, "user": "exitnow"}]

    assert admin.post(SETUP, {"config": config}).status_code == 200
    saved = admin.get(SETUP).get_json()["config"]["notices"]["email"]
    assert saved == [{**SIEVE, "user": "exitnow"}]


@pytest.mark.parametrize(
    "user", ["   ", "u" * 321, 5, ["exitnow"]], ids=["blank", "too-long", "number", "list"]
)
def test_a_sieve_login_name_that_is_not_a_name_is_refused(api_as, event_count, user):
    admin = api_as("admin")
    config = admin.get(SETUP).get_json()["config"]
    config["notices"]["email"] = [{**SIEVE, "user": user}]
    before = event_count()

    refused = admin.post(SETUP, {"config": config})

    assert refused.status_code == 400
    assert {
        "field": "notices.email[0].user",
        "detail": "the ManageSieve login name, for sieve only",
    } in refused.get_json()["problems"]
    assert event_count() == before


@pytest.mark.parametrize(
    ("kinds", "problem"),
    [
        ({"flood": {"title": "Flood", "lines": ["Go up."]}}, "one of: fire, evacuation"),
        ({"fire": {"title": "Fire!"}}, "a mapping with a title and a list of lines"),
        ({"fire": {"title": "Fire!", "lines": "Leave now."}}, "a mapping with a title"),
    ],
)
def test_a_script_staff_could_not_be_shown_is_refused(api_as, event_count, kinds, problem):
    admin = api_as("admin")
    config = admin.get(SETUP).get_json()["config"]
    config["scripts"] = {"en": kinds}
    before = event_count()

    refused = admin.post(SETUP, {"config": config})

    assert refused.status_code == 400
    [named] = refused.get_json()["problems"]
    assert named["field"] == f"scripts.en.{next(iter(kinds))}"
    assert named["detail"].startswith(problem)
    assert event_count() == before
    assert admin.get(SETUP).get_json()["config"]["scripts"] != {"en": kinds}
