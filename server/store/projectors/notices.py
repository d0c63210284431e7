"""The public notice, each channel's switch, and the mailboxes' state."""

from __future__ import annotations

import json

from ..sql import replace_into
from . import ms_or_none, projects

NOTICE_COLUMNS = ("site", "state", "since", "eta", "kind", "drill", "incident_id")
NOTICE_COLUMNS += ("restored_until", "version", "updated_at")
REPLACE_NOTICE = replace_into("public_notices", NOTICE_COLUMNS, key=["site"])


@projects("notices.configured")
def notices_configured(db, event, p):
    row = db.execute("SELECT settings FROM sites WHERE id = ?", [event["site"]]).fetchone()
    settings = {**json.loads(row[0]), "notices": p["settings"]}
    db.execute("UPDATE sites SET settings = ? WHERE id = ?", [json.dumps(settings), event["site"]])


@projects("notice.issued")
def notice_issued(db, event, p):
    db.execute(
        REPLACE_NOTICE,
        [
            event["site"],
            p["state"],
            ms_or_none(p["since"]),
            ms_or_none(p["eta"]),
            p["kind"],
            int(p["drill"]),
            p["incident_id"],
            ms_or_none(p["restored_until"]),
            p["version"],
            event["ts"],
        ],
    )


@projects("notice.updated")
def evidence_only(db, event, p):
    """For the evidence; `notice.issued` holds the notice."""


@projects("notice.switched")
def notice_switched(db, event, p):
    """What each channel switched to, for the evidence; a mailbox's reply is state too (the
    console shows it)."""
    if p["channel"] == "email":
        _mailbox(db, event, p, state=p["state"], reply=p["reply"], since=event["ts"])
        db.execute(
            """UPDATE mailbox_states SET version = ?, failing_since = NULL,
               failing_status = NULL, failing_error = NULL, retry_at = NULL
               WHERE site = ? AND mailbox = ?""",
            [p["version"], event["site"], p["mailbox"]],
        )


@projects("notice.reply_kept")
def notice_reply_kept(db, event, p):
    _mailbox(db, event, p, state=p["state"], reply="theirs", since=event["ts"])
    db.execute(
        """UPDATE mailbox_states SET version = ?, failing_since = NULL, failing_status = NULL,
           failing_error = NULL, retry_at = NULL WHERE site = ? AND mailbox = ?""",
        [p["version"], event["site"], p["mailbox"]],
    )


@projects("notice.switch_failed")
def notice_switch_failed(db, event, p):
    _mailbox(db, event, p)
    db.execute(
        """UPDATE mailbox_states SET failing_since = COALESCE(failing_since, ?),
           failing_status = ?, failing_error = ?, retry_at = ? WHERE site = ? AND mailbox = ?""",
        [
            event["ts"],
            p["answer"].get("status"),
            p["answer"].get("error"),
            ms_or_none(p["retry_at"]),
            event["site"],
            p["mailbox"],
        ],
    )


@projects("mailbox.password_set")
def mailbox_password_set(db, event, p):
    db.execute(
        "DELETE FROM mailbox_passwords WHERE site = ? AND mailbox = ?",
        [event["site"], p["mailbox"].lower()],
    )
    if p["password_sealed"] is not None:
        db.execute(
            "INSERT INTO mailbox_passwords (site, mailbox, password_sealed, set_at) "
            "VALUES (?, ?, ?, ?)",
            [event["site"], p["mailbox"].lower(), p["password_sealed"], event["ts"]],
        )


def _mailbox(db, event, p, **values) -> None:
    db.execute(
        "INSERT INTO mailbox_states (site, mailbox, provider) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [event["site"], p["mailbox"], p["provider"]],
    )
    values["provider"] = p["provider"]
    for column, value in values.items():  # columns named here, never by the payload
        db.execute(
            f"UPDATE mailbox_states SET {column} = ? WHERE site = ? AND mailbox = ?",
            [value, event["site"], p["mailbox"]],
        )
