"""Text messages through Twilio: the escalation's SMS to staff (server/escalation.py) and the
alarm's SMS to visitors (server/visitors.py). Twilio's credentials come from the environment
(EXITNOW_TWILIO_*), and its API URL too, so that the tests reach a stand-in on 127.0.0.1."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

logger = logging.getLogger(__name__)


def sms_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from)


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
