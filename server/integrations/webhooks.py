"""Outbound webhooks: each subscription (server/commands/webhooks.py) gets the site's events it
asked for, as signed JSON (server/basics/signing.py), in the order of the log, one delivery at a time.

The deliveries follow the log, not the publisher: a subscription's next event is the first
matching one after the last it was given, so nothing committed is ever skipped, whether the
server was down, restarted or killed in between. `webhook_deliveries` is the queue and its log
(working memory, not state); each attempt is a row of `webhook_attempts`. A delivery that
fails waits EXITNOW_WEBHOOK_RETRY_SECONDS, twice that, ... up to
EXITNOW_WEBHOOK_RETRY_MAX_SECONDS between tries, and is given up
EXITNOW_WEBHOOK_GIVE_UP_HOURS after its event (the next one then goes). Every worker runs the
loop; a worker takes a delivery with a lease (written in the one transaction that claims it),
so two workers never send one at once, and a killed worker's lease runs out. Each delivery
carries the event's id (`<site>:<seq>`): one sent again after a crash between the receiver's
answer and its record has the same id, for the receiver to see twice.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from urllib.parse import urlsplit

from ..basics import signing
from ..basics.clock import iso, now_ms, parse_iso
from ..basics.http import connector_for
from ..basics.names import DEFAULT_LANGUAGE, LANGUAGES
from ..basics.tasks import kept_alive, run_together
from ..channels.texts import default_texts, moment_words
from ..commands.webhooks import unseal_for
from ..evidence.checkpoints import latest_note
from ..store import log, personal
from ..store.sql import marks
from ..store.state import event_message

logger = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # how soon a new event leaves, and how often a retry is looked for
LEASE_MS = 30_000  # longer than one attempt may take (connect and answer: 2 x 10 s)
LONGEST_ERROR = 300
USER_AGENT = "ExitNow-Webhooks/1"


class WebhookDeliveries:
    def __init__(self):
        self.worker = uuid.uuid4().hex[:16]

    def run_forever(self, services) -> None:
        """The worker's loop (started by server/timers.py in every server process)."""
        while True:
            with kept_alive(services.store, "delivering webhooks"):
                while self.deliver_due(services):  # at once again while there is work
                    pass
            services.socketio.sleep(POLL_SECONDS)

    def deliver_due(self, services) -> int:
        """Claim every delivery due now (one per subscription), send them; how many went."""
        if not self._anything_due(services):
            return 0
        claimed = services.writer.submit(lambda db: (self._claim(services, db), []))
        attempts = [functools.partial(self._attempt, services, claim) for claim in claimed]
        run_together(services.socketio.start_background_task, attempts)
        return len(claimed)

    def _anything_due(self, services) -> bool:
        """A read first: a site's crowd of receipts must not cost a write each second."""
        now = now_ms()
        with services.store.reading() as db:
            for hook in db.query("SELECT * FROM webhooks WHERE removed_at IS NULL"):
                pending = _pending(db, hook["id"])
                if pending is not None:
                    if pending["next_at"] <= now and (pending["lease_until"] or 0) < now:
                        return True
                elif _next_event(db, hook) is not None:
                    return True
        return False

    def _claim(self, services, db) -> list[dict]:
        now = now_ms()
        claimed = []
        for hook in list(db.query("SELECT * FROM webhooks WHERE removed_at IS NULL")):
            pending = _pending(db, hook["id"])
            if pending is None:
                event = _next_event(db, hook)
                if event is None:
                    continue
                db.execute(
                    "INSERT INTO webhook_deliveries (webhook_id, site, seq, event_type, state, "
                    "next_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                    [hook["id"], hook["site"], event["seq"], event["type"], now, now],
                )
                pending = _pending(db, hook["id"])
            if pending["next_at"] > now or (pending["lease_until"] or 0) >= now:
                continue
            db.execute(
                "UPDATE webhook_deliveries SET leased_by = ?, lease_until = ? WHERE id = ?",
                [self.worker, now + LEASE_MS, pending["id"]],
            )
            event = log.row_to_entry(
                next(
                    db.query(
                        "SELECT * FROM events WHERE site = ? AND seq = ?",
                        [hook["site"], pending["seq"]],
                    )
                )
            )
            # Roles and counts, not people, unless the subscription asked for names.
            if hook["include_names"]:
                event = personal.Reader(db).entry(event)
            else:
                event = {**event, "payload": personal.withheld(event["type"], event["payload"])}
            site = next(db.query("SELECT * FROM sites WHERE id = ?", [hook["site"]]))
            claimed.append(
                {
                    "delivery": pending,
                    "hook": hook,
                    "event": event,
                    "site": site,
                    "checkpoint": latest_note(db, hook["site"]),
                }
            )
        return claimed

    def _attempt(self, services, claim: dict) -> None:
        delivery, hook = claim["delivery"], claim["hook"]
        started = time.monotonic()
        status, error = None, None
        try:
            settings = services.settings
            url = unseal_for(settings, hook["site"], hook["id"], "url", hook["url_sealed"])
            secret = unseal_for(settings, hook["site"], hook["id"], "secret", hook["secret_sealed"])
            body = body_for(hook["format"], claim["event"], claim["site"], claim["checkpoint"])
            body = json.dumps(body).encode()
            status = post(url, body, headers_for(claim["event"], secret, body))
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as failure:  # refused, timed out, unsealable: the next try may work
            error = f"{type(failure).__name__}: {failure}"[:LONGEST_ERROR]
        took = int((time.monotonic() - started) * 1000)
        if error:
            logger.warning("webhook %s delivery %s failed: %s", hook["id"], delivery["id"], error)
        services.writer.submit(
            lambda db: (self._record(services, db, claim, status, error, took), [])
        )

    def _record(self, services, db, claim: dict, status, error, took: int) -> None:
        delivery, event = claim["delivery"], claim["event"]
        now = now_ms()
        attempt = delivery["attempts"] + 1
        db.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, milliseconds) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [delivery["id"], attempt, now, status, error, took],
        )
        settings = services.settings
        if error is None:
            state, next_at = "delivered", now
        elif now - event["ts"] > settings.webhook_give_up_hours * 3_600_000:
            state, next_at = "gave_up", now
        else:
            wait = settings.webhook_retry_seconds * 2 ** (attempt - 1)
            state, next_at = (
                "pending",
                now + int(min(wait, settings.webhook_retry_max_seconds) * 1000),
            )
        db.execute(
            "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
            "last_error = ?, leased_by = NULL, lease_until = NULL, "
            "delivered_at = CASE WHEN ? = 'delivered' THEN ? END WHERE id = ?",
            [state, attempt, next_at, status, error, state, now, delivery["id"]],
        )


def _pending(db, webhook_id: int) -> dict | None:
    return next(
        db.query(
            "SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND state = 'pending'",
            [webhook_id],
        ),
        None,
    )


def _next_event(db, hook: dict) -> dict | None:
    """The first event after the subscription's last delivery (or its start) that it hears:
    one of its types, or a test meant for it."""
    last = db.execute(
        "SELECT MAX(seq) FROM webhook_deliveries WHERE webhook_id = ?", [hook["id"]]
    ).fetchone()[0]
    types = json.loads(hook["events"])
    placeholders = marks(types)
    return next(
        db.query(
            f"""SELECT seq, type FROM events WHERE site = ? AND seq > ?
                AND (type IN ({placeholders}) OR (type = 'webhook.tested'
                     AND CAST(json_extract(payload, '$.webhook_id') AS BIGINT) = ?))
                ORDER BY seq LIMIT 1""",
            [hook["site"], last or hook["created_seq"], *types, hook["id"]],
        ),
        None,
    )


def headers_for(event: dict, secret: str, body: bytes) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_ID_HEADER: event_id(event),
        **signing.sign([secret], body, int(time.time())),
    }


def event_id(event: dict) -> str:
    return f"{event['site']}:{event['seq']}"


def body_for(format_: str, event: dict, site: dict, checkpoint: str | None = None) -> dict:
    """The JSON a subscription gets: the event as the API shows it, with a sentence for people
    (`text`, in the site's first language) and the site's newest signed checkpoint (a witness
    outside our walls: server/evidence/checkpoints.py); Slack's and Teams' incoming webhooks take only
    their own shapes, made from that sentence."""
    row = event
    text = sentence(row, site)
    if format_ == "slack":
        return {"text": text}
    if format_ == "teams":
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": text, "wrap": True}],
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }
    message = event_message(row)
    return {
        "id": event_id(event),
        "site": event["site"],
        **message,
        "test": event["type"] == "webhook.tested",
        "text": text,
        "checkpoint": checkpoint,
    }


def sentence(event: dict, site: dict) -> str:
    """One sentence about the event in the site's first language (server/texts: webhook_text)."""
    languages = json.loads(site["languages"])
    lang = languages[0] if languages and languages[0] in LANGUAGES else DEFAULT_LANGUAGE
    texts = default_texts(lang)
    wording, payload = texts["webhook_text"], event["payload"]
    values = {"site": site["name"], "type": event["type"]}
    values["time"] = moment_words(event["ts"], site["timezone"], texts, event["ts"])
    key = event["type"]
    if key == "incident.started":
        titles = texts["drill"] if payload.get("drill") else texts["alarm"]
        values["alarm"] = titles.get(payload.get("kind"), payload.get("kind"))
    elif key == "incident.updated" and payload.get("eta"):
        key = "incident.updated_eta"
        values["eta"] = moment_words(
            parse_iso(payload["eta"]), site["timezone"], texts, event["ts"]
        )
    elif key == "notice.switched" and payload.get("channel") == "email":
        key = "notice.switched.email." + (
            "closed" if payload.get("reply") == "ours" else "restored"
        )
        values["mailbox"] = payload.get("mailbox")
    elif key == "notice.switched":
        key = f"notice.switched.{payload.get('state')}"
    elif key in ("notice.switch_failed", "notice.reply_kept"):
        answer = payload.get("answer") or {}
        values["mailbox"] = payload.get("mailbox")
        values["status"] = answer.get("status") or answer.get("error") or "?"
    return wording.get(key, wording["other"]).format(**values)


def post(url: str, body: bytes, headers: dict) -> int:
    """POST once (no redirects followed: a 3xx is a failure to look at); the status."""
    parts = urlsplit(url)
    connection = connector_for(f"{parts.scheme}://{parts.netloc}")()
    target = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        connection.close()


def delivery_view(row: dict, attempts: list[dict]) -> dict:
    return {
        "id": row["id"],
        "webhook_id": row["webhook_id"],
        "event_id": f"{row['site']}:{row['seq']}",
        "seq": row["seq"],
        "type": row["event_type"],
        "state": row["state"],
        "attempts": [
            {
                "at": iso(a["at"]),
                "status": a["status"],
                "error": a["error"],
                "milliseconds": a["milliseconds"],
            }
            for a in attempts
        ],
        "next_at": iso(row["next_at"]) if row["state"] == "pending" else None,
        "created_at": iso(row["created_at"]),
        "delivered_at": iso(row["delivered_at"]),
    }
