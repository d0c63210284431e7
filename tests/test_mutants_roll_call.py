"""The roll call as a phone answers it: what a mutation tester changed in
server/commands/roll_call.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

from server.commands import execute
from server.commands.site_config import read_site
from server.rules.auth import command_line

SITE = "/api/sites/demo"


def test_got_it_after_the_phones_receipt_is_logged(api_as):
    manager, anna = api_as("duty_manager"), api_as("staff", name="Anna")
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]
    assert anna.post(f"{SITE}/incidents/current/delivered").get_json()["changed"] is True

    answer = anna.post(f"{SITE}/incidents/current/acknowledge")

    assert answer.get_json()["changed"] is True
    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()
    [row] = [person for person in report["roll_call"]["staff"] if person["name"] == "Anna"]
    assert row["acknowledged_at"] is not None


def test_a_point_with_the_longest_id_a_site_file_allows_takes_a_check_in(services, api_as):
    """The site file lets an assembly point's id be 40 characters long (names.SLUG)."""
    longest = "p" * 40
    with services.store.reading() as db:
        config = read_site(db, "demo")
    config["assembly_points"].append({"id": longest, "name": "Far corner of the car park"})
    execute(services, command_line("demo"), "demo", "import_site", {"config": config})
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})

    answer = api_as("staff").post(f"{SITE}/incidents/current/safe", {"assembly_point": longest})

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["accounted"]["assembly_point"] == longest


def test_a_check_in_at_a_point_one_character_past_the_longest_id_is_refused_as_too_long(
    api_as, event_count
):
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    staff = api_as("staff")
    logged = event_count()

    answer = staff.post(f"{SITE}/incidents/current/safe", {"assembly_point": "p" * 41})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'assembly_point' is longer than 40 characters."
    assert event_count() == logged
