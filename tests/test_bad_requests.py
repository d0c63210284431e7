"""Every bad request gets a clear problem+json answer with a 4xx status and changes nothing."""

from __future__ import annotations

import pytest

SITE = "/api/sites/demo"


def assert_problem(answer, status: int, says: str) -> None:
    assert answer.status_code == status
    assert answer.content_type == "application/problem+json"
    problem = answer.get_json()
    assert {"type", "title", "status", "detail"} <= set(problem)
    assert problem["status"] == status
    assert says in problem["detail"]


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"kind": "party"}, "'kind' must be one of"),
        ({"kind": "fire", "drill": "yes"}, "'drill' must be true or false"),
        ({"kind": "fire", "eta": "tomorrow"}, "'eta' must be an ISO 8601 time"),
        ({"kind": "fire", "eta": "2026-01-01T10:00:00"}, "'eta' must be an ISO 8601 time"),
        ({"drill": True}, "'kind' is required"),
        ({"kind": "fire", "colour": "red"}, "Unknown field: colour"),
        ({"kind": "fire", "message": "x" * 501}, "longer than 500"),
        ([{"kind": "fire"}], "must be a JSON object"),
    ],
)
def test_bad_fields_are_refused_with_400(manager, event_count, body, says):
    before = event_count()
    assert_problem(manager.post(f"{SITE}/incidents", body), 400, says)
    assert event_count() == before


def test_malformed_json_is_refused_with_400(manager, event_count):
    before = event_count()
    assert_problem(manager.post(f"{SITE}/incidents", raw="{kind: fire"), 400, "not valid JSON")
    assert event_count() == before


def test_unknown_site_is_404(manager, event_count):
    before = event_count()
    assert_problem(manager.post("/api/sites/nowhere/incidents", {"kind": "fire"}), 404, "nowhere")
    assert_problem(manager.get("/api/sites/nowhere/state"), 404, "nowhere")
    assert event_count() == before


def test_unknown_zone_is_404(api_as, manager, event_count):
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    staff = api_as("staff")
    before = event_count()
    assert_problem(staff.post(f"{SITE}/zones/roof/clear"), 404, "roof")

    assert event_count() == before


def test_member_of_another_site_is_403(other_site_manager, event_count):
    before = event_count()
    answer = other_site_manager.post(f"{SITE}/incidents", {"kind": "fire"})
    assert_problem(answer, 403, "not a member of site 'demo'")
    assert_problem(other_site_manager.get(f"{SITE}/state"), 403, "not a member")
    assert event_count() == before


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "Sign in"),
        ({"Authorization": "Bearer not-a-token"}, "not valid"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer"),
    ],
)
def test_missing_or_bad_credentials_are_401(client, demo_links, event_count, headers, says):
    before = event_count()
    assert_problem(
        client.post(f"{SITE}/incidents", json={"kind": "fire"}, headers=headers), 401, says
    )
    assert event_count() == before


def test_unknown_api_route_is_a_json_404(manager):
    answer = manager.get("/api/no/such/thing")
    assert answer.status_code == 404
    assert answer.content_type == "application/problem+json"


def test_wrong_method_is_a_json_405(manager):
    answer = manager.client.delete(f"{SITE}/incidents", headers=manager.headers)
    assert answer.status_code == 405

    assert answer.content_type == "application/problem+json"


def test_too_long_idempotency_key_is_refused(manager, event_count):
    before = event_count()
    answer = manager.post(f"{SITE}/incidents", {"kind": "fire"}, key="k" * 201)
    assert_problem(answer, 400, "Idempotency-Key")
    assert event_count() == before
