"""GET /metrics: what an operator watches, in Prometheus' text format, for allowed networks."""

from __future__ import annotations

import time

import requests
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a Prometheus exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_commands_batches_and_the_alarms_fanout_are_counted(api_as):
    manager, staff = api_as("duty_manager"), api_as("staff")
    assert manager.post("/api/sites/demo/incidents", {"kind": "fire"}).status_code == 201
    assert staff.post("/api/sites/demo/incidents", {"kind": "fire"}).status_code == 403
    assert manager.post("/api/sites/demo/incidents", {"kind": "fire"}).status_code == 409

    answer = manager.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    # The alarm's frames may leave in a batch a moment after the command answered.
    fanouts = [
        ("exitnow_alarm_fanout_seconds_count", (("audience", audience),))
        for audience in ("responders", "staff")
    ]
    deadline = time.monotonic() + 5
    while not set(fanouts) <= samples(answer.text).keys() and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = manager.client.get("/metrics")

    figures = samples(answer.text)
    started = ("command", "start_incident")
    assert figures[("exitnow_commands_total", (started, ("outcome", "accepted")))] == 1
    assert figures[("exitnow_commands_total", (started, ("outcome", "rejected")))] == 2
    assert figures[("exitnow_group_commit_commands_count", ())] >= 3
    assert [figures[fanout] for fanout in fanouts] == [1, 1]


def test_metrics_are_refused_outside_the_allowed_networks(client):
    answer = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})

    assert answer.status_code == 403
    assert answer.content_type == "application/problem+json"
    assert "EXITNOW_METRICS_ALLOW" in answer.get_json()["detail"]


def test_connected_phones_are_counted_per_site(live_server, connect):
    phones = [connect(live_server.url, live_server.token("staff", f"Staff {i}")) for i in range(3)]
    assert all(phone.wait_until(lambda c: c.states) for phone in phones)

    figures = samples(requests.get(live_server.url + "/metrics", timeout=10).text)

    assert figures[("exitnow_connected_clients", (("site", "demo"),))] == 3
    assert figures[("exitnow_message_queue_reconnects_total", ())] == 0
