"""schemathesis against /api/openapi.json, on the app in this process: every operation, as an
admin and as a duty manager of the demo site, bounded and derandomized so that every run sends
the same cases. No answer may be a 5xx or have a status, content type or body that the document
does not describe; input that the document calls invalid must get a 4xx; a route that needs a
signed-in caller must refuse one without a token or with a wrong one."""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Address
from itertools import count
from uuid import uuid4

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from server.commands import execute
from server.commands.site_config import read_site
from server.integrations import webhooks
from server.rules.auth import alarm_panel, command_line

SITE = "demo"
SIEVE_MAILBOX = "kundtjanst@shop.example"
ROLES = ("admin", "duty_manager")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
]
EXAMPLES = 12  # generated cases per operation and role, besides the examples and coverage phases
START = "POST /api/sites/{site}/incidents"
# The answers to the fire-alarm panel's pre-alarm: a countdown must be running, and no incident.
PRE_ALARM = {
    "POST /api/sites/{site}/alarm-panel/pre-alarm/confirm",
    "POST /api/sites/{site}/alarm-panel/pre-alarm/dismiss",
}

# Operations whose generated cases may all be refused (their refusals are checked all the
# same): a push subscription and a webhook need an http(s) URL where the document only says
# "uri" or a string, an update needs a future eta or a message, only the phone a test
# alarm was sent to may answer it (tests/test_readiness.py), and the cases of "remove" may
# have removed the webhooks the cases of "test" know (tests/test_webhooks.py tests one).
MAY_FAIL = {
    "POST /api/sites/{site}/webhooks/{webhook_id}/test",
    "POST /api/push/subscriptions",
    "POST /api/sites/{site}/incidents/current/update",
    "POST /api/sites/{site}/webhooks",
    "POST /api/sites/{site}/test-alarms/{test_id}/answer",
    "POST /api/sites/{site}/zones/{zone}/decline",  # only when asked to sweep that very zone
    # a visitor's own visit needs their link's token in a header no case carries
    "GET /api/sites/{site}/visitors/self",
    # a CAP message exists once a real alarm (not a drill) issued one, under an identifier
    # made then (tests/test_cap_feed.py fetches one)
    "GET /cap/{site}/{identifier}.xml",
    # only while an incident is on, and with its reason: a drill's "drill_over", a real one's
    # another (tests/test_bad_input.py holds both)
    "POST /api/sites/{site}/incidents/current/all-clear",
}
# ... and those a duty manager must never get through.
ADMIN_ONLY = {
    "GET /api/sites/{site}/setup",
    "POST /api/sites/{site}/setup",
    "POST /api/sites/{site}/notice-settings",
    "POST /api/sites/{site}/mailbox-passwords",
    "GET /api/sites/{site}/webhooks",
    "GET /api/sites/{site}/webhooks/deliveries",
    "POST /api/sites/{site}/webhooks",
    "POST /api/sites/{site}/webhooks/{webhook_id}/remove",
    "POST /api/sites/{site}/webhooks/{webhook_id}/test",
    "GET /api/sites/{site}/staff/{staff_id}/data",
}


def invalid_on_purpose(case, location: str) -> bool:
    """Whether this case was generated to be refused for what it holds in `location`."""
    component = case.meta.components.get(location) if case.meta else None
    return component is not None and component.mode.is_negative


def steered(known: dict[str, list]):
    """A flatmap_case hook: a path parameter or body field may be swapped for a value that
    names something real (the demo site, its zones and people, an unused enrollment code, the
    site's own set-up), so that more than "there is no such site" (404) is explored. A case
    meant to be refused for its path or body keeps them as they are."""

    def choices(values, location: str, case) -> dict:
        if not isinstance(values, dict) or invalid_on_purpose(case, location):
            return {}
        return {
            name: st.sampled_from([*known[name], v]) for name, v in values.items() if name in known
        }

    def hook(context, case):
        def apply(chosen: tuple[dict, dict]):
            path, body = chosen
            if path:
                case.path_parameters.update(path)
            if body:
                case.body.update(body)
            return case

        path = choices(case.path_parameters, "path", case)
        body = choices(case.body, "body", case)
        return st.tuples(st.fixed_dictionaries(path), st.fixed_dictionaries(body)).map(apply)

    return hook


@pytest.fixture
def known(services, client, demo_links, make_token, other_site_manager, monkeypatch) -> dict:
    """The demo site with an incident, a help request and a backup request to act on, and
    another site: the real names and numbers the cases may use."""
    # No push service or webhook receiver is reached from here, whatever a case stores.
    monkeypatch.setattr(services.publisher.push, "follow", lambda site, events: None)
    monkeypatch.setattr(webhooks, "post", lambda url, body, headers: 200)
    hook = {"url": "http://127.0.0.1:9/hook"}
    execute(services, command_line(SITE), SITE, "add_webhook", hook)
    execute(services, command_line(SITE), SITE, "send_test_alarm", {})
    staff = {"Authorization": f"Bearer {make_token('staff', name='Sanna')}"}
    execute(services, command_line(SITE), SITE, "start_incident", {"kind": "fire", "drill": True})
    client.post(f"/api/sites/{SITE}/help-requests", json={"location": "lifts"}, headers=staff)
    client.post(f"/api/sites/{SITE}/backup-requests", json={"location": "till 3"}, headers=staff)
    # A mailbox whose provider failed, as the console's state shows it (MailboxState).
    mailbox = {"provider": "microsoft365", "mailbox": "service@shop.example"}
    own = {"provider": "sieve", "mailbox": SIEVE_MAILBOX}  # one with a password of its own
    execute(
        services,
        command_line(SITE),
        SITE,
        "configure_notices",
        {"settings": {"email": [mailbox, own]}},
    )
    failed = {**mailbox, "outcome": "failed", "state": "closed", "version": 1, "incident_id": 1}
    failed |= {"status": 503, "error": "HTTP 503", "attempt": 1, "retry_at": 4102444800000}
    execute(services, command_line(SITE), SITE, "record_mailbox_switch", {"outcome": failed})
    client.post(
        f"/api/sites/{SITE}/visitors", json={"name": "Vera"}, headers=staff_guard(make_token)
    )
    visitor = client.post(f"/api/sites/{SITE}/visitors/self", json={"name": "Walk-in"}).get_json()
    with services.store.reading() as db:
        config = read_site(db, SITE)
        people = [row[0] for row in db.execute("SELECT id FROM staff WHERE site = ?", [SITE])]
    return {
        "site": [SITE, "other"],
        "zone": [zone["id"] for zone in config["zones"]],
        "staff_id": people,
        **dict.fromkeys(("incident_id", "help_id", "backup_id", "webhook_id", "test_id"), [1, 2]),
        "code": [link.rsplit("/", 1)[1] for _, link in demo_links],
        "visitor_id": [1, 2],
        "assembly_point": [point["id"] for point in config["assembly_points"]],
        "token": [visitor["token"]],  # a visitor's personal link
        "config": [config],
        "mailbox": [SIEVE_MAILBOX],
    }


def staff_guard(make_token) -> dict:
    return {"Authorization": f"Bearer {make_token('guard', name='Ville')}"}


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@pytest.fixture
def api_schema(app, known, role):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.hook("flatmap_case")(steered(known))
    return schema


@pytest.fixture
def bearer(role, make_token) -> dict:
    return {"Authorization": f"Bearer {make_token(role, name=f'Schemathesis {role}')}"}


@pytest.fixture
def answers(app, api_schema, role):
    """Each case's operation and status. At the end: nothing answered 5xx (probes included),
    every operation was called, and all but a few succeeded at least once."""
    statuses: Counter = Counter()
    addresses = count(1)
    inner = app.wsgi_app

    def counting(environ, start_response):
        # Each request from its own address: the probes' wrong tokens are failed sign-ins,
        # and one address would soon get 429 for everything (server/operations/rate_limits.py).
        environ["REMOTE_ADDR"] = str(IPv4Address("10.0.0.0") + next(addresses))

        def start(status, headers, exc_info=None):
            statuses[int(status.split()[0])] += 1
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = counting
    cases: Counter = Counter()
    yield cases
    app.wsgi_app = inner
    print(f"\n{role}: {cases.total()} cases, {statuses.total()} requests: {dict(statuses)}")
    assert [status for status in statuses if status >= 500] == []
    operations = {result.ok().label for result in api_schema.get_all_operations()}
    succeeded = {label for label, status in cases if 200 <= status < 300}
    assert operations - {label for label, _ in cases} == set()
    if role == "admin":
        assert operations - succeeded <= MAY_FAIL
    else:
        assert operations - succeeded <= MAY_FAIL | ADMIN_ONLY
        assert succeeded & ADMIN_ONLY == set()


def set_scene(services, operation: str) -> None:
    """An incident is running for every operation but the one that starts one, so that the
    commands of an incident get past "no incident is active" (409)."""
    with services.store.reading() as db:
        running = db.execute(
            "SELECT drill FROM incidents WHERE site = ? AND ended_at IS NULL", [SITE]
        ).fetchone()
    operator = command_line(SITE)
    if operation in PRE_ALARM:
        start_pre_alarm(services, running)
    elif operation == START and running:
        end_incident(services, running)
    elif operation != START and not running:
        execute(services, operator, SITE, "start_incident", {"kind": "fire", "drill": True})


def end_incident(services, running) -> None:
    """The all-clear a case's incident takes: a drill ends only as drill over, a real alarm
    never does."""
    reason = "drill_over" if running[0] else "resolved"
    execute(services, command_line(SITE), SITE, "end_incident", {"reason": reason})


def start_pre_alarm(services, running) -> None:
    """The panel's pre-alarm counting down, with no incident under way."""
    if running:
        end_incident(services, running)
    with services.store.reading() as db:
        waiting = db.execute("SELECT 1 FROM pre_alarms WHERE ended_at IS NULL").fetchone()
    if not waiting:
        signal = {"event_id": str(uuid4()), "event": "pre_alarm", "delivery": str(uuid4())}
        execute(services, alarm_panel(SITE), SITE, "receive_alarm_signal", signal)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_documented(case, services, bearer, answers):
    set_scene(services, case.operation.label)
    response = case.call_and_validate(headers=bearer, checks=CHECKS)
    if case.method.upper() == case.operation.method.upper():  # not a probe of another method
        answers[case.operation.label, response.status_code] += 1


def test_a_405_names_the_allowed_methods(client):
    # RFC 9110 15.5.6: a 405 carries Allow. schemathesis' unsupported_method check found it
    # missing.
    answer = client.delete(f"/api/sites/{SITE}/state")

    assert answer.status_code == 405
    assert answer.content_type == "application/problem+json"
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_401_names_the_bearer_scheme(client):
    # RFC 9110 15.5.2: a 401 carries WWW-Authenticate, here RFC 6750's Bearer.
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        answer = client.get(f"/api/sites/{SITE}/state", headers=headers)

        assert answer.status_code == 401
        assert answer.content_type == "application/problem+json"
        assert answer.headers["WWW-Authenticate"] == "Bearer"
