"""Web Push to enrolled devices (VAPID; RFC 8291 aes128gcm bodies from push_encryption.py):
the alarm wakes a locked phone. Runs after commit, in the background: a slow push service never delays the
alarm on connected screens, and a failure never undoes the command.

Per push service (an origin: scheme, host and port, the JWT's `aud`) the sender keeps one
signed VAPID JWT until an hour before it expires and a pool of kept-alive connections, and
SENDERS pushes are in flight at once. Each message still gets its own ECDH key and salt, as
RFC 8291 requires."""

from __future__ import annotations

import functools
import http.client
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, b64urlencode

from ..basics.http import connector_for
from ..basics.names import DEFAULT_LANGUAGE, LANGUAGES
from ..basics.settings import secret_key_for
from ..basics.tasks import run_together
from ..channels.texts import default_texts
from ..rules.auth import Identity, csrf_token
from ..store.sql import marks
from .push_encryption import encrypt

if TYPE_CHECKING:
    from ..basics.settings import Settings
    from ..operations.metrics import Metrics
    from ..store.db import Store

logger = logging.getLogger(__name__)
SENDERS = 50  # pushes in flight at once, and kept-alive connections per push service
ATTEMPTS = 3  # per subscription, for network errors and 5xx answers
# RFC 8292 allows an exp at most 24 h ahead; 12 h (pywebpush's default) leaves room for a push
# service whose clock runs ahead of ours, and re-signing an hour early means no push ever
# carries a token that expires on the way.
TOKEN_LIFETIME_SECONDS = 12 * 3600
TOKEN_RENEWAL_SECONDS = 3600


def load_or_create_key(path: Path) -> Vapid02:
    """The server's VAPID key pair: generated on first start, kept (mode 0600) beside the db."""
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
        except FileExistsError:  # another process made it first: use theirs
            pass
    return Vapid02.from_pem(path.read_bytes())


class VapidTokens:
    """One signed VAPID JWT per push service, reused until an hour before it expires."""

    def __init__(self, key: Vapid02, subject: str, clock: Callable[[], float] = time.time):
        self.key = key
        self.subject = subject
        self.clock = clock
        self._signed: dict[str, tuple[str, int]] = {}  # audience -> (Authorization, exp)
        self._lock = threading.Lock()  # so the senders of one alarm wait for one signature

    def authorization(self, audience: str) -> str:
        """`vapid t=<JWT>,k=<public key>` (RFC 8292) for the push service at `audience`."""
        with self._lock:
            header, expires = self._signed.get(audience, ("", 0))
            now = self.clock()
            if expires - now < TOKEN_RENEWAL_SECONDS:
                expires = int(now) + TOKEN_LIFETIME_SECONDS
                claims = {"aud": audience, "sub": self.subject, "exp": expires}
                header = self.key.sign(claims)["Authorization"]
                self._signed[audience] = (header, expires)
            return header


class PushConnections:
    """Kept-alive connections to each push service, at most `size` in use at once for each."""

    def __init__(self, size: int):
        self.size = size
        self._services: dict[str, tuple[threading.BoundedSemaphore, list, Callable]] = {}
        self._lock = threading.Lock()

    def post(self, endpoint: str, audience: str, body: bytes, headers: dict) -> int:
        """POST one push; return the push service's status code (network errors raise)."""
        parts = urlsplit(endpoint)
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        turns, idle, connect = self._service(audience)
        with turns:  # more senders than connections wait here for one to come back
            try:
                connection, reused = idle.pop(), True
            except IndexError:
                connection, reused = connect(), False
            try:
                try:
                    status = exchange(connection, target, body, headers)
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    if not reused:
                        raise
                    # The push service closed this connection while it was idle: once more,
                    # on a new one (http.client reconnects a closed connection by itself).
                    connection.close()
                    status = exchange(connection, target, body, headers)
            except BaseException:
                connection.close()
                raise
            idle.append(connection)
            return status

    def _service(self, audience: str) -> tuple[threading.BoundedSemaphore, list, Callable]:
        with self._lock:
            if audience not in self._services:
                turns = threading.BoundedSemaphore(self.size)
                self._services[audience] = (turns, [], connector_for(audience))
            return self._services[audience]


def exchange(connection: http.client.HTTPConnection, target: str, body: bytes, headers) -> int:
    connection.request("POST", target, body=body, headers=headers)
    response = connection.getresponse()
    response.read()  # the whole answer, so the connection can carry the next push
    return response.status


# Who each push round goes to: every phone of the site, or the responders'.
TO_EVERYONE = "everyone"
TO_RESPONDERS = "responders"


@dataclass(frozen=True)
class PushRound:
    """One round of pushes after a commit: why (`purpose`, which the log's `push.sent` keeps
    with `context`), to whom (TO_EVERYONE, TO_RESPONDERS or a list of staff ids), the message each
    phone gets (made per subscription row, in its owner's language), and anyone left out."""

    purpose: str
    audience: str | tuple[int, ...]
    message: Callable[[dict], dict]
    context: dict = field(default_factory=dict)
    leave_out: int | None = None  # the person whose own request it is


class PushSender:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        socketio,
        metrics: Metrics,
        record_outcomes: Callable[[str, dict], None],
    ):
        """`record_outcomes(site, outcome)` runs the command that logs what the push service
        answered for each subscription (`push.sent`) and forgets the expired ones."""
        self.settings = settings
        self.store = store
        self.socketio = socketio
        self.metrics = metrics
        self.record_outcomes = record_outcomes
        key_path = Path(settings.db_path).resolve().parent / "vapid_private.pem"
        self.vapid = load_or_create_key(key_path)
        self.tokens = VapidTokens(self.vapid, settings.vapid_subject)
        self.connections = PushConnections(SENDERS)
        self.unusable: set[int] = set()  # subscriptions whose keys failed: warned about once

    @property
    def public_key(self) -> str:
        """The applicationServerKey a browser subscribes with (uncompressed P-256, base64url)."""
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64urlencode(raw)

    def follow(self, site: str, events: list[dict]) -> None:
        """After commit: the pushes a site's events call for, each round in the background
        (the alarm, the all-clear, a backup request, a test alarm, an escalation)."""
        for round_ in rounds_for(events, secret_key_for(self.settings)):
            self.socketio.start_background_task(self.send_round, site, round_)

    def send_alarm(self, site: str, event: dict) -> dict:
        """Push the alarm now; return how many pushes were delivered, expired and failed."""
        return self.send_round(site, alarm_round(event))

    def send_round(self, site: str, round_: PushRound) -> dict:
        """Send one round now; log each subscription's answer; return the counts."""
        rows = self._subscriptions(site, round_)
        answers = self._send_all(rows, round_.message)
        results = []
        for row, (outcome, status) in zip(rows, answers, strict=True):
            self.metrics.pushes.labels(METRIC_OF[outcome]).inc()
            results.append(
                {
                    "subscription_id": row["id"],
                    "staff_id": row["staff_id"],
                    "credential_id": row["credential_id"],
                    "outcome": outcome,
                    "status": status,
                }
            )
        if results:
            try:
                self.record_outcomes(
                    site, {"purpose": round_.purpose, **round_.context, "results": results}
                )
            except Exception:  # the pushes went out; only their record is missing
                logger.exception("could not log the answers to a %s push", round_.purpose)
        outcomes = [outcome for outcome, _status in answers]
        return {METRIC_OF[name]: outcomes.count(name) for name in METRIC_OF}

    def _subscriptions(self, site: str, round_: PushRound) -> list[dict]:
        where, args = "p.site = ?", [site]
        if round_.audience == TO_RESPONDERS:
            where += " AND s.role IN ('guard', 'duty_manager', 'admin')"
        elif round_.audience != TO_EVERYONE:
            where += f" AND p.staff_id IN ({marks(round_.audience)})"
            args += list(round_.audience)
        if round_.leave_out is not None:
            where += " AND p.staff_id != ?"
            args.append(round_.leave_out)
        with self.store.reading() as db:
            return list(
                db.query(
                    f"""SELECT p.*, s.language, s.role, s.name AS staff_name
                        FROM push_subscriptions p JOIN staff s ON s.id = p.staff_id
                        WHERE {where} ORDER BY p.id""",
                    args,
                )
            )

    def _send_all(self, rows: list[dict], message: Callable[[dict], dict]) -> list[tuple]:
        """SENDERS background tasks take the subscriptions in turn: each row's answer."""
        answers: list[tuple] = [("failed", None)] * len(rows)
        queue = iter(enumerate(rows))
        turn = threading.Lock()

        def sender() -> None:
            while True:
                with turn:
                    index, row = next(queue, (None, None))
                if row is None:
                    return
                answers[index] = self._send(row, message(row))

        run_together(self.socketio.start_background_task, [sender] * min(SENDERS, len(rows)))
        return answers

    def _send(self, row: dict, message: dict) -> tuple[str, int | None]:
        """(accepted, failed or expired; the push service's status, None without one)."""
        if row["id"] in self.unusable:
            return "failed", None
        try:
            body = encrypt(json.dumps(message).encode(), row["p256dh"], row["auth"])
        except (ValueError, TypeError) as error:
            # Keys no push can be encrypted to, stored before subscribe_push checked them:
            # one warning, then the subscription fails each round (the readiness list shows
            # it) until the phone subscribes again; the others are pushed all the same.
            self.unusable.add(row["id"])
            logger.warning("push subscription %s is unusable: %s", row["id"], error)
            return "failed", None
        return self._post(row["endpoint"], body)

    def _post(self, endpoint: str, body: bytes) -> tuple[str, int | None]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        status = None
        for attempt in range(1, ATTEMPTS + 1):
            headers = {
                "Authorization": self.tokens.authorization(audience),
                "Content-Encoding": "aes128gcm",
                "TTL": str(self.settings.push_ttl_seconds),
                "Urgency": "high",
            }
            try:
                status = self.connections.post(endpoint, audience, body, headers)
            except Exception as error:  # network errors: try again, then give up visibly
                logger.warning("push attempt %s to %s failed: %s", attempt, parts.netloc, error)
            else:
                if 200 <= status < 300:
                    return "accepted", status
                if status in (404, 410):
                    return "expired", status
                if status < 500:  # the push service refused this message: retrying will not help
                    logger.error("push to %s refused: HTTP %s", parts.netloc, status)
                    return "failed", status
                logger.warning(
                    "push attempt %s to %s failed: HTTP %s", attempt, parts.netloc, status
                )
            if attempt < ATTEMPTS:
                self.socketio.sleep(0.5 * attempt)
        logger.error("push to %s failed after %s attempts", parts.netloc, ATTEMPTS)
        return "failed", status


# The log's words for a push service's answer, and the metric's (exitnow_pushes_total).
METRIC_OF = {"accepted": "delivered", "expired": "expired", "failed": "failed"}


def rounds_for(events: list[dict], secret_key: str) -> list[PushRound]:
    """The push rounds one commit's events of a site call for; a round per escalation step."""
    rounds = []
    escalated: dict[tuple, list[dict]] = {}
    for event in events:
        type_, payload = event["type"], event["payload"]
        if type_ == "incident.started":
            rounds.append(alarm_round(event))
        elif type_ == "incident.ended":
            message = functools.partial(all_clear_message, event)
            rounds.append(PushRound("all_clear", TO_EVERYONE, message, _of(payload, "incident_id")))
        elif type_ == "pre_alarm.started":  # the panel's countdown: those who lead answer it
            message = functools.partial(pre_alarm_message, event)
            rounds.append(
                PushRound("pre_alarm", TO_RESPONDERS, message, _of(payload, "pre_alarm_id"))
            )
        elif type_ == "backup.requested":
            message = functools.partial(backup_message, event)
            context = _of(payload, "backup_id")
            rounds.append(PushRound("backup", TO_RESPONDERS, message, context, payload["staff_id"]))
        elif type_ == "test_alarm.sent" and payload["staff_ids"]:
            message = functools.partial(test_message, event, secret_key)
            staff = tuple(payload["staff_ids"])
            rounds.append(PushRound("test", staff, message, _of(payload, "test_id")))
        elif type_ == "alarm.escalated" and payload["channel"] == "push":
            escalated.setdefault((payload["incident_id"], payload["step"]), []).append(event)
    for (incident_id, step), of_step in escalated.items():
        message = functools.partial(alarm_message, of_step[0])
        staff = tuple(event["payload"]["staff_id"] for event in of_step)
        context = {"incident_id": incident_id, "step": step}
        rounds.append(PushRound("escalation", staff, message, context))
    return rounds


def alarm_round(event: dict) -> PushRound:
    message = functools.partial(alarm_message, event)
    return PushRound("alarm", TO_EVERYONE, message, _of(event["payload"], "incident_id"))


def _of(payload: dict, *names: str) -> dict:
    return {name: payload[name] for name in names}


def texts_for(row: dict) -> dict:
    return default_texts(row["language"] if row["language"] in LANGUAGES else DEFAULT_LANGUAGE)


def alarm_message(event: dict, row: dict) -> dict:
    """What the service worker shows: in the staff member's own language. An escalation's
    event carries the incident's kind and drill too, and repeats the alarm."""
    texts = texts_for(row)
    payload = event["payload"]
    titles = texts["drill"] if payload["drill"] else texts["alarm"]
    return {
        "type": "incident.started",
        "site": event["site"],
        "seq": event["seq"],
        "incident_id": payload["incident_id"],
        "kind": payload["kind"],
        "drill": payload["drill"],
        "title": titles[payload["kind"]],
        "body": texts["push_body"],
        "url": "/#alarm",
    }


def notification(event: dict, title: str, body: str, **more) -> dict:
    """What the service worker shows for an event: its title and body, and the app's page."""
    return {
        "type": event["type"],
        "site": event["site"],
        "seq": event["seq"],
        **more,
        "title": title,
        "body": body,
        "url": "/",
    }


def all_clear_message(event: dict, row: dict) -> dict:
    """The all-clear replaces the alarm's notification (the same tag in sw.js)."""
    texts = texts_for(row)["all_clear_push"]
    incident_id = event["payload"]["incident_id"]
    return notification(event, texts["title"], texts["body"], incident_id=incident_id)


def backup_message(event: dict, row: dict) -> dict:
    payload = event["payload"]
    texts = texts_for(row)["backup_push"]
    title = texts["title"].format(name=payload["name"])
    body = texts["body"].format(location=payload["location"])
    return notification(event, title, body, backup_id=payload["backup_id"])


def pre_alarm_message(event: dict, row: dict) -> dict:
    payload = event["payload"]
    texts = texts_for(row)["pre_alarm_push"]
    body = texts["body"].format(seconds=payload["countdown_seconds"])
    return notification(event, texts["title"], body, pre_alarm_id=payload["pre_alarm_id"])


def test_message(event: dict, secret_key: str, row: dict) -> dict:
    """A test alarm: silent to the site, shown on the phone, and answered by its service
    worker. The answer is an ordinary write signed in by the phone's cookie, so the push
    carries the device's CSRF token (encrypted to that phone alone, RFC 8291)."""
    texts = texts_for(row)["test_push"]
    device = Identity(event["site"], row["role"], row["staff_name"], row["staff_id"])
    device = replace(device, credential_id=row["credential_id"])
    test_id = event["payload"]["test_id"]
    return {
        "type": event["type"],
        "site": event["site"],
        "test_id": test_id,
        "title": texts["title"],
        "body": texts["body"],
        "answer": f"/api/sites/{event['site']}/test-alarms/{test_id}/answer",
        "csrf_token": csrf_token(secret_key, device),
        "url": "/",
    }
