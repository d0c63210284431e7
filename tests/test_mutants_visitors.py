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
