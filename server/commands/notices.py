"""Switching the public channels: closed when an incident starts, restored at the all-clear,
open again after the site's restored time. Each channel's switch is logged on its own, so
the evidence can say what each channel told the public, and from when to when."""

from __future__ import annotations

import json

from ..basics.clock import iso, parse_iso
from ..basics.errors import Invalid
from ..channels import CHANNELS, NoticeSettings
from ..channels.mailboxes.sieve import seal_password
from ..rules.auth import ADMINS
from . import Route, Tx, command
from .fields import Field
from .site_config import check_notices, dotted, summary

# The last moment the log can hold (clock.parse_iso reads no later year): however long a
# site's restored time is set, the all-clear goes through and says "open again" until then.
LAST_MOMENT = parse_iso("9998-12-31T23:59:59.999Z")


def notice_settings(tx: Tx) -> NoticeSettings:
    row = tx.db.execute("SELECT settings FROM sites WHERE id = ?", [tx.site]).fetchone()
    return NoticeSettings.from_json(json.loads(row[0]).get("notices"))


def current_notice(tx: Tx) -> dict | None:
    return next(tx.db.query("SELECT * FROM public_notices WHERE site = ?", [tx.site]), None)


def _set_notice(tx: Tx, **values) -> None:
    """Issue the site's public notice anew (`notice.issued`); every change bumps its version."""
    row = current_notice(tx) or {"version": 0}
    times = ("since", "eta", "restored_until")
    payload = {key: iso(value) if key in times else value for key, value in values.items()}
    tx.record(
        "notice.issued", {**payload, "drill": bool(payload["drill"]), "version": row["version"] + 1}
    )


def reissue_notice(tx: Tx, notice: dict, **changes) -> None:
    """The same notice with `changes` (or new wording) as a new version, so that caches and
    the CAP feed see that it changed."""
    kept = ("state", "since", "eta", "kind", "drill", "incident_id", "restored_until")
    _set_notice(tx, **{key: notice[key] for key in kept if key not in changes}, **changes)


def _switched(tx: Tx, state: str, incident_id: int | None) -> None:
    for channel in CHANNELS:
        tx.record(
            "notice.switched", {"channel": channel, "state": state, "incident_id": incident_id}
        )


def close_notices(tx: Tx, incident: dict) -> None:
    """An incident started: every public channel says we are closed (a drill only if set so)."""
    if incident["drill"] and not notice_settings(tx).public_on_drill:
        return
    _set_notice(
        tx,
        state="closed",
        since=tx.ts,
        eta=incident["eta"],
        kind=incident["kind"],
        drill=int(incident["drill"]),
        incident_id=incident["id"],
        restored_until=None,
    )
    _switched(tx, "closed", incident["id"])


def restore_notices(tx: Tx, incident: dict) -> None:
    """The all-clear: "open again since HH.MM" for a while (with the reason when it was a
    false alarm or a drill), if this incident had closed us. Call it after `incident.ended`."""
    notice = current_notice(tx)
    if not notice or notice["state"] != "closed" or notice["incident_id"] != incident["id"]:
        return
    minutes = notice_settings(tx).restored_minutes
    (reason,) = tx.db.execute(
        "SELECT end_reason FROM incidents WHERE id = ?", [incident["id"]]
    ).fetchone()
    _set_notice(
        tx,
        state="restored",
        since=tx.ts,
        eta=None,
        kind=notice["kind"],
        drill=notice["drill"],
        incident_id=incident["id"],
        restored_until=min(tx.ts + minutes * 60_000, LAST_MOMENT),
        reason=reason,  # a false alarm says so while "open again" shows
    )
    _switched(tx, "restored", incident["id"])


@command("reopen_notices", ADMINS)
def reopen_notices(tx: Tx, params: dict) -> dict:
    """After the restored time, the channels go back to plain "open" (run by the server's timer)."""
    notice = current_notice(tx)
    if not notice or notice["state"] != "restored" or notice["restored_until"] > tx.ts:
        return tx.unchanged()
    _set_notice(
        tx,
        state="open",
        since=tx.ts,
        eta=None,
        kind=None,
        drill=0,
        incident_id=None,
        restored_until=None,
    )
    _switched(tx, "open", None)
    return {"changed": True, "seq": tx.current_seq()}


def follow_eta(tx: Tx, incident_id: int, eta: int | None) -> None:
    """The duty manager changed the estimated reopening time: the closed notice says so."""
    notice = current_notice(tx)
    if notice and notice["state"] == "closed" and notice["incident_id"] == incident_id:
        reissue_notice(tx, notice, eta=eta)
        tx.record("notice.updated", {"incident_id": incident_id, "eta": iso(eta)})


@command(
    "configure_notices",
    ADMINS,
    route=Route("/sites/<site>/notice-settings", "Public channel settings (admin)"),
    settings=Field("object", required=True),
)
def configure_notices(tx: Tx, params: dict) -> dict:
    """Set the site's public-channel settings (see notices.NoticeSettings)."""
    settings = params["settings"]
    problems = check_notices(settings, ("settings",))
    if problems:
        # Each mistake by its field's path, as the set-up's answer names them.
        named = [{"field": dotted(path), "detail": message} for path, message in problems]
        raise Invalid(summary(problems), field=named[0]["field"], problems=named)
    event = tx.record("notices.configured", {"settings": settings})
    notice = current_notice(tx)
    if notice:
        reissue_notice(tx, notice)
    return {"settings": settings, "seq": event["seq"]}


# What the mailbox switcher (server/channels/mailboxes/switcher.py) reports after each attempt.
MAILBOX_OUTCOMES = {
    "switched": "notice.switched",
    "failed": "notice.switch_failed",
    "kept_theirs": "notice.reply_kept",
}
MAILBOX_FIELDS = {
    "notice.switched": ("mailbox", "provider", "state", "version", "incident_id", "reply"),
    "notice.switch_failed": ("mailbox", "provider", "state", "version", "incident_id"),
    "notice.reply_kept": ("mailbox", "provider", "state", "version", "incident_id"),
}


@command("record_mailbox_switch", ADMINS, outcome=Field("object", required=True))
def record_mailbox_switch(tx: Tx, params: dict) -> dict:
    """A mailbox's provider answered (or failed to): the email channel's switch, a failed
    attempt (retried), or someone else's reply left in place. Run by the server itself."""
    outcome = params["outcome"]
    type_ = MAILBOX_OUTCOMES.get(outcome.get("outcome"))
    if type_ is None:
        raise Invalid("A mailbox switch is switched, failed or kept_theirs.")
    payload = {"channel": "email", **{name: outcome.get(name) for name in MAILBOX_FIELDS[type_]}}
    if type_ != "notice.reply_kept":
        payload["answer"] = {"status": outcome.get("status"), "error": outcome.get("error")}
    if type_ == "notice.switch_failed":
        payload["attempt"] = outcome.get("attempt")
        payload["retry_at"] = iso(outcome.get("retry_at"))
    event = tx.record(type_, payload)
    return tx.changed(event)


@command(
    "set_mailbox_password",
    ADMINS,
    route=Route(
        "/sites/<site>/mailbox-passwords",
        "Keep a self-hosted mailbox's ManageSieve password, sealed; none forgets it (admin)",
    ),
    mailbox=Field(required=True, max_length=320),
    password=Field(max_length=200),
)
def set_mailbox_password(tx: Tx, params: dict) -> dict:
    """The password of a listed `sieve` mailbox's own ManageSieve login, sealed as the
    webhooks' secrets are (in the log and the state alike; never shown again). Without one,
    EXITNOW_SIEVE_USER/_PASSWORD act for it."""
    mailbox = params["mailbox"]
    listed = {entry["mailbox"].lower(): entry for entry in notice_settings(tx).email}
    if (listed.get(mailbox.lower()) or {}).get("provider") != "sieve":
        raise Invalid(f"{mailbox} is not a listed sieve mailbox of this site.", field="mailbox")
    password = params["password"] or None
    sealed_password = password and seal_password(tx.settings, tx.site, mailbox, password)
    event = tx.record(
        "mailbox.password_set", {"mailbox": mailbox, "password_sealed": sealed_password}
    )
    return tx.changed(event, mailbox=mailbox, password_set=password is not None)
