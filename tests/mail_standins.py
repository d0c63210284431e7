"""Stand-ins on 127.0.0.1 for the mailbox providers, checking each request as the providers
document it and answering as they do: Microsoft's token endpoint and Graph's mailboxSettings,
Google's token endpoint (a service account's JWT, verified) and the Gmail API's vacation
settings. A test can make the next requests fail (`fail_next`), hold them (`hold`), or change
a mailbox as its owner would (`mailboxes`)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness import StandIn

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
        self.policy: set[str] | None = None  # no application access policy: every mailbox
        self.start(lambda standin: type("GraphHandler", (GraphHandler,), {"standin": standin}))

    def add_mailbox(self, address: str, setting: dict) -> None:
        self.mailboxes[address] = dict(setting)

    def limit_to(self, *addresses: str) -> None:
        """An Exchange application access policy (RestrictAccess) with only these mailboxes:
        any other answers 403 as Exchange does."""
        self.policy = set(addresses)

    def settings_for(self, settings):
        """The app's settings pointed at this stand-in, with its tenant and client."""
        return settings.with_changes(
            ms_login_url=self.url,
            ms_graph_url=self.url,
            ms_tenant_id=self.tenant,
            ms_client_id=self.client_id,
            ms_client_secret=self.client_secret,
        )


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
        if self.standin.policy is not None and address not in self.standin.policy:
            message = "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings."
            self.reply(403, {"error": {"code": "ErrorAccessDenied", "message": message}})
            return None
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


class Dovecot:
    """Debian's Dovecot with Pigeonhole on 127.0.0.1 (tests/run.sh installs it): ManageSieve
    and LMTP on free ports, one mailbox with a password, vacation replies submitted over SMTP
    to `smtp_port` (a sink the test runs). `start()`, then `stop()` ends it by its pid."""

    def __init__(self, smtp_port: int, mailbox: str, password: str):
        from harness import free_port

        # Its own folder under /tmp: Dovecot's unprivileged processes must reach it, and
        # pytest's folders are its owner's only.
        folder = Path(tempfile.mkdtemp(prefix="exitnow-dovecot-"))
        folder.chmod(0o755)
        self.folder, self.mailbox, self.password = folder, mailbox, password
        self.sieve_port, self.lmtp_port = free_port(), free_port()
        (folder / "mail").mkdir(parents=True)
        (folder / "mail").chmod(0o777)
        (folder / "users").write_text(f"{mailbox}:{{PLAIN}}{password}\n")
        is_root = os.geteuid() == 0
        user = "dovecot" if is_root else pwd.getpwuid(os.getuid()).pw_name
        unprivileged = (
            "" if is_root else (f"default_internal_user = {user}\ndefault_login_user = {user}\n")
        )
        (folder / "dovecot.conf").write_text(
            DOVECOT_CONF.format(
                folder=folder,
                sieve_port=self.sieve_port,
                lmtp_port=self.lmtp_port,
                smtp_port=smtp_port,
                user=user,
            )
            + unprivileged
        )
        self.pid: int | None = None

    def start(self) -> Dovecot:
        from harness import eventually

        subprocess.run(["/usr/sbin/dovecot", "-c", str(self.folder / "dovecot.conf")], check=True)
        pid_file = self.folder / "run" / "master.pid"
        self.pid = int(eventually(lambda: pid_file.exists() and pid_file.read_text().strip()))

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.sieve_port), timeout=1).close()
                return True
            except OSError:
                return False

        eventually(listening)
        return self

    def stop(self) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            self.pid = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def deliver(self, sender: str, subject: str) -> None:
        """A customer's message to the mailbox, over LMTP (as the MTA hands it to Dovecot)."""
        message = (
            f"From: {sender}\r\nTo: {self.mailbox}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{secrets.token_hex(8)}@example.net>\r\n\r\nWhere is my order?\r\n"
        )
        with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
            lmtp.sendmail(sender, [self.mailbox], message.encode())


DOVECOT_CONF = """
base_dir = {folder}/run
state_dir = {folder}/run/state
log_path = {folder}/dovecot.log
protocols = sieve lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{folder}/mail/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={folder}/mail/%n
}}
service managesieve-login {{
  inet_listener sieve {{
    address = 127.0.0.1
    port = {sieve_port}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
protocol lmtp {{
  mail_plugins = sieve
  postmaster_address = postmaster@shop.example
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
submission_host = 127.0.0.1:{smtp_port}
"""
