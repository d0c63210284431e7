"""Actions sent over a phone's open socket, answered by the writer once their batch is
committed (server/live/realtime.py: `answer_actions_from_the_writer`), against the real
server (eventlet; gevent and PostgreSQL in tests/run.sh's other passes) and real
python-socketio clients."""

from __future__ import annotations

import random
import threading
import time

import pytest
import requests
import socketio
from test_metrics import samples

from harness import prepare_database
from server.live.frames import unmasked


@pytest.fixture
def site_with_staff(tmp_path, live_servers):
    """A started server whose demo site has 30 staff and a duty manager."""
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 30, "duty_manager": 1})
    return live_servers(db_path).start(), tokens


def staff_id_of(server, token: str) -> int:
    return server.get("/api/me", token).json()["staff_id"]


def logged(server, manager: str, type_: str) -> list[dict]:
    events = server.get("/api/sites/demo/events?after=0&limit=1000", manager).json()["events"]
    return [event for event in events if event["type"] == type_]


def test_receipts_sent_at_once_are_each_answered_with_the_senders_own_entry(
    site_with_staff, connect
):
    """Thirty receipts in one moment share the writer's batches; each phone's answer names
    the log entry of its own receipt, never a colleague's."""
    server, tokens = site_with_staff
    manager = tokens["duty_manager"][0]
    phones = [connect(server.url, token) for token in tokens["staff"]]
    assert all(phone.wait_until(lambda c: c.states) for phone in phones)
    assert server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}).status_code == 201
    assert all(phone.wait_for_event("incident.started") for phone in phones)
    answers: dict[int, dict] = {}
    together = threading.Barrier(len(phones))

    def send_receipt(number: int) -> None:
        together.wait()
        answers[number] = phones[number].act("record_delivery", key=f"receipt-{number}")

    threads = [threading.Thread(target=send_receipt, args=(n,)) for n in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert [answers[n]["ok"] for n in range(len(phones))] == [True] * len(phones)
    entry_of = {
        e["seq"]: e["actor"]["staff_id"] for e in logged(server, manager, "alarm.delivered")
    }
    answered = [answers[n]["result"]["seq"] for n in range(len(phones))]
    assert sorted(answered) == sorted(entry_of)  # one answer for each entry, each once
    assert [entry_of[seq] for seq in answered] == [staff_id_of(server, t) for t in tokens["staff"]]


def test_a_refused_action_in_a_busy_moment_is_answered_with_its_problem_and_changes_nothing(
    site_with_staff, connect
):
    """A phone whose command the writer refuses gets that command's problem; the receipts
    sent with it are still answered and logged."""
    server, tokens = site_with_staff
    manager = tokens["duty_manager"][0]
    phones = [connect(server.url, token) for token in tokens["staff"][:5]]
    assert all(phone.wait_until(lambda c: c.states) for phone in phones)
    assert server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}).status_code == 201
    answers: dict[int, dict] = {}

    def send(number: int) -> None:
        if number == 0:  # no such zone: the writer's check refuses it
            answers[number] = phones[0].act("claim_zone", {"zone": "nowhere"})
        else:
            answers[number] = phones[number].act("record_delivery")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(phones))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert answers[0]["ok"] is False
    assert answers[0]["error"]["status"] == 404, answers[0]
    assert "nowhere" in answers[0]["error"]["detail"]
    assert [answers[n]["ok"] for n in range(1, len(phones))] == [True] * (len(phones) - 1)
    assert len(logged(server, manager, "alarm.delivered")) == len(phones) - 1
    assert logged(server, manager, "zone.claimed") == []


def test_an_action_sent_without_asking_for_an_answer_is_still_applied(site_with_staff, connect):
    server, tokens = site_with_staff
    manager = tokens["duty_manager"][0]
    phone = connect(server.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)
    assert server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}).status_code == 201

    phone.sio.emit("action", {"command": "record_delivery", "params": {}})

    deadline = time.monotonic() + 10
    while not logged(server, manager, "alarm.delivered") and time.monotonic() < deadline:
        time.sleep(0.05)
    delivered = logged(server, manager, "alarm.delivered")
    assert [e["actor"]["staff_id"] for e in delivered] == [staff_id_of(server, tokens["staff"][0])]
    assert phone.act("record_delivery")["result"]["changed"] is False  # and once only


def test_an_alarm_started_over_the_socket_is_answered_once_the_public_notice_shows_it(
    site_with_staff, connect
):
    """A command that changes the public notices answers after their files are written, as
    over HTTP: the status page a customer loads right after the answer shows the alarm."""
    server, tokens = site_with_staff
    console = connect(server.url, tokens["duty_manager"][0])
    assert console.wait_until(lambda c: c.states)
    before = requests.get(server.url + "/status/demo.json", timeout=5).json()

    answer = console.act("start_incident", {"kind": "fire"})
    status = requests.get(server.url + "/status/demo.json", timeout=5).json()

    assert answer["ok"] is True, answer
    assert (before["state"], status["state"]) == ("open", "closed"), status
    assert status["version"] > before["version"]


def test_a_large_action_split_over_several_reads_is_read_whole(site_with_staff):
    """A WebSocket frame bigger than one read arrives in pieces, each unmasked from where it
    starts in the frame (server/live/frames.py: `unmask_in_one_step`): the server reads the
    whole message and names the one unknown field at its end."""
    server, tokens = site_with_staff
    client = socketio.Client(reconnection=False)
    client.connect(
        server.url, auth={"token": tokens["staff"][0]}, transports=["websocket"], wait_timeout=20
    )
    try:
        params = {"zone": "x" * 150_001, "zzz_unknown": 1}
        for padding in range(4):  # every offset of the mask's four bytes at the frame's end
            answer = client.call(
                "action",
                {"command": "claim_zone", "params": params, "idempotency_key": "k" * (1 + padding)},
                timeout=20,
            )
            assert answer["ok"] is False
            assert answer["error"]["status"] == 400, answer
            assert "zzz_unknown" in answer["error"]["detail"], answer
    finally:
        client.disconnect()


def test_an_action_the_socket_refuses_before_the_writer_is_answered_with_a_clear_400(
    site_with_staff, connect
):
    server, tokens = site_with_staff
    phone = connect(server.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)

    no_message = phone.sio.call("action", timeout=10)
    not_an_object = phone.sio.call("action", ["record_delivery"], timeout=10)
    bad_key = phone.sio.call(
        "action", {"command": "record_delivery", "params": {}, "idempotency_key": 7}, timeout=10
    )

    for answer in (no_message, not_an_object):
        assert answer["ok"] is False
        assert answer["error"]["status"] == 400
        assert "record_delivery" in answer["error"]["detail"]  # the commands it may send
    assert bad_key["ok"] is False
    assert bad_key["error"]["status"] == 400
    assert "idempotency_key" in bad_key["error"]["detail"]
    assert phone.sio.connected  # and the socket stays open


def test_socket_actions_are_counted_by_their_outcome(site_with_staff, connect):
    """An operator's /metrics counts an action sent over the socket as one over HTTP."""
    server, tokens = site_with_staff
    phone = connect(server.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)

    assert phone.act("record_delivery")["ok"] is False  # no incident yet: refused
    assert server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})
    assert phone.act("record_delivery", key="once")["ok"] is True
    assert phone.act("record_delivery", key="once")["ok"] is True  # its retry

    figures = samples(requests.get(server.url + "/metrics", timeout=10).text)
    counted = {
        outcome: figures.get(
            ("exitnow_commands_total", (("command", "record_delivery"), ("outcome", outcome)))
        )
        for outcome in ("accepted", "repeated", "rejected")
    }
    assert counted == {"accepted": 1, "repeated": 1, "rejected": 1}


@pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")
@pytest.mark.parametrize("mask_of", [bytes, tuple, list])
def test_a_frame_is_unmasked_as_eventlet_itself_would_from_every_offset(mask_of):
    """eventlet's own byte-by-byte `_apply_mask` (this process never replaces it), against the
    server's `unmasked`: the mask as the server reads it (4 ints) and as bytes."""
    from eventlet.websocket import RFC6455WebSocket

    original = RFC6455WebSocket._apply_mask
    assert original is not unmasked
    rng = random.Random(27)
    for length in (0, 1, 2, 3, 4, 5, 7, 8, 117, 1001):
        data = bytes(rng.randrange(256) for _ in range(length + 3))
        mask = mask_of(rng.randrange(256) for _ in range(4))
        for offset in range(9):
            assert unmasked(data, mask, length, offset) == original(data, mask, length, offset)
        assert unmasked(data[:length], mask) == original(data[:length], mask)
