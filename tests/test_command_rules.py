"""The rules of every command, through the HTTP API: who may do what, when, and what a repeat
or a second press does."""

from __future__ import annotations

import pytest

from harness import Api

SITE = "/api/sites/demo"


@pytest.fixture
def manager(api_as):
    return api_as("duty_manager")


@pytest.fixture
def started(manager):
    return manager.post(f"{SITE}/incidents", {"kind": "fire", "message": "Alarm in the bakery"})


def state_of(api) -> dict:
    return api.get(f"{SITE}/state").get_json()


def me_in_roll_call(api, name: str) -> dict:
    return next(p for p in state_of(api)["roll_call"]["staff"] if p["name"] == name)


def test_start_answers_201_with_the_incident(started):
    assert started.status_code == 201
    incident = started.get_json()
    assert {"id", "kind", "drill", "started_at", "seq"} <= set(incident)
    assert incident["kind"] == "fire" and incident["drill"] is False
    assert incident["started_at"].endswith("Z")


def test_state_shows_the_active_incident_and_every_zone_unchecked(manager, started):
    state = state_of(manager)
    assert state["incident"]["id"] == started.get_json()["id"]
    assert state["seq"] >= started.get_json()["seq"]
    assert {zone["sweep"] for zone in state["zones"]} == {"unchecked"}


def test_second_incident_is_refused_with_409(manager, started, event_count):
    before = event_count()
    second = manager.post(f"{SITE}/incidents", {"kind": "threat"})
    assert second.status_code == 409
    assert "already active" in second.get_json()["detail"]
    assert event_count() == before


def test_all_clear_without_an_incident_is_refused_with_409(manager):
    answer = manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    assert answer.status_code == 409


def test_all_clear_ends_the_incident_with_its_reason(manager, started):
    answer = manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "false_alarm"})
    assert answer.status_code == 200
    assert answer.get_json()["end_reason"] == "false_alarm"
    assert state_of(manager)["incident"] is None


@pytest.fixture
def outsider(client, make_token, request):
    """Someone who may not start or end the demo site's incident, by request.param."""
    if request.param == "other site's duty manager":
        return request.getfixturevalue("other_site_manager")
    return Api(client, make_token(request.param) if request.param != "anonymous" else None)


@pytest.mark.parametrize(
    ("outsider", "status"),
    [("staff", 403), ("guard", 403), ("other site's duty manager", 403), ("anonymous", 401)],
    indirect=["outsider"],
)
def test_only_the_sites_managers_start_or_end_an_incident(manager, outsider, status, event_count):
    before = event_count()
    assert outsider.post(f"{SITE}/incidents", {"kind": "fire"}).status_code == status
    assert event_count() == before
    manager.post(f"{SITE}/incidents", {"kind": "fire"})
    after_start = event_count()
    ending = outsider.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    assert ending.status_code == status
    assert event_count() == after_start > before
    assert state_of(manager)["incident"] is not None


def test_admin_may_start_an_incident(api_as):
    assert api_as("admin").post(f"{SITE}/incidents", {"kind": "shelter"}).status_code == 201


@pytest.mark.parametrize(
    ("path", "column"),
    [("delivered", "delivered_at"), ("acknowledge", "acknowledged_at"), ("safe", "safe_at")],
)
def test_roll_call_marks_and_a_repeat_is_not_logged_again(
    api_as, started, event_count, path, column
):
    anna = api_as("staff", name="Anna")
    first = anna.post(f"{SITE}/incidents/current/{path}")
    after_first = event_count()
    again = anna.post(f"{SITE}/incidents/current/{path}")

    assert first.get_json()["changed"] is True
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert event_count() == after_first
    assert me_in_roll_call(anna, "Anna")[column] is not None


def test_safe_implies_the_alarm_arrived_and_was_acknowledged(api_as, started):
    anna = api_as("staff", name="Anna")
    anna.post(f"{SITE}/incidents/current/safe")
    person = me_in_roll_call(anna, "Anna")
    assert person["delivered_at"] and person["acknowledged_at"] and person["safe_at"]


def test_roll_call_needs_an_active_incident(api_as):
    assert api_as("staff").post(f"{SITE}/incidents/current/acknowledge").status_code == 409


def test_zone_claimed_by_someone_else_is_refused_with_409(api_as, started):
    anna, ben = api_as("staff", name="Anna"), api_as("staff", name="Ben")
    assert anna.post(f"{SITE}/zones/grocery/claim").get_json()["sweep"] == "claimed"
    refused = ben.post(f"{SITE}/zones/grocery/claim")
    assert refused.status_code == 409
    assert "Anna" in refused.get_json()["detail"]
    assert anna.post(f"{SITE}/zones/grocery/claim").get_json()["changed"] is False


def test_zone_clear_shows_in_the_state_with_who(api_as, started):
    ben = api_as("staff", name="Ben")
    ben.post(f"{SITE}/zones/clothing/clear")
    zone = next(z for z in state_of(ben)["zones"] if z["id"] == "clothing")
    assert zone["sweep"] == "clear" and zone["by_name"] == "Ben" and zone["updated_at"]
    assert ben.post(f"{SITE}/zones/clothing/claim").status_code == 409  # already clear


def test_a_zone_asked_of_someone_counts_only_once_they_accept(
    api_as, manager, started, event_count
):
    anna = api_as("staff", name="Anna")
    anna_id = me_in_roll_call(manager, "Anna")["staff_id"]
    answer = manager.post(f"{SITE}/zones/stockroom/assign", {"staff_id": anna_id})
    assert answer.status_code == 200 and answer.get_json()["sweep"] == "unchecked"
    zone = next(z for z in state_of(anna)["zones"] if z["id"] == "stockroom")
    assert zone["sweep"] == "unchecked" and zone["asked"] == anna_id
    assert zone["asked_name"] == "Anna"
    before = event_count()
    assert (
        manager.post(f"{SITE}/zones/stockroom/assign", {"staff_id": anna_id}).get_json()["changed"]
        is False
    )
    assert event_count() == before

    assert anna.post(f"{SITE}/zones/stockroom/claim").get_json()["sweep"] == "claimed"
    zone = next(z for z in state_of(manager)["zones"] if z["id"] == "stockroom")
    assert zone["sweep"] == "claimed" and zone["by_name"] == "Anna" and zone["asked"] is None


def test_a_zone_declined_is_free_again_with_who_declined(api_as, manager, started, event_count):
    anna, ben = api_as("staff", name="Anna"), api_as("staff", name="Ben")
    anna_id = me_in_roll_call(manager, "Anna")["staff_id"]
    manager.post(f"{SITE}/zones/stockroom/assign", {"staff_id": anna_id})
    before = event_count()
    assert ben.post(f"{SITE}/zones/stockroom/decline").status_code == 409  # not asked of Ben
    assert event_count() == before

    assert anna.post(f"{SITE}/zones/stockroom/decline").status_code == 200
    zone = next(z for z in state_of(manager)["zones"] if z["id"] == "stockroom")
    assert zone["sweep"] == "unchecked" and zone["asked"] is None
    assert zone["declined_name"] == "Anna"
    assert anna.post(f"{SITE}/zones/stockroom/decline").status_code == 409  # asked no more


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        ("staff", {"staff_id": 1}, 403),
        ("duty_manager", {"staff_id": 9999}, 404),
        ("duty_manager", {}, 400),
    ],
)
def test_assigning_a_zone_is_refused(api_as, started, event_count, who, body, status):
    person = api_as(who)
    before = event_count()
    assert person.post(f"{SITE}/zones/stockroom/assign", body).status_code == status
    assert event_count() == before


def test_a_zone_swept_clear_is_not_assigned_again(api_as, manager, started):
    ben = api_as("staff", name="Ben")
    ben.post(f"{SITE}/zones/clothing/clear")
    ben_id = me_in_roll_call(manager, "Ben")["staff_id"]
    assert manager.post(f"{SITE}/zones/clothing/assign", {"staff_id": ben_id}).status_code == 409


def test_blocked_zone_keeps_its_note(api_as, started):
    anna = api_as("staff", name="Anna")
    anna.post(f"{SITE}/zones/stockroom/block", {"note": "smoke in the corridor"})
    zone = next(z for z in state_of(anna)["zones"] if z["id"] == "stockroom")
    assert zone["sweep"] == "blocked" and zone["note"] == "smoke in the corridor"


def test_help_request_is_raised_and_resolved(api_as, started):
    anna, guard = api_as("staff", name="Anna"), api_as("guard", name="Gus")
    raised = anna.post(
        f"{SITE}/help-requests", {"location": "Fitting room 2", "note": "wheelchair"}
    )
    assert raised.status_code == 201
    help_id = raised.get_json()["help_request"]["id"]
    assert [h["location"] for h in state_of(anna)["help_requests"]] == ["Fitting room 2"]

    resolved = guard.post(f"{SITE}/help-requests/{help_id}/resolve")

    assert resolved.get_json()["help_request"]["resolved_at"]
    assert state_of(anna)["help_requests"] == []
    assert guard.post(f"{SITE}/help-requests/{help_id}/resolve").get_json()["changed"] is False
    assert guard.post(f"{SITE}/help-requests/999/resolve").status_code == 404


def test_backup_request_works_without_an_incident(api_as):
    cashier = api_as("staff", name="Cashier")
    asked = cashier.post(f"{SITE}/backup-requests", {"location": "Till 3"})
    assert asked.status_code == 201
    again = cashier.post(f"{SITE}/backup-requests", {"location": "Till 3"})
    assert again.get_json()["changed"] is False  # a second press while help is on its way
    assert again.get_json()["backup_request"]["id"] == asked.get_json()["backup_request"]["id"]


def events_of(items: list[dict], type_: str) -> list[dict]:
    return [item for item in items if item["type"] == type_]


def test_backup_requests_are_seen_by_responders_only(api_as):
    cashier, guard = api_as("staff", name="Cashier"), api_as("guard", name="Gus")
    cashier.post(f"{SITE}/backup-requests", {"location": "Till 3"})
    assert "backup_requests" not in state_of(cashier)
    assert [b["location"] for b in state_of(guard)["backup_requests"]] == ["Till 3"]
    answer = cashier.get(f"{SITE}/events?after=0&limit=1000").get_json()
    # The cashier learns the numbers (a redacted range ending at the request), not the events.
    assert events_of(answer["events"], "backup.requested") == []
    assert answer["events"][-1]["type"] == "redacted"
    assert answer["events"][-1]["last_seq"] == answer["seq"]
    guard_sees = guard.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    assert [e["payload"]["location"] for e in events_of(guard_sees, "backup.requested")] == [
        "Till 3"
    ]


def test_only_the_requester_or_a_responder_cancels_backup(api_as):
    cashier, other, guard = api_as("staff"), api_as("staff"), api_as("guard")
    backup_id = cashier.post(f"{SITE}/backup-requests", {"location": "Till 3"}).get_json()[
        "backup_request"
    ]["id"]
    assert other.post(f"{SITE}/backup-requests/{backup_id}/cancel").status_code == 403
    assert other.post(f"{SITE}/backup-requests/{backup_id}/answer").status_code == 403
    answered = guard.post(f"{SITE}/backup-requests/{backup_id}/answer")
    assert answered.get_json()["backup_request"]["outcome"] == "answered"
    assert cashier.post(f"{SITE}/backup-requests/{backup_id}/cancel").get_json()["changed"] is False


def test_same_idempotency_key_gives_the_same_answer_and_one_entry(manager, event_count):
    first = manager.post(f"{SITE}/incidents", {"kind": "fire"}, key="press-1")
    after = event_count()
    second = manager.post(f"{SITE}/incidents", {"kind": "fire"}, key="press-1")
    assert second.status_code == first.status_code == 201
    assert second.get_json() == first.get_json()
    assert event_count() == after


def test_reused_idempotency_key_with_another_body_is_refused(manager, event_count):
    manager.post(f"{SITE}/incidents", {"kind": "fire"}, key="press-1")
    before = event_count()
    other = manager.post(f"{SITE}/incidents", {"kind": "threat"}, key="press-1")
    assert other.status_code == 422
    assert event_count() == before


def test_idempotency_keys_of_two_people_do_not_collide(api_as, started):
    anna, ben = api_as("staff", name="Anna"), api_as("staff", name="Ben")
    assert anna.post(f"{SITE}/incidents/current/safe", key="k").get_json()["changed"] is True
    assert ben.post(f"{SITE}/incidents/current/safe", key="k").get_json()["changed"] is True
    assert me_in_roll_call(ben, "Ben")["safe_at"] is not None
