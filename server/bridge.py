"""`python -m server.bridge`: a fire-alarm panel that has only a relay (a dry contact) becomes a
signed webhook. The bridge watches the contact, sends `fire_alarm` (or what --on-close says)
when it closes, and a heartbeat every --heartbeat seconds, so the server can say "alarm panel
link down" when the bridge, its box or its network stops (docs/integrations.md, "The fire-alarm panel").

Contact sources (--source):
  serial:/dev/ttyUSB0:CTS   a USB-serial adapter's modem-status input (CTS, DSR, RI or CD); the
                            bridge asserts RTS and DTR, so the relay wires RTS (or DTR) to it
  gpio:17                   a Linux GPIO line through sysfs (/sys/class/gpio/gpio17/value,
                            exported beforehand); read only
  gpiochip:/dev/gpiochip0:17  a GPIO line through the character device (libgpiod 2's Python
                            bindings, `pip install gpiod`); requested as an input, read only
  file:/path                a simulation: the file holds 1 (closed) or 0 (open); missing is open
  stdin                     a simulation: lines "close" / "open" (or 1 / 0)

Only the standard library and server.signing are needed (pyserial or gpiod for those sources);
nothing of the server runs here.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .basics.signing import sign
from .rules.alarm_panel import SIGNALS

logger = logging.getLogger("exitnow.bridge")

MODEM_LINES = {"CTS": "cts", "DSR": "dsr", "RI": "ri", "CD": "cd"}
LONGEST_RETRY_SECONDS = 30


# --- contact sources: is_closed() -> bool ----------------------------------------------------


class FileContact:
    """A simulated contact: a file holding 1 (closed) or 0 (open)."""

    def __init__(self, path: str):
        self.path = Path(path)

    def is_closed(self) -> bool:
        try:
            return self.path.read_text().strip().lower() in ("1", "close", "closed")
        except FileNotFoundError:
            return False


class StdinContact:
    """A simulated contact driven by lines on standard input: close / open (or 1 / 0)."""

    def __init__(self, stream=None):
        self.closed = False
        self.ended = threading.Event()
        threading.Thread(target=self._read, args=(stream or sys.stdin,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            word = line.strip().lower()
            if word in ("close", "closed", "1"):
                self.closed = True
            elif word in ("open", "0"):
                self.closed = False
        self.ended.set()

    def is_closed(self) -> bool:
        return self.closed


class SerialContact:
    """A modem-status input of a serial port (pyserial); RTS and DTR are held asserted to feed
    the relay's loop."""

    def __init__(self, port: str, line: str):
        import serial  # only when this source is used

        if line.upper() not in MODEM_LINES:
            raise ValueError(f"the line must be one of {', '.join(MODEM_LINES)}")
        self.attribute = MODEM_LINES[line.upper()]
        self.port = serial.serial_for_url(port)  # a device path, or a pyserial URL
        self.port.rts = True
        self.port.dtr = True

    def is_closed(self) -> bool:
        return bool(getattr(self.port, self.attribute))


class SysfsGpioContact:
    """A GPIO line exported in sysfs; 1 is closed (--active-low inverts it)."""

    def __init__(self, number: int, root: str = "/sys/class/gpio"):
        self.path = Path(root) / f"gpio{number}" / "value"
        if not self.path.exists():
            raise ValueError(f"{self.path} does not exist: export GPIO {number} first")

    def is_closed(self) -> bool:
        return self.path.read_text().strip() == "1"


class GpiodContact:
    """A GPIO line through the character device with libgpiod 2's bindings, as an input."""

    def __init__(self, chip: str, offset: int):
        import gpiod  # only when this source is used
        from gpiod.line import Direction, Value

        self.offset = offset
        self.active = Value.ACTIVE
        settings = gpiod.LineSettings(direction=Direction.INPUT)
        self.request = gpiod.request_lines(
            chip, consumer="exitnow-bridge", config={offset: settings}
        )

    def is_closed(self) -> bool:
        return self.request.get_value(self.offset) == self.active


def open_source(text: str):
    """A contact source from its --source text (see the module's docstring)."""
    kind, _, rest = text.partition(":")
    if kind == "file" and rest:
        return FileContact(rest)
    if kind == "stdin" and not rest:
        return StdinContact()
    if kind == "serial" and rest.count(":") >= 1:
        port, _, line = rest.rpartition(":")
        return SerialContact(port, line)
    if kind == "gpio" and rest.isdigit():
        return SysfsGpioContact(int(rest))
    if kind == "gpiochip" and rest.rpartition(":")[2].isdigit():
        chip, _, offset = rest.rpartition(":")
        return GpiodContact(chip, int(offset))
    raise ValueError(
        f"unknown source {text!r}: serial:PORT:LINE, gpio:N, gpiochip:DEVICE:N, file:PATH or stdin"
    )


# --- sending ---------------------------------------------------------------------------------


@dataclass
class Delivery:
    body: dict
    retry: bool  # a signal is sent until the server has it; a heartbeat only once


class Sender:
    """Posts signed deliveries in order from its own thread. A signal keeps its event id over
    every retry (the server does it once) and is signed anew each time (a replay is refused)."""

    def __init__(self, url: str, secrets: list[str], timeout: float = 10):
        self.url = url
        self.secrets = secrets
        self.timeout = timeout
        self.queue: queue.Queue[Delivery | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Sender:
        self.thread.start()
        return self

    def send(self, body: dict, retry: bool) -> None:
        self.queue.put(Delivery(body, retry))

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=self.timeout + 1)

    def _run(self) -> None:
        while (delivery := self.queue.get()) is not None:
            wait = 1.0
            while not self.post(delivery.body) and delivery.retry:
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_RETRY_SECONDS)

    def post(self, body: dict) -> bool:
        """True when the server has it (or refused it for good: retrying cannot help)."""
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **sign(self.secrets, raw, int(time.time()))}
        request = urllib.request.Request(self.url, data=raw, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                logger.info("%s %s: %s", body["event"], body["event_id"], answer.status)
                return True
        except urllib.error.HTTPError as refused:
            detail = refused.read().decode(errors="replace")
            if refused.code == 409 and "replayed-delivery" in detail:
                return True  # an earlier attempt got there
            logger.error(
                "%s %s refused: %s %s", body["event"], body["event_id"], refused.code, detail
            )
            # 401 may be a clock set wrong or a secret not yet rotated in: worth retrying
            return refused.code < 500 and refused.code not in (401, 408, 429)
        except OSError as error:
            logger.warning("%s %s not delivered: %s", body["event"], body["event_id"], error)
            return False


# --- watching ----------------------------------------------------------------------------------


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Bridge:
    source: object
    sender: Sender
    on_close: str = "fire_alarm"
    on_open: str | None = None
    heartbeat_seconds: int = 60
    poll_seconds: float = 0.05
    debounce_seconds: float = 0.2
    active_low: bool = False
    detail: str | None = None
    name: str = "bridge"

    def signal(self, event: str) -> None:
        body = {"event_id": f"{self.name}-{uuid.uuid4()}", "event": event, "sent_at": now_iso()}
        if self.detail:
            body["detail"] = self.detail
        self.sender.send(body, retry=True)

    def heartbeat(self) -> None:
        body = {
            "event_id": f"{self.name}-heartbeat-{uuid.uuid4()}",
            "event": "heartbeat",
            "heartbeat_seconds": self.heartbeat_seconds,
            "sent_at": now_iso(),
        }
        self.sender.send(body, retry=False)

    def closed(self) -> bool:
        return self.source.is_closed() != self.active_low

    def run(self, stop: threading.Event | None = None) -> None:
        """Watch until `stop` is set: a change that lasts `debounce_seconds` is a close or an
        open; the state at start is the contact's normal one (a closed contact at start is
        sent too: the panel may be in alarm while the bridge restarts)."""
        stop = stop or threading.Event()
        state = False
        changed_at: float | None = None
        next_heartbeat = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_heartbeat:
                self.heartbeat()
                next_heartbeat = now + self.heartbeat_seconds
            reading = self.closed()
            if reading == state:
                changed_at = None
            elif changed_at is None:
                changed_at = now
            elif now - changed_at >= self.debounce_seconds:
                state, changed_at = reading, None
                event = self.on_close if state else self.on_open
                logger.info("contact %s", "closed" if state else "opened")
                if event:
                    self.signal(event)
            stop.wait(self.poll_seconds)


def read_secrets(args) -> list[str]:
    """The secret(s) from --secret-file (one a line: two during a rotation) or $EXITNOW_PANEL_SECRET
    (comma-separated)."""
    if args.secret_file:
        text = Path(args.secret_file).read_text()
        secrets = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        secrets = [s.strip() for s in os.environ.get("EXITNOW_PANEL_SECRET", "").split(",")]
    secrets = [s for s in secrets if s]
    if not secrets:
        raise SystemExit("give the panel's secret: --secret-file FILE or $EXITNOW_PANEL_SECRET")
    return secrets


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m server.bridge",
        description="Watch an alarm panel's dry contact; send Exit Now's signed webhook.",
    )
    parser.add_argument("--url", required=True, help="the server, e.g. https://exitnow.example")
    parser.add_argument("--site", required=True, help="the site id")
    parser.add_argument(
        "--source",
        required=True,
        help="serial:PORT:LINE, gpio:N, gpiochip:DEVICE:N, file:PATH or stdin",
    )
    parser.add_argument(
        "--secret-file", help="the panel secret (one a line); else $EXITNOW_PANEL_SECRET"
    )
    parser.add_argument("--on-close", default="fire_alarm", choices=SIGNALS)
    parser.add_argument("--on-open", default=None, choices=SIGNALS, help="default: nothing")
    parser.add_argument("--heartbeat", type=int, default=60, help="seconds between heartbeats")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between readings")
    parser.add_argument("--debounce", type=float, default=0.2, help="seconds a change must last")
    parser.add_argument("--active-low", action="store_true", help="an open contact is the alarm")
    parser.add_argument("--detail", help="text sent with each signal, e.g. 'Panel A, relay 1'")
    args = parser.parse_args(argv)
    if args.heartbeat < 1:
        parser.error("--heartbeat must be at least 1 second")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        source = open_source(args.source)
    except (ValueError, OSError, ImportError) as error:
        raise SystemExit(f"--source {args.source}: {error}") from None
    url = f"{args.url.rstrip('/')}/hooks/alarm/{args.site}"
    sender = Sender(url, read_secrets(args)).start()
    bridge = Bridge(
        source,
        sender,
        on_close=args.on_close,
        on_open=args.on_open,
        heartbeat_seconds=args.heartbeat,
        poll_seconds=args.poll,
        debounce_seconds=args.debounce,
        active_low=args.active_low,
        detail=args.detail,
        name=f"bridge-{args.site}",
    )
    logger.info("watching %s for %s", args.source, url)
    try:
        bridge.run()
    except KeyboardInterrupt:
        pass
    finally:
        sender.stop()


if __name__ == "__main__":
    main()
