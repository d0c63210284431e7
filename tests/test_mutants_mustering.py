"""A marshal at the assembly point, through the HTTP API: what a mutation tester changed in
server/commands/mustering.py and no test noticed (issue 28)."""

from __future__ import annotations

import pytest

from server.commands import execute
from server.commands.site_config import read_site
from server.rules.auth import command_line

SITE = "/api/sites/demo"
INSIDE = f"{SITE}/incidents/current/reported-inside"


@pytest.fixture
def guard(api_as):
    return api_as("guard", name="Ville Vartija")


@pytest.fixture
def fire(api_as):
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})


def last_known_of(guard, staff_id: int) -> list[dict]:
    people = guard.get(f"{SITE}/incidents/current/unaccounted").get_json()["people"]
    return next(p["last_known"] for p in people if p.get("staff_id") == staff_id)


def test_a_person_seen_somewhere_else_is_reported_again_and_the_same_place_is_not(
    guard, fire, event_count
):
    answers = [
        guard.post(INSIDE, {"staff_id": 1, "location": place}).get_json()["changed"]
        for place in ("Roof", "Stockroom", "Basement")
    ]
    logged = event_count()
    again = guard.post(INSIDE, {"staff_id": 1, "location": "Basement"})

    assert answers == [True, True, True]
    assert again.get_json()["changed"] is False
    assert event_count() == logged
    assert last_known_of(guard, 1)[0]["where"] == "Basement"


def test_a_report_without_a_place_is_refused_and_not_logged(guard, fire, event_count):
    logged = event_count()

    answer = guard.post(INSIDE, {"staff_id": 1})

    assert answer.status_code == 400
    assert "'location' is required" in answer.get_json()["detail"]
    assert event_count() == logged


def test_a_point_with_the_longest_id_a_site_file_allows_takes_a_mark(services, guard, fire):
    """The site file lets an assembly point's id be 40 characters long (names.SLUG)."""
    longest = "p" * 40
    with services.store.reading() as db:
        config = read_site(db, "demo")
    config["assembly_points"].append({"id": longest, "name": "Far corner of the car park"})
    execute(services, command_line("demo"), "demo", "import_site", {"config": config})

    body = {"staff_id": 1, "assembly_point": longest}
    answer = guard.post(f"{SITE}/incidents/current/accounted", body)

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["accounted"]["assembly_point"] == longest
