"""Text messages through Twilio, sent after commit: the escalation's SMS to staff (who is due
is decided by server/rules/escalation.py) and the alarm's SMS to visitors on site (server/rules/visitors.py). Twilio's credentials come from the environment
(EXITNOW_TWILIO_*), and its API URL too, so that the tests reach a stand-in on 127.0.0.1."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..basics.names import DEFAULT_LANGUAGE, LANGUAGES
from ..basics.settings import secret_key_for, sms_configured
from ..channels.texts import default_texts
from ..rules.mustering import NEVER, VISITORS_ON_ROLL
from ..rules.visitors import link_path, link_token, visitor_asks

if TYPE_CHECKING:
    from ..basics.settings import Settings

logger = logging.getLogger(__name__)


class TwilioSms:
    """One Twilio client per process, made when the first message goes."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client = None

    def send(self, to: str, text: str) -> dict:
        """Send one SMS now; the answer as {outcome: accepted|failed, status, sid}."""
        try:
            message = self._twilio().messages.create(to=to, body=text, **self._sender())
        except Exception as error:  # the SMS service refused or could not be reached
            logger.error("an SMS failed: %s", error)
            return {"outcome": "failed", "status": getattr(error, "status", None), "sid": None}
        return {"outcome": "accepted", "status": 201, "sid": message.sid}

    def _sender(self) -> dict:
        sender = self.settings.twilio_from
        return {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}

    def _twilio(self):
        if self._client is None:
            from twilio.rest import Client

            client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token)
            client.api.base_url = self.settings.twilio_api_url.rstrip("/")
            self._client = client
        return self._client


class TextSender:
    """What the escalation's and the visitors' senders share: after a commit they send in the
    background through `sms` and have each answer logged by `record_outcome(site, outcome)`."""

    def __init__(self, settings: Settings, store, socketio, sms: TwilioSms, record_outcome):
        self.settings = settings
        self.store = store
        self.socketio = socketio
        self.sms = sms
        self.record_outcome = record_outcome


class SmsSender(TextSender):
    """Sends an escalation's SMS through Twilio after commit, in the background, and has the
    answer logged (`sms.sent`) by `record_outcome(site, outcome)`."""

    def after_commit(self, events: list[dict]) -> None:
        for event in events:
            if event["type"] == "alarm.escalated" and event["payload"]["channel"] == "sms":
                self.socketio.start_background_task(self.send, event)

    def send(self, event: dict) -> str:
        """Send one SMS now; log and return the outcome (accepted or failed)."""
        payload = event["payload"]
        to, text = self._message(event)
        answer = self.sms.send(to, text)
        result = {"incident_id": payload["incident_id"], "staff_id": payload["staff_id"]}
        result |= {"step": payload["step"], **answer}
        try:
            self.record_outcome(event["site"], result)
        except Exception:
            logger.exception("could not log the answer to an escalation SMS")
        return answer["outcome"]

    def _message(self, event: dict) -> tuple[str, str]:
        """The person's number, and the SMS in their language: the alarm's title, the site."""
        payload = event["payload"]
        with self.store.reading() as db:
            phone, language = db.execute(
                "SELECT phone, language FROM staff WHERE id = ?", [payload["staff_id"]]
            ).fetchone()
            site_name = db.execute(
                "SELECT name FROM sites WHERE id = ?", [event["site"]]
            ).fetchone()[0]
        texts = default_texts(language if language in LANGUAGES else DEFAULT_LANGUAGE)
        title = (texts["drill"] if payload["drill"] else texts["alarm"])[payload["kind"]]
        return phone, texts["sms_alarm"].format(title=title, site=site_name)


class VisitorTexts(TextSender):
    """After commit: the alarm's SMS to every visitor on site who gave a number, sent in the
    background; each answer is logged by `record_outcome(site, outcome)`."""

    def after_commit(self, events: list[dict]) -> None:
        if not sms_configured(self.settings):
            return
        for event in events:
            is_alarm = event["type"] == "incident.started"
            joined = event["type"] == "visitor.signed_in" and event["payload"].get("incident_id")
            if is_alarm or joined:
                self.socketio.start_background_task(self.send_for, event)

    def send_for(self, event: dict) -> int:
        """Text every visitor the event concerns; return how many messages went out."""
        messages = self._messages(event)
        for visitor_id, incident_id, to, text in messages:
            outcome = self.sms.send(to, text)
            outcome |= {"incident_id": incident_id, "visitor_id": visitor_id}
            try:
                self.record_outcome(event["site"], outcome)
            except Exception:
                logger.exception("could not log the answer to a visitor's SMS")
        return len(messages)

    def _messages(self, event: dict) -> list[tuple[int, int, str, str]]:
        site, payload = event["site"], event["payload"]
        secret = secret_key_for(self.settings)
        with self.store.reading() as db:
            incident = next(
                db.query(
                    "SELECT * FROM incidents WHERE id = ? AND ended_at IS NULL",
                    [payload["incident_id"]],
                ),
                None,
            )
            if incident is None:  # over already
                return []
            only = "AND v.id = :visitor_id" if event["type"] == "visitor.signed_in" else ""
            rows = list(
                db.query(
                    f"""SELECT v.*, z.assembly_point AS point_id, p.name AS point
                        FROM visitors v LEFT JOIN staff h ON h.id = v.host_staff_id
                        LEFT JOIN zones z ON z.site = v.site AND z.id = h.home_zone
                        LEFT JOIN assembly_points p ON p.site = v.site AND p.id = z.assembly_point
                        WHERE {VISITORS_ON_ROLL} AND v.left_at IS NULL AND v.phone IS NOT NULL
                        {only}""",
                    {
                        "site": site,
                        "since": incident["started_at"],
                        "until": NEVER,
                        "visitor_id": payload.get("visitor_id"),
                    },
                )
            )
            site_name = db.execute("SELECT name FROM sites WHERE id = ?", [site]).fetchone()[0]
            points = [
                r[0]
                for r in db.execute(
                    "SELECT name FROM assembly_points WHERE site = ? ORDER BY position, id", [site]
                )
            ]
        return [
            (
                row["id"],
                incident["id"],
                row["phone"],
                visitor_text(incident, row, site_name, points, self._link(site, secret, row)),
            )
            for row in rows
        ]

    def _link(self, site: str, secret: str, row: dict) -> str:
        token = link_token(secret, row["id"], row["link_nonce"])
        return self.settings.base_url + link_path(site, token)


def visitor_text(
    incident: dict, visitor: dict, site_name: str, points: list[str], link: str
) -> str:
    """The SMS in the visitor's language: what the kind asks, and their personal link."""
    language = visitor["language"] if visitor["language"] in LANGUAGES else DEFAULT_LANGUAGE
    texts = default_texts(language)
    words = texts["sms_visitor"]
    title = (texts["drill"] if incident["drill"] else texts["alarm"])[incident["kind"]]
    asks = visitor_asks(incident["kind"])
    if asks == "leave":
        where = visitor["point"] or ", ".join(points)
        action = words["leave_to"].format(places=where) if where else words["leave"]
    else:
        action = words[asks]
    return words["message"].format(title=title, site=site_name, action=action, link=link)
