"""Web Push to enrolled devices (VAPID, RFC 8291 aes128gcm via pywebpush): the alarm wakes a
locked phone. Runs after commit, in the background: a slow push service never delays the
alarm on connected screens, and a failure never undoes the command."""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, b64urlencode
from pywebpush import WebPushException, webpush

from . import commands
from .auth import command_line
from .notices.texts import default_texts

logger = logging.getLogger(__name__)
SENDERS = 20  # pushes in flight at once
ATTEMPTS = 3  # per subscription, for network errors and 5xx answers


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


class PushSender:
    def __init__(self, services):
        self.services = services
        key_path = Path(services.settings.db_path).resolve().parent / "vapid_private.pem"
        self.vapid = load_or_create_key(key_path)

    @property
    def public_key(self) -> str:
        """The applicationServerKey a browser subscribes with (uncompressed P-256, base64url)."""
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64urlencode(raw)

    def alarm_started(self, site: str, event: dict) -> None:
        """Push the alarm to every subscribed device of the site, in the background."""
        self.services.socketio.start_background_task(self.send_alarm, site, event)

    def send_alarm(self, site: str, event: dict) -> dict:
        """Send now; return how many pushes were delivered, expired and failed."""
        with self.services.store.reading() as db:
            rows = list(
                db.query(
                    """SELECT p.*, s.language FROM push_subscriptions p
                   JOIN staff s ON s.id = p.staff_id WHERE p.site = ?""",
                    [site],
                )
            )
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            outcomes = list(pool.map(lambda row: self._send(row, alarm_message(event, row)), rows))
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome == "expired":
                commands.execute(
                    self.services,
                    command_line(site),
                    site,
                    "drop_push_subscription",
                    {"subscription_id": row["id"]},
                )
        return {name: outcomes.count(name) for name in ("delivered", "expired", "failed")}

    def _send(self, row: dict, message: dict) -> str:
        subscription = {
            "endpoint": row["endpoint"],
            "keys": {"p256dh": row["p256dh"], "auth": row["auth"]},
        }
        endpoint = urlsplit(row["endpoint"])
        claims = {
            "sub": self.services.settings.vapid_subject,
            "aud": f"{endpoint.scheme}://{endpoint.netloc}",
        }
        for attempt in range(1, ATTEMPTS + 1):
            try:
                webpush(
                    subscription,
                    json.dumps(message),
                    vapid_private_key=self.vapid,
                    vapid_claims=claims,
                    ttl=self.services.settings.push_ttl_seconds,
                    headers={"Urgency": "high"},
                    timeout=10,
                )
                return "delivered"
            except WebPushException as error:
                status = error.response.status_code if error.response is not None else None
                if status in (404, 410):
                    return "expired"
                if status is not None and status < 500:
                    break  # the push service refused this message: retrying will not help
                logger.warning("push attempt %s to %s failed: %s", attempt, endpoint.netloc, error)
            except Exception as error:  # network errors: try again, then give up visibly
                logger.warning("push attempt %s to %s failed: %s", attempt, endpoint.netloc, error)
            self.services.socketio.sleep(0.5 * attempt)
        logger.error("push to %s failed after %s attempts", endpoint.netloc, ATTEMPTS)
        return "failed"


def alarm_message(event: dict, row: dict) -> dict:
    """What the service worker shows: in the staff member's own language."""
    texts = default_texts(row["language"] if row["language"] in ("fi", "sv", "en") else "fi")
    payload = event["payload"]
    titles = texts["drill"] if payload["drill"] else texts["alarm"]
    return {
        "type": event["type"],
        "site": event["site"],
        "seq": event["seq"],
        "incident_id": payload["incident_id"],
        "kind": payload["kind"],
        "drill": payload["drill"],
        "title": titles[payload["kind"]],
        "body": texts["push_body"],
        "url": "/#alarm",
    }
