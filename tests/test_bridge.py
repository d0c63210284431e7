"""`python -m server.bridge` end to end against the real server: a simulated contact closes, the
bridge signs and sends the webhook, the incident starts and staff phones hear it; the bridge
stops, its heartbeat with it, and the duty managers hear "link down"."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time

import pytest

from harness import REPO, prepare_panel_site
from server import bridge
from server.basics import signing


@pytest.fixture
def panel(live_servers, tmp_path):
    """The real server on the demo site, its people's tokens, and its panel's secret in a file,
    as an installer keeps it beside the bridge: (server, tokens, secret file)."""
    tokens, secret = prepare_panel_site(tmp_path / "live.db")
    secret_file = tmp_path / "panel-secret"
    secret_file.write_text(secret + "\n")
    return live_servers(tmp_path / "live.db").start(), tokens, secret_file


def start_bridge(live_server, secret_file, source: str, *more: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "server.bridge", "--url", live_server.url, "--site", "demo"]
        + ["--source", source, "--secret-file", str(secret_file), *more],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_closed_contact_starts_the_evacuation_and_a_silent_bridge_is_link_down(
    panel, connect, tmp_path
):
    live_server, tokens, secret_file = panel
    manager = connect(live_server.url, tokens["duty_manager"])
    floor = connect(live_server.url, tokens["staff"])
    contact = tmp_path / "contact"
    contact.write_text("0")
    process = start_bridge(
        live_server, secret_file, f"file:{contact}", "--heartbeat", "1", "--detail", "Relay 1"
    )
    try:
        up = manager.wait_for_event("alarm_panel.link_up", timeout=10)
        contact.write_text("1")  # the panel's relay closes
        alarm = floor.wait_for_event("incident.started", timeout=10)
    finally:
        process.terminate()  # the bridge stops: no heartbeat from here on
        output = process.communicate(timeout=10)[0]
    stopped = time.monotonic()
    down = manager.wait_for_event("alarm_panel.link_down", timeout=10)

    assert up is not None, output
    assert up["payload"]["interval_seconds"] == 1
    assert alarm is not None, output
    assert alarm["payload"]["kind"] == "fire" and alarm["payload"]["message"] == "Relay 1"
    assert alarm["actor"] == {"staff_id": None, "name": "alarm panel", "role": "alarm_panel"}
    signalled = manager.wait_for_event("alarm_panel.signalled")
    assert signalled["payload"]["signal"] == "fire_alarm"
    assert signalled["payload"]["action"] == "evacuate"
    assert down is not None, manager.events
    assert time.monotonic() - stopped >= 1  # three intervals after the last heartbeat
    assert [e["type"] for e in floor.events].count("incident.started") == 1
    assert not any(e["type"].startswith("alarm_panel.") for e in floor.events)


def test_a_contact_that_opens_again_sends_what_on_open_says(panel, connect):
    """The stdin source, and --on-open: a relay that drops back sends `reset`, which tells the
    duty manager and leaves the incident running."""
    live_server, tokens, secret_file = panel
    manager = connect(live_server.url, tokens["duty_manager"])
    sender = bridge.Sender(f"{live_server.url}/hooks/alarm/demo", [secret_file.read_text().strip()])
    lines = _Lines()
    watcher = bridge.Bridge(bridge.StdinContact(lines), sender.start(), on_open="reset")
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        lines.say("close")
        started = manager.wait_for_event("incident.started", timeout=10)
        lines.say("open")
        reset = manager.wait_until(
            lambda c: any(e["payload"].get("signal") == "reset" for e in c.events), timeout=10
        )
    finally:
        stop.set()
        lines.end()
        thread.join(timeout=5)
        sender.stop()
    assert started is not None and reset
    assert not any(e["type"] == "incident.ended" for e in manager.events)


class _Lines:
    """A line stream a test writes to, read by StdinContact's thread."""

    def __init__(self):
        self._lines: list[str | None] = []
        self._ready = threading.Condition()

    def say(self, line: str) -> None:
        with self._ready:
            self._lines.append(line + "\n")
            self._ready.notify_all()

    def end(self) -> None:
        with self._ready:
            self._lines.append(None)
            self._ready.notify_all()

    def __iter__(self):
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._lines)
                line = self._lines.pop(0)
            if line is None:
                return
            yield line


def test_the_bridge_signs_each_attempt_anew_and_keeps_its_event_id(monkeypatch):
    """A retry is a new signature (a replay is refused) of the same event (done once)."""
    sent: list[tuple[dict, dict]] = []

    def fake_urlopen(request, timeout):
        sent.append((request.headers, request.data))
        if len(sent) == 1:
            raise OSError("connection refused")
        return _Answer()

    monkeypatch.setattr(bridge.urllib.request, "urlopen", fake_urlopen)
    monkeypatch.setattr(bridge.time, "sleep", lambda seconds: None)
    seconds = itertools.count(1_700_000_000, 2)  # the retry is signed seconds later
    monkeypatch.setattr(bridge.time, "time", lambda: next(seconds))
    sender = bridge.Sender("http://127.0.0.1:1/hooks/alarm/demo", ["s3cret"]).start()

    sender.send({"event_id": "e-1", "event": "fire_alarm"}, retry=True)
    sender.stop()

    assert len(sent) == 2
    first, second = ({k.lower(): v for k, v in h.items()} for h, _ in sent)
    assert sent[0][1] == sent[1][1]  # the same body, so the same event id
    signature = signing.SIGNATURE_HEADER.lower()
    assert first[signature] != second[signature]
    timestamp = signing.TIMESTAMP_HEADER.lower()
    expected = signing.signature("s3cret", second[timestamp], sent[1][1])
    assert second[signature] == f"v1={expected}"


class _Answer:
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    "source", ["serial:/dev/ttyUSB0", "gpio:seventeen", "gpiochip:/dev/gpiochip0", "tcp:1"]
)
def test_a_source_the_bridge_cannot_read_is_named(source):
    with pytest.raises(ValueError, match="unknown source"):
        bridge.open_source(source)


def test_a_serial_modem_status_line_is_read_as_the_contact():
    """pyserial's loopback port wires RTS to CTS, as the relay does when it closes."""
    contact = bridge.SerialContact("loop://", "CTS")
    assert contact.is_closed() is True  # the bridge asserts RTS: the loop is closed
    contact.port.rts = False
    assert contact.is_closed() is False


def test_a_sysfs_gpio_line_is_read_as_the_contact(tmp_path):
    line = tmp_path / "gpio17"
    line.mkdir()
    (line / "value").write_text("0\n")
    contact = bridge.SysfsGpioContact(17, root=str(tmp_path))
    assert contact.is_closed() is False
    (line / "value").write_text("1\n")
    assert contact.is_closed() is True
