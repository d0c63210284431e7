"""Outbound webhooks as an admin subscribes one and its receiver sees the deliveries: what a
mutation tester changed in the webhook code and no test noticed (issue 28). The app in this
process; each round of deliveries is run by the test (`deliver_due`), to a receiver on
127.0.0.1."""

from __future__ import annotations

import json

import pytest
from test_webhooks import SECRET, Receiver, verified

SITE = "/api/sites/demo"


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.close()


def deliver_all(services) -> None:
    while services.webhooks.deliver_due(services):
        pass


def test_a_webhook_that_does_not_ask_for_names_gets_roles_and_counts(services, api_as, receiver):
    hooked = api_as("admin").post(
        f"{SITE}/webhooks", {"url": receiver.url, "secret": SECRET, "events": ["backup.requested"]}
    )
    assert hooked.status_code == 201 and hooked.get_json()["include_names"] is False
    asked = api_as("staff", name="Lars Larsson").post(
        f"{SITE}/backup-requests", {"location": "Till 3", "note": "Lars"}
    )
    assert asked.status_code == 201

    deliver_all(services)

    [body] = [verified(request) for request in receiver.wait_for(1)]
    assert body["type"] == "backup.requested" and body["actor"]["role"] == "staff"
    assert [word for word in ("Lars", "Till 3") if word in json.dumps(body)] == []


NOT_HTTP = "'url' must be an http:// or https:// URL."
WITH_LOGIN = "'url' must not hold a user name or password."


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"url": "ftp://example.org/hook"}, NOT_HTTP),
        ({"url": "https:///hook"}, NOT_HTTP),
        ({"url": "mailto:ops@example.org"}, NOT_HTTP),
        ({"url": "example.org"}, NOT_HTTP),
        ({"url": "https://ops@example.org/hook"}, WITH_LOGIN),
        ({"url": "https://:password@example.org/hook"}, WITH_LOGIN),
        ({"url": "https://example.org:http/hook"}, "'url' has a port that is not a number."),
        ({"events": ["incident.started"]}, "'url' is required."),
    ],
)
def test_a_url_a_webhook_cannot_be_posted_to_is_refused(api_as, event_count, body, problem):
    admin = api_as("admin")
    before = event_count()

    answer = admin.post(f"{SITE}/webhooks", body)

    assert answer.status_code == 400
    assert answer.get_json()["detail"] == problem
    assert event_count() == before
