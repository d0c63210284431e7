"""Help requests as a person asks for help getting out: what a mutation tester changed in
server/commands/help_requests.py and no test noticed (issue 28). The app in this process."""

from __future__ import annotations

SITE = "/api/sites/demo"


def test_a_help_request_without_a_place_is_refused_and_logs_nothing(api_as, event_count):
    staff = api_as("staff")
    api_as("duty_manager").post(f"{SITE}/incidents", {"kind": "fire"})
    logged = event_count()

    answer = staff.post(f"{SITE}/help-requests", {"note": "In a wheelchair"})

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == "'location' is required."
    assert event_count() == logged
