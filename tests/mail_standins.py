"""Stand-ins on 127.0.0.1 for the mailbox providers, checking each request as the providers
document it and answering as they do: Microsoft's token endpoint and Graph's mailboxSettings,
Google's token endpoint (a service account's JWT, verified) and the Gmail API's vacation
settings. A test can make the next requests fail (`fail_next`), hold them (`hold`), or change
a mailbox as its owner would (`mailboxes`)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from helpers import StandIn

GRAPH_FIELDS = {
    "status",
    "externalAudience",
    "externalReplyMessage",
    "internalReplyMessage",
    "scheduledStartDateTime",
    "scheduledEndDateTime",
}
GMAIL_FIELDS = {
    "enableAutoReply",
    "responseSubject",
    "responseBodyPlainText",
    "responseBodyHtml",
    "restrictToContacts",
    "restrictToDomain",
    "startTime",
    "endTime",
}


class ProviderStandIn(StandIn):
    def __init__(self):
        super().__init__()
        self.mailboxes: dict[str, dict] = {}
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.failures: list[tuple[int, dict]] = []  # (status, headers) for the next requests
        self.release = threading.Event()
        self.release.set()
        self.problems: list[str] = []  # requests that were not as documented

    def fail_next(self, status: int, count: int = 1, **headers) -> None:
        self.failures += [(status, headers)] * count

    def hold(self) -> None:
        """Hold every settings request until `release.set()` (a provider that hangs)."""
        self.release.clear()

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def new_token(self) -> dict:
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        self.token_requests += 1
        return {"token_type": "Bearer", "expires_in": 3599, "access_token": token}

    def start(self, handler_for) -> str:
        self.url = self.serve(handler_for(self))
        return self.url


class Handler(BaseHTTPRequestHandler):
    standin: ProviderStandIn

    def reply(self, status: int, body=None, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name.replace("_", "-"), str(value))
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def problem(self, text: str) -> None:
        self.standin.problems.append(f"{self.command} {self.path}: {text}")
        self.reply(400, {"error": {"code": "BadRequest", "message": text}})

    def authorised(self) -> bool:
        given = self.headers.get("Authorization", "")
        if not given.startswith("Bearer ") or given[7:] not in self.standin.tokens:
            self.reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
            return False
        return True

    def failing(self) -> bool:
        self.standin.release.wait(30)
        if self.standin.failures:
            status, headers = self.standin.failures.pop(0)
            self.reply(status, {"error": {"code": "Failing", "message": "stand-in"}}, headers)
            return True
        return False

    def log_message(self, *args):
        pass


class Graph(ProviderStandIn):
    """login.microsoftonline.com and graph.microsoft.com, as documented."""

    def __init__(self, tenant: str, client_id: str, client_secret: str):
        super().__init__()
        self.tenant, self.client_id, self.client_secret = tenant, client_id, client_secret
        self.start(lambda standin: type("GraphHandler", (GraphHandler,), {"standin": standin}))

    def add_mailbox(self, address: str, setting: dict) -> None:
        self.mailboxes[address] = dict(setting)


class GraphHandler(Handler):
    def do_POST(self):
        standin = self.standin
        if self.path != f"/{standin.tenant}/oauth2/v2.0/token":
            return self.problem("no such token endpoint")
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return self.problem("the token request is a form")
        form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
        expected = {
            "client_id": standin.client_id,
            "client_secret": standin.client_secret,
            "scope": "https://graph.microsoft.com/.default",
            "grant_type": "client_credentials",
        }
        if form != expected:
            return self.reply(401, {"error": "invalid_client"})
        self.reply(200, standin.new_token())

    def _mailbox(self) -> str | None:
        prefix, suffix = "/v1.0/users/", "/mailboxSettings"
        if not (self.path.startswith(prefix) and self.path.endswith(suffix)):
            self.problem("not a mailboxSettings URL")
            return None
        address = unquote(self.path[len(prefix) : -len(suffix)])
        if address not in self.standin.mailboxes:
            self.reply(404, {"error": {"code": "ErrorItemNotFound"}})
            return None
        return address

    def do_GET(self):
        if self.failing() or not self.authorised():
            return
        address = self._mailbox()
        if address:
            self.standin.record({"method": "GET", "mailbox": address})
            self.reply(
                200,
                {
                    "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#users('{address}')/mailboxSettings",
                    "timeZone": "FLE Standard Time",
                    "automaticRepliesSetting": self.standin.mailboxes[address],
                },
            )

    def do_PATCH(self):
        if self.failing() or not self.authorised():
            return
        address = self._mailbox()
        if not address:
            return
        if self.headers.get("Content-Type") != "application/json":
            return self.problem("the body is JSON")
        body = json.loads(self.body())
        setting = body.get("automaticRepliesSetting")
        if set(body) != {"automaticRepliesSetting"} or not isinstance(setting, dict):
            return self.problem("only automaticRepliesSetting may change here")
        if not set(setting) <= GRAPH_FIELDS:
            return self.problem(f"unknown fields {sorted(set(setting) - GRAPH_FIELDS)}")
        if setting.get("status") not in (None, "disabled", "alwaysEnabled", "scheduled"):
            return self.problem("status")
        if setting.get("externalAudience") not in (None, "none", "contactsOnly", "all"):
            return self.problem("externalAudience")
        self.standin.record({"method": "PATCH", "mailbox": address, "body": setting})
        self.standin.mailboxes[address].update(setting)
        self.reply(200, {"automaticRepliesSetting": self.standin.mailboxes[address]})


class GmailApi(ProviderStandIn):
    """oauth2.googleapis.com (a service account's JWT-bearer grant) and the Gmail API."""

    def __init__(self, tmp_path):
        super().__init__()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.client_email = "exitnow@shop-project.iam.gserviceaccount.com"
        self.start(lambda standin: type("GmailHandler", (GmailHandler,), {"standin": standin}))
        self.key_file = tmp_path / "service-account.json"
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.key_file.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "client_email": self.client_email,
                    "private_key": pem,
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        self.delegated: dict[str, str] = {}  # token -> the mailbox it acts as

    def add_mailbox(self, address: str, vacation: dict) -> None:
        self.mailboxes[address] = dict(vacation)


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class GmailHandler(Handler):
    def do_POST(self):
        standin = self.standin
        if self.path != "/token":
            return self.problem("no such token endpoint")
        form = {k: v[0] for k, v in parse_qs(self.body().decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.reply(400, {"error": "unsupported_grant_type"})
        try:
            header, claims, signature = form["assertion"].split(".")
            standin.key.public_key().verify(
                _b64(signature),
                f"{header}.{claims}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
            claims = json.loads(_b64(claims))
        except Exception:
            return self.reply(400, {"error": "invalid_grant"})
        if json.loads(_b64(header)) != {"alg": "RS256", "typ": "JWT"} or (
            claims.get("iss") != standin.client_email
            or claims.get("aud") != f"{standin.url}/token"
            or claims.get("scope") != "https://www.googleapis.com/auth/gmail.settings.basic"
            or claims.get("sub") not in standin.mailboxes
        ):
            return self.reply(400, {"error": "invalid_grant"})
        answer = standin.new_token()
        standin.delegated[answer["access_token"]] = claims["sub"]
        self.reply(200, answer)

    def _mailbox(self) -> str | None:
        prefix, suffix = "/gmail/v1/users/", "/settings/vacation"
        if not (self.path.startswith(prefix) and self.path.endswith(suffix)):
            self.problem("not a vacation settings URL")
            return None
        address = unquote(self.path[len(prefix) : -len(suffix)])
        token = self.headers["Authorization"][7:]
        if self.standin.delegated.get(token) != address:
            self.reply(403, {"error": {"code": 403, "message": "Delegation denied"}})
            return None
        return address

    def do_GET(self):
        if self.failing() or not self.authorised():
            return
        address = self._mailbox()
        if address:
            self.standin.record({"method": "GET", "mailbox": address})
            self.reply(200, self.standin.mailboxes[address])

    def do_PUT(self):
        if self.failing() or not self.authorised():
            return
        address = self._mailbox()
        if not address:
            return
        body = json.loads(self.body())
        if not set(body) <= GMAIL_FIELDS:
            return self.problem(f"unknown fields {sorted(set(body) - GMAIL_FIELDS)}")
        if body.get("enableAutoReply") and not (
            body.get("responseSubject")
            or body.get("responseBodyPlainText")
            or body.get("responseBodyHtml")
        ):
            return self.problem("an auto-reply needs a subject or a body")
        self.standin.record({"method": "PUT", "mailbox": address, "body": body})
        self.standin.mailboxes[address] = body  # an update replaces the whole resource
        self.reply(200, body)
