"""Microsoft 365 through Microsoft Graph, app-only: a token by the client-credentials grant
(`{EXITNOW_MS_LOGIN_URL}/{tenant}/oauth2/v2.0/token`, scope `https://graph.microsoft.com/.default`),
then the mailbox's `automaticRepliesSetting` read with `GET` and set with `PATCH` of
`{EXITNOW_MS_GRAPH_URL}/v1.0/users/{mailbox}/mailboxSettings`. Needs the application
permission MailboxSettings.ReadWrite (limit it to the listed mailboxes with an Exchange
application access policy: docs/public-channels.md)."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

from ..email import AutoReply
from . import ProviderError, http_json, signing_in

SCOPE = "https://graph.microsoft.com/.default"


class Microsoft365:
    name = "microsoft365"

    def __init__(self, settings):
        self.settings = settings
        self._token: tuple[str, float] | None = None  # (access token, good until, monotonic)
        self._lock = threading.Lock()

    def token(self, fresh: bool = False) -> str:
        with self._lock:
            if fresh or self._token is None or self._token[1] <= time.monotonic():
                self._token = self._new_token()
            return self._token[0]

    def _new_token(self) -> tuple[str, float]:
        s = self.settings
        if not (s.ms_tenant_id and s.ms_client_id and s.ms_client_secret):
            raise ProviderError(
                None,
                "EXITNOW_MS_TENANT_ID, _CLIENT_ID and _CLIENT_SECRET are unset",
                during="configuration",
            )
        url = f"{s.ms_login_url.rstrip('/')}/{quote(s.ms_tenant_id)}/oauth2/v2.0/token"
        form = {
            "client_id": s.ms_client_id,
            "client_secret": s.ms_client_secret,
            "scope": SCOPE,
            "grant_type": "client_credentials",
        }
        _, answer = signing_in(lambda: http_json("POST", url, {}, form=form))
        # A minute early: a token that expires on the way is a 401 and a second round.
        lifetime = max(0, int(answer.get("expires_in", 3600)) - 60)
        return answer["access_token"], time.monotonic() + lifetime

    def _settings_url(self, mailbox: dict) -> str:
        base = self.settings.ms_graph_url.rstrip("/")
        return f"{base}/v1.0/users/{quote(mailbox['mailbox'])}/mailboxSettings"

    def _call(self, method: str, mailbox: dict, body: dict | None = None):
        url = self._settings_url(mailbox)
        try:
            return http_json(method, url, {"Authorization": f"Bearer {self.token()}"}, body)
        except ProviderError as failure:
            if failure.status != 401:
                raise
        # 401: the token expired or was revoked early; once more with a fresh one.
        return http_json(method, url, {"Authorization": f"Bearer {self.token(fresh=True)}"}, body)

    def read(self, mailbox: dict) -> dict:
        _, answer = self._call("GET", mailbox)
        return answer["automaticRepliesSetting"]

    def can_read(self, address: str) -> bool | None:
        """Whether the app can read this mailbox's settings: None when Graph cannot say (an
        application access policy that leaves a mailbox out answers 403)."""
        try:
            self.read({"mailbox": address})
        except ProviderError as failure:
            return False if failure.status in (403, 404) else None
        return True

    def write(self, mailbox: dict, reply: AutoReply) -> int | None:
        setting = {
            "status": "alwaysEnabled",
            "externalAudience": "all",
            "externalReplyMessage": reply.html,
            "internalReplyMessage": reply.html,
        }
        status, _ = self._call("PATCH", mailbox, {"automaticRepliesSetting": setting})
        return status

    def put_back(self, mailbox: dict, earlier: dict) -> int | None:
        status, _ = self._call("PATCH", mailbox, {"automaticRepliesSetting": earlier})
        return status
