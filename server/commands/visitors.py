"""Visitors and contractors: signed in and out at the reception desk (guard, duty manager,
admin) or by themselves at the entrance (no account: server/rules/visitors.py), during an alarm
"I am out" from their personal link, and signed out by the server at closing time.

The visitor's personal fields (name, company, phone) travel together in the event's `person`,
so that they can be erased later without touching the rest of the entry."""

from __future__ import annotations

import json

from ..basics.errors import Invalid, NotFound
from ..basics.names import LANGUAGES
from ..basics.settings import secret_key_for
from ..rules.auth import ADMINS, RESPONDERS, VISITORS
from ..rules.escalation import check_phone
from ..rules.visitors import due_out, link_path, link_token, new_link_nonce, visitor_by_token
from ..store.state import active_incident
from . import Route, Tx, command
from .fields import PERSON_NAME, Field
from .incidents import require_active_incident
from .mustering import accounted_for

# What a visitor tells about themself, at the desk or at the entrance.
ABOUT_A_VISITOR = {
    "name": Field(required=True, max_length=PERSON_NAME),
    "company": Field(max_length=100),
    "phone": Field(max_length=20),
    "language": Field("choice", choices=LANGUAGES),
}
# The visitor's personal link (its token), for what they do themselves.
LINK = Field(required=True, max_length=100)


@command(
    "sign_in_visitor",
    RESPONDERS,
    route=Route(
        "/sites/<site>/visitors",
        "Sign a visitor or contractor in at the reception (guard, duty manager, admin)",
        201,
    ),
    host_staff_id=Field("int"),
    **ABOUT_A_VISITOR,
)
def sign_in_visitor(tx: Tx, params: dict) -> dict:
    host = params["host_staff_id"]
    if (
        host is not None
        and not tx.db.execute(
            "SELECT 1 FROM staff WHERE id = ? AND site = ?", [host, tx.site]
        ).fetchone()
    ):
        raise NotFound(f"There is no staff member {host} on this site.", field="host_staff_id")
    return _sign_in(tx, params, host, self_signed=False)


@command(
    "sign_in_visitor_self",
    VISITORS,
    route=Route(
        "/sites/<site>/visitors/self",
        "A visitor signs themself in at the entrance (no account); the answer holds their link",
        201,
    ),
    **ABOUT_A_VISITOR,
)
def sign_in_visitor_self(tx: Tx, params: dict) -> dict:
    return _sign_in(tx, params, None, self_signed=True)


def _sign_in(tx: Tx, params: dict, host: int | None, self_signed: bool) -> dict:
    if check_phone(params["phone"], ("phone",)):
        raise Invalid(
            "'phone' must be a number with its country code, e.g. +358401234567.", field="phone"
        )
    language = params["language"] or _site_language(tx)
    incident = active_incident(tx.db, tx.site)  # signing in during an alarm joins its roll
    visitor_id, nonce = tx.new_id("visitors"), new_link_nonce()
    event = tx.record(
        "visitor.signed_in",
        {
            "visitor_id": visitor_id,
            "person": {k: params[k] for k in ("name", "company", "phone")},
            "host_staff_id": host,
            "language": language,
            "self_signed": self_signed,
            "link_nonce": nonce,
            "incident_id": incident["id"] if incident else None,
        },
    )
    token = link_token(secret_key_for(tx.settings), visitor_id, nonce)
    return tx.changed(event, visitor_id=visitor_id, token=token, link=link_path(tx.site, token))


def _site_language(tx: Tx) -> str:
    """The site's first language: what a visitor who chose none reads."""
    languages = tx.db.execute("SELECT languages FROM sites WHERE id = ?", [tx.site]).fetchone()[0]
    return next(iter(json.loads(languages)), LANGUAGES[0])


@command(
    "sign_out_visitor",
    RESPONDERS,
    route=Route("/sites/<site>/visitors/<int:visitor_id>/leave", "Sign a visitor out (reception)"),
    visitor_id=Field("int", required=True),
)
def sign_out_visitor(tx: Tx, params: dict) -> dict:
    row = next(
        tx.db.query(
            "SELECT * FROM visitors WHERE id = ? AND site = ?", [params["visitor_id"], tx.site]
        ),
        None,
    )
    if row is None:
        raise NotFound(
            f"There is no visitor {params['visitor_id']} on this site.", field="visitor_id"
        )
    return _sign_out(tx, row, "desk")


@command(
    "sign_out_visitor_self",
    VISITORS,
    route=Route("/sites/<site>/visitors/self/leave", "A visitor signs themself out (their link)"),
    token=LINK,
)
def sign_out_visitor_self(tx: Tx, params: dict) -> dict:
    row = visitor_by_token(tx.db, secret_key_for(tx.settings), tx.site, params["token"])
    return _sign_out(tx, row, "self")


def _sign_out(tx: Tx, row: dict, how: str) -> dict:
    if row["left_at"] is not None:
        return tx.unchanged(visitor_id=row["id"])
    incident = active_incident(tx.db, tx.site)  # out during an alarm: accounted for (left)
    event = tx.record(
        "visitor.left",
        {"visitor_id": row["id"], "incident_id": incident["id"] if incident else None, "how": how},
    )
    return tx.changed(event, visitor_id=row["id"])


@command(
    "report_visitor_safe",
    VISITORS,
    route=Route(
        "/sites/<site>/visitors/self/safe",
        "During an alarm, a visitor says they are out (or safe, sheltering): their link",
    ),
    token=LINK,
)
def report_visitor_safe(tx: Tx, params: dict) -> dict:
    row = visitor_by_token(tx.db, secret_key_for(tx.settings), tx.site, params["token"])
    incident = require_active_incident(tx.db, tx.site)
    earlier = accounted_for(tx, incident["id"], "visitor", row["id"])
    left_before_the_alarm = row["left_at"] is not None and row["left_at"] < incident["started_at"]
    if earlier is not None or left_before_the_alarm:  # accounted for once; or not on its roll
        return tx.unchanged(accounted=earlier)
    event = tx.record(
        "person.accounted",
        {
            "incident_id": incident["id"],
            "visitor_id": row["id"],
            "assembly_point": None,
            "how": "phone",
        },
    )
    return tx.changed(event, accounted=accounted_for(tx, incident["id"], "visitor", row["id"]))


@command("sign_out_at_closing", ADMINS)
def sign_out_at_closing(tx: Tx, params: dict) -> dict:
    """The server signs out the visitors still in after the site's closing time (never during
    an alarm: they would count as out); they stay in the day's register."""
    if active_incident(tx.db, tx.site) is not None:
        return tx.unchanged(signed_out=0)
    due = due_out(tx.db, tx.site, tx.ts)
    for visitor_id in due:
        event = tx.record(
            "visitor.left", {"visitor_id": visitor_id, "incident_id": None, "how": "closing"}
        )
    return tx.changed(event, signed_out=len(due)) if due else tx.unchanged(signed_out=0)


@command("record_visitor_sms", ADMINS, outcome=Field("object", required=True))
def record_visitor_sms(tx: Tx, params: dict) -> dict:
    """The SMS service's answer to the alarm's text message to a visitor."""
    outcome = params["outcome"]
    if outcome.get("outcome") not in ("accepted", "failed"):
        raise Invalid("An SMS is accepted or failed.")
    names = ("incident_id", "visitor_id", "outcome", "status", "sid")
    event = tx.record("visitor.texted", {name: outcome.get(name) for name in names})
    return tx.changed(event)
