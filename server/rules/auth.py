"""Who is asking: bearer tokens, device session cookies, roles and CSRF.

Tokens are random; only their SHA-256 is stored, so a copy of the database cannot sign anyone in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..basics.errors import Forbidden

ROLES = ("staff", "guard", "duty_manager", "admin")
ADMINS = frozenset({"admin"})
MANAGERS = frozenset({"duty_manager", "admin"})
RESPONDERS = frozenset({"guard", "duty_manager", "admin"})  # see backup requests
EVERYONE = frozenset(ROLES)
# The building's fire-alarm panel (or its bridge) acts in the log too, but is nobody's role:
# no token or phone can carry it, only a signed webhook (server/api/hooks.py).
PANEL_ROLE = "alarm_panel"
PANEL = frozenset({PANEL_ROLE})
# A visitor signing themself in or out at the entrance, with no account: the log names the
# role only (the visitor's own name is in the event's erasable personal fields).
VISITOR_ROLE = "visitor"
VISITORS = frozenset({VISITOR_ROLE})
ACTOR_ROLES = (*ROLES, PANEL_ROLE, VISITOR_ROLE)  # who can appear as an event's actor

SESSION_COOKIE = "exitnow_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Identity:
    """A signed-in person (or the command line), as every handler receives it."""

    site: str
    role: str
    name: str
    staff_id: int | None = None
    credential_id: int | None = None
    via_cookie: bool = False
    chain_admin: bool = False  # an admin of every site of the chain, not only their own

    def may_act_on(self, site: str) -> bool:
        """A member of the site, or the chain's admin. Roles are checked separately."""
        return self.site == site or self.chain_admin

    def actor(self) -> dict:
        """How this person appears in the log."""
        return {"staff_id": self.staff_id, "name": self.name, "role": self.role}

    @property
    def is_responder(self) -> bool:
        return self.role in RESPONDERS

    @property
    def is_command_line(self) -> bool:
        """The operator at the server's command line, who is nobody on the staff list."""
        return self.staff_id is None

    def check_rights(self, site: str, roles: frozenset, doing: str) -> None:
        """403 unless this person is a member of `site` (or the chain's admin) with one of
        `roles`: the one check of who may do what, for commands and for reads alike."""
        if not self.may_act_on(site):
            raise Forbidden(f"You are not a member of site '{site}'.")
        if self.role not in roles:
            allowed = " or ".join(sorted(roles))
            raise Forbidden(f"Only {allowed} may {doing}; you are {self.role}.")

    def may_vouch_for(self, role: str, is_chain_admin: bool) -> bool:
        """Whether this person may make a credential (an enrollment link) for someone with
        `role`: no more rights than their own, and the chain's admin only from the command
        line or by the chain's admin."""
        if is_chain_admin:
            return self.is_command_line or self.chain_admin
        return ROLES.index(role) <= ROLES.index(self.role)


def command_line(site: str) -> Identity:
    """The operator at the server's command line: an admin of the site."""
    return Identity(site=site, role="admin", name="command line")


def alarm_panel(site: str) -> Identity:
    """The site's fire-alarm panel, as its signed webhook and its timers act: nobody on the
    staff list, and no person's rights."""
    return Identity(site=site, role=PANEL_ROLE, name="alarm panel")


def visitor(site: str) -> Identity:
    """A visitor at the site's entrance page, who holds no credential (server/rules/visitors.py)."""
    return Identity(site=site, role=VISITOR_ROLE, name="visitor")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def identify(db, token: str | None, via_cookie: bool = False) -> Identity | None:
    """The identity behind a token or session cookie, or None when unknown or revoked."""
    if not token:
        return None
    row = db.execute(
        """SELECT c.id, s.id, s.site, s.role, s.name, a.staff_id IS NOT NULL FROM credentials c
           JOIN staff s ON s.id = c.staff_id
           LEFT JOIN chain_admins a ON a.staff_id = s.id AND s.role = 'admin'
           WHERE c.token_hash = ? AND c.revoked_at IS NULL""",
        [digest(token)],
    ).fetchone()
    if row is None:
        return None
    credential_id, staff_id, site, role, name, chain_admin = row
    return Identity(site, role, name, staff_id, credential_id, via_cookie, bool(chain_admin))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def csrf_token(secret_key: str, identity: Identity) -> str:
    """The value a cookie-signed-in page must echo in X-CSRF-Token on every write."""
    message = f"csrf:{identity.credential_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def csrf_ok(secret_key: str, identity: Identity, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret_key, identity), presented)
