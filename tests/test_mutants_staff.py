"""Adding a site's staff, the people a token brings onto the roll, and a person's own language:
what a mutation tester changed in server/commands/staff.py and no test noticed (issue 28). The
app in this process; `add_staff` has no route, so its command line runs it in it."""

from __future__ import annotations

import pytest

from server.basics.errors import Invalid
from server.commands import execute
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def add_staff(services, **params) -> dict:
    """`add_staff` as the site's command line (an admin of the site) runs it."""
    return execute(services, command_line("demo"), "demo", "add_staff", params)


def on_the_setup(api_as, name: str) -> dict:
    """The person as the admin's set-up page lists them (the staff on the roll)."""
    staff = api_as("admin").get(f"{SITE}/setup").get_json()["config"]["staff"]
    return next(person for person in staff if person["name"] == name)


def on_the_roll(api_as) -> list[str]:
    """The names a duty manager sees on the site's roll call."""
    state = api_as("duty_manager").get(f"{SITE}/state").get_json()
    return [person["name"] for person in state["roll_call"]["staff"]]


# --- an admin adds a staff member -----------------------------------------------------------


def test_a_staff_member_added_with_only_name_and_role_is_on_the_roll_no_marshal_in_finnish(
    services, demo_links, api_as
):
    add_staff(services, name="Nea Nieminen", role="staff")

    assert on_the_setup(api_as, "Nea Nieminen") == {
        "name": "Nea Nieminen",
        "role": "staff",
        "home_zone": None,
        "language": "fi",  # the site's default language
    }  # and no "marshal": she may not account for people at an assembly point
    assert "Nea Nieminen" in on_the_roll(api_as)


def test_a_staff_member_added_as_a_marshal_in_swedish_is_one_in_their_zone(
    services, demo_links, api_as
):
    add_staff(
        services,
        name="Nils Nyström",
        role="staff",
        home_zone="grocery",
        language="sv",
        marshal=True,
    )

    assert on_the_setup(api_as, "Nils Nyström") == {
        "name": "Nils Nyström",
        "role": "staff",
        "home_zone": "grocery",
        "language": "sv",
        "marshal": True,
    }


@pytest.mark.parametrize("missing", ["name", "role"])
def test_a_staff_member_without_a_name_or_a_role_is_refused_and_nothing_logged(
    services, demo_links, event_count, missing
):
    params = {"name": "Nea Nieminen", "role": "staff"}
    del params[missing]
    before = event_count()

    with pytest.raises(Invalid) as refused:
        add_staff(services, **params)

    assert refused.value.status == 400
    assert refused.value.detail == f"'{missing}' is required."
    assert refused.value.extra == {"field": missing}
    assert event_count() == before


def test_a_staff_members_name_may_be_100_characters_and_no_more(
    services, demo_links, api_as, event_count
):
    longest = "N" * 100
    add_staff(services, name=longest, role="staff")
    assert on_the_setup(api_as, longest)["role"] == "staff"
    before = event_count()

    with pytest.raises(Invalid) as refused:
        add_staff(services, name="N" * 101, role="staff")

    assert refused.value.status == 400
    assert refused.value.detail == "'name' is longer than 100 characters."
    assert refused.value.extra == {"field": "name"}
    assert event_count() == before


def test_a_home_zone_may_be_40_characters_and_no_more(services, demo_links, api_as, event_count):
    """A zone's id is at most 40 characters (add_zone), so a home zone of 41 is refused for
    its length, not looked for."""
    zone = "z" * 40
    execute(
        services,
        command_line("demo"),
        "demo",
        "add_zone",
        {"id": zone, "name": "Long corridor", "assembly_point": "lamp-post-a"},
    )
    add_staff(services, name="Nea Nieminen", role="staff", home_zone=zone)
    assert on_the_setup(api_as, "Nea Nieminen")["home_zone"] == zone
    before = event_count()

    with pytest.raises(Invalid) as refused:
        add_staff(services, name="Niko Nieminen", role="staff", home_zone="z" * 41)

    assert refused.value.status == 400
    assert refused.value.detail == "'home_zone' is longer than 40 characters."
    assert refused.value.extra == {"field": "home_zone"}
    assert event_count() == before


# --- the people a token brings onto the site --------------------------------------------------


def test_a_token_for_a_new_admin_adds_no_one_to_the_roll_and_for_new_staff_does(api_as):
    api_as("admin", name="Integration Aaro")
    api_as("staff", name="Anna Anttila")

    roll = on_the_roll(api_as)

    assert "Anna Anttila" in roll
    assert "Integration Aaro" not in roll


# --- a person sets their own language ---------------------------------------------------------


def test_a_person_setting_their_language_without_one_is_refused_and_nothing_logged(
    api_as, event_count
):
    erik = api_as("staff", name="Erik")
    before = event_count()

    answer = erik.post("/api/me/language", {})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'language' is required."
    assert event_count() == before
    assert erik.get("/api/me").get_json()["language"] == "fi"
