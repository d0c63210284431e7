"""Visitors as the reception signs them in: what a mutation tester changed in
server/commands/visitors.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

SITE = "/api/sites/demo"


def test_a_visitor_signed_in_at_the_desk_is_not_said_to_have_signed_in_themself(api_as):
    guard, manager = api_as("guard"), api_as("duty_manager")
    guard.post(f"{SITE}/visitors", {"name": "Lars Lift", "company": "Lift Oy"})
    incident_id = manager.post(f"{SITE}/incidents", {"kind": "fire"}).get_json()["id"]

    report = manager.get(f"{SITE}/incidents/{incident_id}/report.json").get_json()

    [visitor] = report["roll_call"]["visitors"]
    assert visitor["name"] == "Lars Lift" and not visitor["self_signed"]


def test_a_visitor_gone_before_the_alarm_saying_they_are_out_is_not_logged(
    api_as, client, event_count
):
    signed_in = client.post(f"{SITE}/visitors/self", json={"name": "Olga Walk-in"}).get_json()
    client.post(f"{SITE}/visitors/self/leave", json={"token": signed_in["token"]})
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    logged = event_count()

    answer = client.post(f"{SITE}/visitors/self/safe", json={"token": signed_in["token"]})

    assert answer.status_code == 200 and answer.get_json()["changed"] is False
    assert event_count() == logged  # not on this alarm's roll: nothing to account for
