"""The key flows against the real server process (eventlet unless said otherwise), with real
python-socketio clients and a real SQLite file."""

from __future__ import annotations

import fcntl
import json
import signal
import socket
import struct
import termios
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from harness import REPO, connections_held, prepare_database, wait_for


@pytest.fixture
def site_with_staff(tmp_path, live_servers):
    """A started eventlet server whose demo site has 50 staff, 2 duty managers and a guard."""
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 50, "duty_manager": 2, "guard": 1})
    return live_servers(db_path).start(), tokens


def test_every_connected_staff_phone_receives_incident_started(site_with_staff, connect):
    server, tokens = site_with_staff
    phones = [connect(server.url, token) for token in tokens["staff"]]
    assert all(phone.wait_until(lambda c: c.states) for phone in phones)

    started = server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert started.status_code == 201
    incident = started.json()
    missing = [i for i, phone in enumerate(phones) if not phone.wait_for_event("incident.started")]
    assert missing == [], f"{len(missing)} of {len(phones)} phones never got the alarm"
    for phone in phones:
        event = phone.wait_for_event("incident.started")
        assert event["seq"] == incident["seq"]
        assert event["payload"]["kind"] == "fire"
        assert event["actor"]["role"] == "duty_manager"


def test_reconnecting_phone_receives_exactly_the_events_it_missed(site_with_staff, connect):
    server, tokens = site_with_staff
    manager, staff, guard = tokens["duty_manager"][0], tokens["staff"][0], tokens["guard"][0]
    phone = connect(server.url, staff)
    assert phone.wait_until(lambda c: c.states)
    last_seen = phone.states[-1]["seq"]
    phone.close()

    server.post("/api/sites/demo/incidents", manager, {"kind": "evacuation", "drill": True})
    server.post("/api/sites/demo/incidents/current/acknowledge", tokens["staff"][1])
    server.post("/api/sites/demo/backup-requests", guard, {"location": "Till 3"})
    server.post("/api/sites/demo/zones/grocery/clear", tokens["staff"][2])
    missed = server.get(f"/api/sites/demo/events?after={last_seen}", manager).json()["events"]
    assert [e["type"] for e in missed] == [
        "incident.started",
        "alarm.acknowledged",
        "backup.requested",
        "zone.cleared",
    ]

    again = connect(server.url, staff, last_seq=last_seen)

    assert again.wait_until(lambda c: c.states)
    assert again.seqs() == [e["seq"] for e in missed]
    # A staff phone may read neither a colleague's "got it" nor a backup request, but still
    # gets their numbers: one redacted range, in one batch.
    assert again.events == [
        {**again.events[0], "type": "incident.started"},
        {"type": "redacted", "seq": missed[1]["seq"], "last_seq": missed[2]["seq"]},
        {**again.events[2], "type": "zone.cleared"},
    ]
    assert again.messages[:2] == ["events", "state"]
    assert again.states[-1]["seq"] == missed[-1]["seq"]

    # A second phone back from the same last_seq after one more event gets that one too (the
    # catch-up is shared only while the log stands still).
    server.post("/api/sites/demo/zones/clothing/clear", tokens["staff"][2])
    later = connect(server.url, staff, last_seq=last_seen)
    assert later.wait_until(lambda c: c.states)
    assert later.seqs() == [e["seq"] for e in missed] + [missed[-1]["seq"] + 1]


def test_each_phone_connects_to_the_state_the_api_answers_it(site_with_staff, connect):
    """The state is encoded once per audience and seq and shared: each staff phone still gets
    its own roll-call row and its own backup request, a guard everyone's."""
    server, tokens = site_with_staff
    manager, guard = tokens["duty_manager"][0], tokens["guard"][0]
    asker, other = tokens["staff"][:2]
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    asked = server.post("/api/sites/demo/backup-requests", asker, {"location": "Till 3"})
    assert asked.ok, asked.text
    server.post("/api/sites/demo/incidents/current/delivered", other, key="receipt-1")

    for token in (asker, other, guard, asker):
        phone = connect(server.url, token)
        assert phone.wait_until(lambda c: c.states)
        answered = server.get("/api/sites/demo/state", token).json()
        assert phone.states[0] == answered
    mine = phone.states[0]
    assert mine["my_backup_request"]["location"] == "Till 3"
    assert [row["name"] for row in mine["roll_call"]["staff"]] == ["staff 0"]


def test_guard_reads_backup_request_that_staff_see_redacted(site_with_staff, connect):
    server, tokens = site_with_staff
    guard_phone = connect(server.url, tokens["guard"][0])
    staff_phone = connect(server.url, tokens["staff"][0])
    assert guard_phone.wait_until(lambda c: c.states) and staff_phone.wait_until(lambda c: c.states)

    asked = staff_phone.act("request_backup", {"location": "Till 2", "note": "aggressive customer"})

    assert asked["ok"] is True
    seen_by_guard = guard_phone.wait_for_event("backup.requested")
    assert seen_by_guard["payload"]["location"] == "Till 2"
    assert staff_phone.wait_until(lambda c: any(e["type"] == "redacted" for e in c.events))
    assert not any(e["type"] == "backup.requested" for e in staff_phone.events)


def test_incident_roll_call_and_log_survive_sigkill(tmp_path, live_servers):
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 2, "duty_manager": 1})
    server = live_servers(db_path).start()
    manager, anna, ben = tokens["duty_manager"][0], *tokens["staff"]
    incident = server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}).json()
    assert server.post("/api/sites/demo/incidents/current/acknowledge", anna).ok
    assert server.post("/api/sites/demo/zones/clothing/clear", ben).ok
    assert server.post("/api/sites/demo/incidents/current/safe", ben).ok

    server.kill()
    restarted = live_servers(db_path).start()

    state = restarted.get("/api/sites/demo/state", manager).json()
    assert state["incident"]["id"] == incident["id"]
    people = {p["name"]: p for p in state["roll_call"]["staff"]}
    assert people["staff 0"]["acknowledged_at"] is not None
    assert people["staff 1"]["safe_at"] is not None
    zones = {z["id"]: z for z in state["zones"]}
    assert zones["clothing"]["sweep"] == "clear" and zones["clothing"]["by_name"] == "staff 1"
    verified = restarted.cli("verify-log")
    assert verified.returncode == 0, verified.stderr
    assert f"{state['seq']} entries verified" in verified.stdout


def test_two_managers_pressing_start_at_once_start_one_incident(site_with_staff):
    server, tokens = site_with_staff
    answers = []
    go = threading.Barrier(2)

    def press(token: str) -> None:
        go.wait()
        answers.append(server.post("/api/sites/demo/incidents", token, {"kind": "fire"}))

    presses = [threading.Thread(target=press, args=(t,)) for t in tokens["duty_manager"]]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join(timeout=20)

    assert sorted(a.status_code for a in answers) == [201, 409]
    events = server.get("/api/sites/demo/events?after=0&limit=1000", tokens["duty_manager"][0])
    started = [e for e in events.json()["events"] if e["type"] == "incident.started"]
    assert len(started) == 1


def test_a_phone_idle_longer_than_the_servers_wait_still_gets_the_alarm(
    tmp_path, live_servers, connect
):
    """A phone's socket idles between alarms; python-engineio gives up on a connection with
    nothing to send for ping_interval + ping_timeout (20 s), so only the pings keep it open.
    The phone here does not reconnect: a closed socket would lose the alarm."""
    tokens = prepare_database(tmp_path / "site.db", {"staff": 1, "duty_manager": 1})
    server = live_servers(tmp_path / "site.db").start()
    phone = connect(server.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)
    time.sleep(25)

    server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert phone.wait_for_event("incident.started")["payload"]["kind"] == "fire"


@pytest.mark.parametrize("auth", [None, {"token": "not-a-token"}, {"last_seq": 3}])
def test_socket_without_valid_credentials_is_refused(live_server, auth):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, auth=auth, transports=["websocket"], wait_timeout=10)
    assert not client.connected


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent", "threading"])
def test_a_phones_socket_is_not_compressed_though_its_browser_offers_it(live_servers, async_mode):
    """Chromium offers permessage-deflate on every WebSocket; accepted, every frame to every
    phone would be compressed once per phone, with a compressor of its own kept per phone."""
    port = live_servers(env={"EXITNOW_ASYNC_MODE": async_mode}).start(demo=True).port
    offer = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as phone:
        phone.sendall(offer.encode())
        answer = b""
        while len(answer.partition(b"\r\n\r\n")[2]) < 2:  # the head and a frame's first bytes
            more = phone.recv(4096)
            assert more, f"the server closed the socket: {answer!r}"
            answer += more
    head, _, first_frame = answer.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"sec-websocket-extensions" not in head.lower(), head
    assert first_frame[0] == 0x81, first_frame[:2]  # final text frame, RSV1 (compressed) unset


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent", "threading"])
def test_phones_that_connect_while_the_server_is_busy_wait_in_its_queue(live_servers, async_mode):
    """A shop's phones all connect when the alarm wakes them. While the server is busy (here:
    stopped), the kernel holds as many as the listen backlog allows (EXITNOW_LISTEN_BACKLOG);
    beyond that it drops their SYNs, and each such phone waits a second or more to try again.
    gevent's and werkzeug's servers listened with their own 128, whatever was configured."""
    server = live_servers(
        env={"EXITNOW_ASYNC_MODE": async_mode, "EXITNOW_LISTEN_BACKLOG": "400"}
    ).start(demo=True)
    held = connections_held(
        server.port,
        300,
        lambda: server.process.send_signal(signal.SIGSTOP),
        lambda: server.process.send_signal(signal.SIGCONT),
    )

    assert held == 300, f"{300 - held} of 300 phones' connections were dropped"
    assert requests.get(server.url + "/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_other_async_modes_serve_the_same_alarm(tmp_path, live_servers, connect, async_mode):
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 1, "duty_manager": 1})
    server = live_servers(db_path, env={"EXITNOW_ASYNC_MODE": async_mode}).start()
    phone = connect(server.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)

    server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "threat"})

    assert phone.wait_for_event("incident.started")["payload"]["kind"] == "threat"
    assert phone.act("acknowledge")["ok"] is True


def test_incident_started_on_one_process_reaches_phones_of_another(
    tmp_path, live_servers, connect, redis_url
):
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 1, "duty_manager": 1})
    queue = {"EXITNOW_MESSAGE_QUEUE": redis_url}
    first = live_servers(db_path, env=queue).start()
    second = live_servers(db_path, env=queue).start()
    phone = connect(second.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)

    started = first.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert started.status_code == 201
    event = phone.wait_for_event("incident.started")
    assert event is not None and event["seq"] == started.json()["seq"]


def test_the_demo_runs_with_the_default_paths(tmp_path, live_servers):
    """As a newcomer starts it: no EXITNOW_DB or EXITNOW_PUBLIC_DIR, so var/ below the
    working directory, and the public notice is served from there."""
    server = live_servers(tmp_path / "var" / "exitnow.db", {"PYTHONPATH": str(REPO)}, tmp_path)
    del server.env["EXITNOW_DB"], server.env["EXITNOW_PUBLIC_DIR"]
    server.start(demo=True)

    answer = requests.get(server.url + "/status/demo.json", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["state"] == "open"
    assert (tmp_path / "var" / "public" / "demo" / "status.json").read_bytes() == answer.content


def test_a_marshal_marks_a_person_without_a_phone_and_the_console_hears_it(
    site_with_staff, connect
):
    """On the real server: the guard's mark goes through the socket's action; the console
    (a duty manager) gets person.accounted and the counts follow; a staff phone gets only
    the number of the entry, redacted."""
    server, tokens = site_with_staff
    manager, guard = tokens["duty_manager"][0], tokens["guard"][0]
    console, marshal = connect(server.url, manager), connect(server.url, guard)
    phone = connect(server.url, tokens["staff"][0])
    assert all(c.wait_until(lambda c: c.states) for c in (console, marshal, phone))
    server.post("/api/sites/demo/incidents", manager, {"kind": "fire"})
    assert console.wait_for_event("incident.started") and phone.wait_for_event("incident.started")
    before = server.get("/api/sites/demo/state", manager).json()["roll_call"]
    pekka = next(p for p in before["staff"] if p["name"] == "Pekka Virtanen")
    assert not pekka["enrolled"] and pekka["accounted"] is None

    answer = marshal.act(
        "account_person", {"staff_id": pekka["staff_id"], "assembly_point": "lamp-post-b"}
    )

    assert answer["ok"] is True, answer
    heard = console.wait_for_event("person.accounted")
    assert heard["payload"]["staff_id"] == pekka["staff_id"]
    assert heard["payload"]["assembly_point"] == "lamp-post-b"
    assert heard["payload"]["how"] == "marshal" and heard["actor"]["role"] == "guard"
    after = server.get("/api/sites/demo/state", manager).json()["roll_call"]
    assert after["on_site"] == before["on_site"]
    assert after["accounted"] == before["accounted"] + 1
    assert after["unaccounted"] == before["unaccounted"] - 1
    assert phone.wait_until(lambda c: heard["seq"] in c.seqs())
    assert not any(e["type"] == "person.accounted" for e in phone.events)  # redacted
    counts = server.get("/api/sites/demo/state", tokens["staff"][0]).json()["roll_call"]
    assert counts["accounted"] == after["accounted"]  # a staff phone gets the counts
    assert [p["name"] for p in counts["staff"]] == ["staff 0"]  # and only its own row


# An action and the HTTP route beside it: the same command, and the URL's fields as params.
ONE_ACTION_TWO_WAYS = [
    ("record_delivery", {}, "/api/sites/demo/incidents/current/delivered", "alarm.delivered"),
    ("claim_zone", {"zone": "entrance"}, "/api/sites/demo/zones/entrance/claim", "zone.claimed"),
]


@pytest.mark.parametrize("first", ["socket", "http"])
@pytest.mark.parametrize(("command", "params", "path", "logged"), ONE_ACTION_TWO_WAYS)
def test_an_action_is_applied_once_whichever_way_its_retry_comes(
    site_with_staff, connect, first, command, params, path, logged
):
    """A phone whose answer was lost sends its action again, maybe the other way (the socket
    dropped, or came back): the same idempotency key finds the same request."""
    server, tokens = site_with_staff
    manager, token = tokens["duty_manager"][0], tokens["staff"][0]
    assert server.post("/api/sites/demo/incidents", manager, {"kind": "fire"}).status_code == 201
    phone = connect(server.url, token)
    assert phone.wait_until(lambda c: c.states)
    key = f"{command}-once"

    def over_socket() -> dict:
        answer = phone.act(command, params, key=key)
        assert answer["ok"] is True, answer
        return answer["result"]

    def over_http() -> dict:
        answer = server.post(path, token, {}, key=key)
        assert answer.status_code == 200, answer.text
        return answer.json()

    ways = [over_socket, over_http] if first == "socket" else [over_http, over_socket]
    answers = [way() for way in ways]

    assert answers[0] == answers[1]
    events = server.get("/api/sites/demo/events?after=0&limit=1000", manager).json()["events"]
    assert [e["seq"] for e in events if e["type"] == logged] == [answers[0]["seq"]]


class SilentPhone:
    """A phone on a raw WebSocket whose app stops reading after it connected (a frozen tab,
    a phone on a dying link): what the server sends it piles up in the sockets' buffers."""

    def __init__(self, port: int, token: str):
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills up soon
        self.socket.settimeout(10)
        self.socket.connect(("127.0.0.1", port))
        self.socket.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.unread = b""
        while b"\r\n\r\n" not in self.unread:
            self.unread += self.socket.recv(4096)
        head, _, self.unread = self.unread.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.send("40" + json.dumps({"token": token}))

    def waiting(self) -> int:
        """How many bytes the server sent that this phone has not read."""
        return struct.unpack("i", fcntl.ioctl(self.socket, termios.FIONREAD, b"\0\0\0\0"))[0]

    def send(self, text: str) -> None:
        """A client's frame: text, final, masked (RFC 6455 5.3)."""
        data, mask = text.encode(), b"\x01\x02\x03\x04"
        assert len(data) < 126
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
        self.socket.sendall(bytes([0x81, 0x80 | len(data)]) + mask + masked)

    def messages(self, until) -> list[str]:
        """Read the server's frames (text, unmasked) until `until(message)` is true of one."""
        messages: list[str] = []
        while not messages or not until(messages[-1]):
            while (size := _frame_size(self.unread)) is None or len(self.unread) < size[1]:
                more = self.socket.recv(1 << 16)
                assert more, f"the server closed the socket after {len(messages)} messages"
                self.unread += more
            start, end = size
            assert self.unread[0] == 0x81, self.unread[:end]  # final, text: never a torn frame
            messages.append(self.unread[start:end].decode())
            self.unread = self.unread[end:]
        return messages


def _frame_size(data: bytes) -> tuple[int, int] | None:
    """Where the payload of the unmasked frame at the start of `data` begins and ends."""
    if len(data) < 2:
        return None
    length, start = data[1] & 0x7F, 2
    if length >= 126:
        start += 2 if length == 126 else 8
        if len(data) < start:
            return None
        length = int.from_bytes(data[2:start], "big")
    return start, start + length


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent", "threading"])
def test_a_phone_that_reads_nothing_holds_up_no_other_phone(
    tmp_path, live_servers, connect, async_mode
):
    """The alarm reaches every other phone while one phone's sockets are full, and that phone
    gets everything, each frame whole, once it reads again."""
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 2, "duty_manager": 1})
    server = live_servers(db_path, env={"EXITNOW_ASYNC_MODE": async_mode}).start()
    silent = SilentPhone(server.port, tokens["staff"][1])  # first in the room's order
    silent.messages(until=lambda m: m.startswith('42["state"'))
    phone = connect(server.url, tokens["staff"][0])
    assert phone.wait_until(lambda c: c.states)
    # Each `sync` is answered with the phone's whole log and state (about 5 kB): asked until
    # the answers are twice what the server's socket may hold, the kernel's largest send
    # buffer (the phone's receive buffer is small and full).
    most = int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    asked = 2 * most // 4000
    for _ in range(asked):
        silent.send('42["sync",{"last_seq":0}]')
    assert wait_for(lambda: silent.waiting() >= 4096, 10)  # its side is full: the server's next
    silent.send("3")  # a pong: it stays connected though it reads no ping

    started = server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert started.status_code == 201
    assert phone.wait_for_event("incident.started", timeout=5) is not None
    silent.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # reading again
    answers, events = [], []

    def everything(message: str) -> bool:
        if message.startswith('42["state"'):
            answers.append(message)
        elif message.startswith('42["event'):  # "event" and "events"
            events.append(message)
        return len(answers) == asked and any("incident.started" in m for m in events)

    read = silent.messages(until=everything)  # each frame whole (`messages` checks)
    assert sum(map(len, read)) > 2 * most, sum(map(len, read))


def test_a_phone_on_a_websocket_draft_before_rfc_6455_gets_the_alarm_too(
    tmp_path, live_servers, connect
):
    """eventlet still accepts the hixie-75 handshake and its frames (0x00 text 0xFF); such a
    connection must not break the frames every other phone gets written at once."""
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"staff": 2, "duty_manager": 1})
    server = live_servers(db_path, env={"EXITNOW_ASYNC_MODE": "eventlet"}).start()
    old = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    origin = f"127.0.0.1:{server.port}"
    old.sendall(
        f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {origin}\r\n"
        f"Upgrade: WebSocket\r\nConnection: Upgrade\r\nOrigin: http://{origin}\r\n\r\n".encode()
    )
    heard = b""

    def hears(what: bytes) -> bool:
        nonlocal heard
        while what not in heard:
            more = old.recv(1 << 16)
            assert more, heard
            heard += more
        return True

    assert hears(b'\x000{"sid"')  # Engine.IO's open packet, in a hixie frame
    old.sendall(b"\x00" + ("40" + json.dumps({"token": tokens["staff"][0]})).encode() + b"\xff")
    assert hears(b'\x0042["state"')
    phone = connect(server.url, tokens["staff"][1])  # after it in the room
    assert phone.wait_until(lambda c: c.states)

    server.post("/api/sites/demo/incidents", tokens["duty_manager"][0], {"kind": "fire"})

    assert phone.wait_for_event("incident.started", timeout=5) is not None
    assert hears(b"incident.started")
    old.close()
