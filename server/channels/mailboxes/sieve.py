"""A self-hosted mailbox (Dovecot with Pigeonhole, or any ManageSieve server): our reply is a
Sieve script with the `vacation` extension (RFC 5230) uploaded and activated over ManageSieve
(RFC 5804); the mailbox's earlier reply is whichever script was active before (its name and
text), activated again afterwards, or none. The server, a login and its password come from
the environment (EXITNOW_SIEVE_*); the login acts for each mailbox (a Dovecot master user), or
is the mailbox's own when EXITNOW_SIEVE_USER names none."""

from __future__ import annotations

import base64
import hashlib

from ...basics import sealed
from ...basics.settings import secret_key_for
from ..email import AutoReply
from . import ProviderError
from .managesieve import ManageSieve

SCRIPT = "exitnow"  # the name of our script on the server
REPLY_DAYS = 1  # a customer who writes again gets the notice again the next day (RFC 5230 4.1)


class Sieve:
    name = "sieve"

    def __init__(self, settings):
        self.settings = settings

    def _session(self, mailbox: dict) -> ManageSieve:
        s = self.settings
        own = mailbox.get("password")  # the mailbox's own, unsealed for this session only
        if not s.sieve_host or not (own or s.sieve_password):
            raise ProviderError(
                None,
                "EXITNOW_SIEVE_HOST and a password (the mailbox's own, or "
                "EXITNOW_SIEVE_PASSWORD) are unset",
                during="configuration",
            )
        user = mailbox.get("user") or mailbox["mailbox"]
        session = ManageSieve(s.sieve_host, s.sieve_port)
        try:
            if own:
                session.authenticate(user, own)
            elif s.sieve_user:
                session.authenticate(s.sieve_user, s.sieve_password, as_user=user)
            else:
                session.authenticate(user, s.sieve_password)
        except ProviderError as failure:
            session.close()
            if failure.error.startswith("ManageSieve: NO"):  # refused, not a lost connection
                failure.during = "login"
            raise
        return session

    def read(self, mailbox: dict) -> dict:
        session = self._session(mailbox)
        try:
            active = next((name for name, on in session.scripts().items() if on), None)
            return {"active": active, "script": session.get(active) if active else None}
        finally:
            session.close()

    def write(self, mailbox: dict, reply: AutoReply) -> int | None:
        session = self._session(mailbox)
        try:
            session.put(SCRIPT, vacation_script(mailbox["mailbox"], reply))
            session.activate(SCRIPT)
        finally:
            session.close()
        return None

    def put_back(self, mailbox: dict, earlier: dict) -> int | None:
        session = self._session(mailbox)
        try:
            if earlier.get("active"):
                session.put(earlier["active"], earlier["script"])  # exactly as it was
                session.activate(earlier["active"])
            else:
                session.activate("")
            if SCRIPT in session.scripts() and earlier.get("active") != SCRIPT:
                session.delete(SCRIPT)
        finally:
            session.close()
        return None


def vacation_script(address: str, reply: AutoReply) -> str:
    """RFC 5230 vacation with :mime, so that the reply carries the plain text and the HTML
    (multipart/alternative, each part base64: any language's letters, no line too long)."""
    boundary = "exitnow-" + hashlib.sha256(reply.text.encode()).hexdigest()[:24]
    body = "\r\n".join(
        [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            f"--{boundary}",
            *_part("text/plain", reply.text),
            f"--{boundary}",
            *_part("text/html", reply.html),
            f"--{boundary}--",
            "",
        ]
    )
    return (
        'require ["vacation"];\r\n'
        "# Exit Now: the out-of-service notice while the site is closed. Put back by itself.\r\n"
        f"vacation :days {REPLY_DAYS} :subject {_quoted(reply.subject)}\r\n"
        f"  :addresses [{_quoted(address)}] :mime text:\r\n"
        # A multi-line string ends at a line holding one dot; base64 has no dots.
        f"{body}.\r\n;\r\n"
    )


def _part(content_type: str, text: str) -> list[str]:
    encoded = base64.encodebytes(text.encode("utf-8")).decode().strip().split("\n")
    return [
        f"Content-Type: {content_type}; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        *encoded,
    ]


def _quoted(text: str) -> str:
    """A Sieve quoted string (RFC 5228 2.4.2): backslash and double quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", " ") + '"'


def with_password(db, settings, site: str, entry: dict) -> dict:
    """A listed mailbox as a provider needs it: a sieve one with its own password, if an
    admin kept one (mailbox.password_set), unsealed in memory for this attempt only."""
    if entry.get("provider") != "sieve":
        return entry
    row = db.execute(
        "SELECT password_sealed FROM mailbox_passwords WHERE site = ? AND mailbox = ?",
        [site, entry["mailbox"].lower()],
    ).fetchone()
    if row is None:
        return entry
    return {**entry, "password": unseal_password(settings, site, entry["mailbox"], row[0])}


def seal_password(settings, site: str, mailbox: str, password: str) -> str:
    return sealed.seal(secret_key_for(settings), _password_key(site, mailbox), password)


def unseal_password(settings, site: str, mailbox: str, text: str) -> str:
    return sealed.unseal(secret_key_for(settings), _password_key(site, mailbox), text)


def _password_key(site: str, mailbox: str) -> str:
    return f"mailbox:{site}:{mailbox.lower()}:password"
