"""Escalation as an admin sets it up and a silent phone meets it: what a mutation tester changed
in the escalation code and no test noticed (issue 28). Through the setup API, in process."""

from __future__ import annotations

import pytest

SETUP = "/api/sites/demo/setup"


@pytest.fixture
def admin(api_as):
    return api_as("admin")


def with_escalation(admin, section) -> dict:
    config = admin.get(SETUP).get_json()["config"]
    return {**config, "escalation": section}


def with_phone(admin, phone) -> dict:
    config = admin.get(SETUP).get_json()["config"]
    config["staff"][0]["phone"] = phone
    return config


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ([60], "escalation: a mapping: seconds, sms"),
        ({"seconds": 0}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": 3601}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": 1.5}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": True}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"seconds": "60"}, "escalation.seconds: whole seconds from 1 to 3600"),
        ({"sms": "yes"}, "escalation.sms: true or false"),
        ({"sms": 1}, "escalation.sms: true or false"),
        ({"seconds": 60, "retries": 3}, "escalation.retries: not an escalation setting"),
    ],
)
def test_a_wrong_escalation_setting_is_refused_naming_it(admin, event_count, section, problem):
    before = event_count()

    answer = admin.post(SETUP, {"config": with_escalation(admin, section)})

    assert answer.status_code == 400
    assert problem in answer.get_json()["detail"]
    assert event_count() == before


@pytest.mark.parametrize(
    "section", [{"seconds": 1}, {"seconds": 3600, "sms": True}, {"sms": False}, {}]
)
def test_every_escalation_setting_in_range_is_taken(admin, section):
    answer = admin.post(SETUP, {"config": with_escalation(admin, section)})

    assert answer.status_code == 200, answer.get_json()
    saved = admin.get(SETUP).get_json()["config"].get("escalation", {})
    assert saved == section


@pytest.mark.parametrize(
    "phone", ["0401234567", "+0401234567", "+123456", "+1234567890123456", "+358 40 1234567", 358]
)
def test_a_phone_number_twilio_would_not_take_is_refused(admin, event_count, phone):
    before = event_count()

    answer = admin.post(SETUP, {"config": with_phone(admin, phone)})

    assert answer.status_code == 400
    assert "staff[0].phone: a phone number with its country code" in answer.get_json()["detail"]
    assert event_count() == before


@pytest.mark.parametrize("phone", ["+1234567", "+123456789012345", None])
def test_the_shortest_and_longest_phone_numbers_are_taken(admin, phone):
    answer = admin.post(SETUP, {"config": with_phone(admin, phone)})

    assert answer.status_code == 200, answer.get_json()
    assert admin.get(SETUP).get_json()["config"]["staff"][0].get("phone") == phone
