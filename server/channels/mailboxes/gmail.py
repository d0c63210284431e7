"""Gmail through the Gmail API's vacation responder (`users.settings.getVacation` and
`updateVacation`: `GET`/`PUT {EXITNOW_GMAIL_API_URL}/gmail/v1/users/{mailbox}/settings/vacation`),
as a Google Workspace service account with domain-wide delegation: a token for each mailbox
by the JWT-bearer grant (RFC 7523) at the key file's `token_uri`, `sub` the mailbox, scope
`gmail.settings.basic`."""

from __future__ import annotations

import base64
import json
import threading
import time
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ..email import AutoReply
from . import ProviderError, http_json, signing_in

SCOPE = "https://www.googleapis.com/auth/gmail.settings.basic"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class Gmail:
    name = "gmail"

    def __init__(self, settings):
        self.settings = settings
        self._tokens: dict[str, tuple[str, float]] = {}  # mailbox -> (token, good until)
        self._lock = threading.Lock()

    def _key(self) -> dict:
        if not self.settings.gmail_key_file:
            raise ProviderError(None, "EXITNOW_GMAIL_KEY_FILE is unset", during="configuration")
        try:
            with open(self.settings.gmail_key_file, encoding="utf-8") as file:
                return json.load(file)
        except (OSError, ValueError) as failure:
            raise ProviderError(
                None, f"the service account key file: {failure}", during="configuration"
            ) from None

    def token(self, address: str, fresh: bool = False) -> str:
        with self._lock:
            kept = self._tokens.get(address)
            if fresh or kept is None or kept[1] <= time.monotonic():
                kept = self._tokens[address] = self._new_token(address)
            return kept[0]

    def _new_token(self, address: str) -> tuple[str, float]:
        key = self._key()
        now = int(time.time())
        claims = {
            "iss": key["client_email"],
            "sub": address,  # domain-wide delegation: act as the mailbox
            "scope": SCOPE,
            "aud": key["token_uri"],
            "iat": now,
            "exp": now + 3600,
        }
        form = {"grant_type": JWT_BEARER, "assertion": _signed_jwt(claims, key["private_key"])}
        _, answer = signing_in(lambda: http_json("POST", key["token_uri"], {}, form=form))
        lifetime = max(0, int(answer.get("expires_in", 3600)) - 60)
        return answer["access_token"], time.monotonic() + lifetime

    def _call(self, method: str, mailbox: dict, body: dict | None = None):
        address = mailbox["mailbox"]
        base = self.settings.gmail_api_url.rstrip("/")
        url = f"{base}/gmail/v1/users/{quote(address)}/settings/vacation"
        try:
            return http_json(method, url, {"Authorization": f"Bearer {self.token(address)}"}, body)
        except ProviderError as failure:
            if failure.status != 401:
                raise
        fresh = self.token(address, fresh=True)
        return http_json(method, url, {"Authorization": f"Bearer {fresh}"}, body)

    def read(self, mailbox: dict) -> dict:
        return self._call("GET", mailbox)[1]

    def write(self, mailbox: dict, reply: AutoReply) -> int | None:
        vacation = {
            "enableAutoReply": True,
            "responseSubject": reply.subject,
            "responseBodyPlainText": reply.text,
            "responseBodyHtml": reply.html,
            "restrictToContacts": False,
            "restrictToDomain": False,
        }
        return self._call("PUT", mailbox, vacation)[0]

    def put_back(self, mailbox: dict, earlier: dict) -> int | None:
        return self._call("PUT", mailbox, earlier)[0]


def _signed_jwt(claims: dict, private_key_pem: str) -> str:
    def part(value) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}"
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{part(signature)}"
