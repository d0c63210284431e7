"""The state tables as projections of the log: one projector per event type.

Recording an event runs its projector in the same transaction (`commands.Tx.record`), and
`rebuild` runs them all again over a copy of the log, so the state can always be rebuilt and
compared with the live one. A projector reads only its event (site, seq, ts, actor, payload)
and the state the earlier events left: never the clock, never the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..basics.clock import parse_iso
from .events import ERASED, EVENT_TYPES

PROJECTORS: dict[str, Callable] = {}


def projects(*types: str):
    def register(projector: Callable) -> Callable:
        for type_ in types:
            assert type_ in EVENT_TYPES and type_ not in PROJECTORS, type_
            PROJECTORS[type_] = projector
        return projector

    return register


def apply(db, event: dict) -> None:
    """Apply one event to the state tables (inside the transaction that appends it)."""
    PROJECTORS[event["type"]](db, event, event["payload"])


def _ms(text: str | None) -> int | None:
    return parse_iso(text) if text else None


def _staff_id(event: dict) -> int | None:
    return event["actor"].get("staff_id")


# --- sites, zones, people ----------------------------------------------------------------


@projects("site.created")
def site_created(db, event, p):
    db.execute(
        "INSERT INTO sites (id, name, timezone, languages, created_at) VALUES (?, ?, ?, ?, ?)",
        [event["site"], p["name"], p["timezone"], json.dumps(p["languages"]), event["ts"]],
    )


@projects("site.imported")
def site_imported(db, event, p):
    """The site's own fields; its zones and people came as their own events just before."""
    config = p["config"]
    settings = json.dumps(
        {
            "notices": config["notices"],
            "scripts": config["scripts"],
            "alarm_panel": config.get("alarm_panel", {}),  # not in imports before it existed
            "escalation": config.get("escalation", {}),  # likewise
            "visitors": config.get("visitors", {}),  # likewise
            **({"privacy": config["privacy"]} if config.get("privacy") else {}),
        }
    )
    db.execute(
        "UPDATE sites SET name = ?, timezone = ?, languages = ?, settings = ? WHERE id = ?",
        [
            config["name"],
            config["timezone"],
            json.dumps(config["languages"]),
            settings,
            event["site"],
        ],
    )


@projects("notices.configured")
def notices_configured(db, event, p):
    row = db.execute("SELECT settings FROM sites WHERE id = ?", [event["site"]]).fetchone()
    settings = {**json.loads(row[0]), "notices": p["settings"]}
    db.execute("UPDATE sites SET settings = ? WHERE id = ?", [json.dumps(settings), event["site"]])


@projects("zone.added", "zone.changed")
def zone_set(db, event, p):
    db.execute(
        "INSERT INTO zones (site, id, name, exits, assembly_point, position) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO UPDATE SET name = excluded.name, "
        "exits = excluded.exits, assembly_point = excluded.assembly_point, "
        "position = excluded.position",
        [
            event["site"],
            p["id"],
            p["name"],
            json.dumps(p["exits"]),
            p["assembly_point"],
            p["position"],
        ],
    )


@projects("zone.removed")
def zone_removed(db, event, p):
    db.execute("DELETE FROM zones WHERE site = ? AND id = ?", [event["site"], p["id"]])


@projects("assembly_point.added", "assembly_point.changed")
def assembly_point_set(db, event, p):
    db.execute(
        "INSERT INTO assembly_points (site, id, name, place, position) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (site, id) DO UPDATE SET name = excluded.name, place = excluded.place, "
        "position = excluded.position",
        [event["site"], p["id"], p["name"], p["where"], p["position"]],
    )


@projects("assembly_point.removed")
def assembly_point_removed(db, event, p):
    db.execute("DELETE FROM assembly_points WHERE site = ? AND id = ?", [event["site"], p["id"]])


@projects("staff.added")
def staff_added(db, event, p):
    db.execute(
        "INSERT INTO staff (id, site, name, role, home_zone, language, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            p["staff_id"],
            event["site"],
            p["name"],
            p["role"],
            p["home_zone"],
            p.get("language") or "fi",  # the first logs did not carry it: the default then
            event["ts"],
        ],
    )
    if p.get("phone"):
        db.execute("UPDATE staff SET phone = ? WHERE id = ?", [p["phone"], p["staff_id"]])
    # Older logs carry neither: a person then was on the roll and no marshal.
    db.execute(
        "UPDATE staff SET marshal = ?, on_roll = ? WHERE id = ?",
        [int(p.get("marshal", False)), int(p.get("on_roll", True)), p["staff_id"]],
    )


@projects("staff.changed")
def staff_changed(db, event, p):
    db.execute(
        "UPDATE staff SET role = ?, home_zone = ?, language = ? WHERE id = ?",
        [p["role"], p["home_zone"], p["language"], p["staff_id"]],
    )
    if "phone" in p:  # older logs did not carry it: the number stays as it was
        db.execute("UPDATE staff SET phone = ? WHERE id = ?", [p["phone"], p["staff_id"]])
    if "marshal" in p:  # likewise
        db.execute("UPDATE staff SET marshal = ? WHERE id = ?", [int(p["marshal"]), p["staff_id"]])


@projects("staff.language_changed")
def staff_language_changed(db, event, p):
    db.execute("UPDATE staff SET language = ? WHERE id = ?", [p["language"], p["staff_id"]])


@projects("chain_admin.granted")
def chain_admin_granted(db, event, p):
    db.execute(
        "INSERT OR IGNORE INTO chain_admins (staff_id, granted_at) VALUES (?, ?)",
        [p["staff_id"], event["ts"]],
    )
    # The chain's admin is an account of every site, not a person on this one's floor.
    db.execute("UPDATE staff SET on_roll = 0 WHERE id = ?", [p["staff_id"]])


def _add_credential(db, event, p, kind: str) -> None:
    db.execute(
        "INSERT INTO credentials (id, token_hash, kind, staff_id, created_at) VALUES (?, ?, ?, ?, ?)",
        [p["credential_id"], p["token_hash"], kind, p["staff_id"], event["ts"]],
    )


@projects("token.created")
def token_created(db, event, p):
    _add_credential(db, event, p, "api")


@projects("enrollment.created")
def enrollment_created(db, event, p):
    db.execute(
        "INSERT INTO enrollment_links (code_hash, staff_id, expires_at) VALUES (?, ?, ?)",
        [p["code_hash"], p["staff_id"], _ms(p["expires_at"])],
    )


@projects("device.enrolled")
def device_enrolled(db, event, p):
    _add_credential(db, event, p, "device")
    db.execute(
        "UPDATE enrollment_links SET used_at = ? WHERE code_hash = ?", [event["ts"], p["code_hash"]]
    )


@projects("push.subscribed")
def push_subscribed(db, event, p):
    if p["endpoint"] is None:  # erased (server/store/personal.py): gone from the state as well
        return
    db.execute("DELETE FROM push_subscriptions WHERE endpoint = ?", [p["endpoint"]])
    db.execute(
        """INSERT INTO push_subscriptions
           (id, endpoint, p256dh, auth, credential_id, staff_id, site, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            p["subscription_id"],
            p["endpoint"],
            p["p256dh"],
            p["auth"],
            p["credential_id"],
            p["staff_id"],
            event["site"],
            event["ts"],
        ],
    )


@projects("push.expired")
def push_expired(db, event, p):
    db.execute("DELETE FROM push_subscriptions WHERE id = ?", [p["subscription_id"]])


# --- incidents and the roll call ----------------------------------------------------------


@projects("incident.started")
def incident_started(db, event, p):
    db.execute(
        """INSERT INTO incidents
           (id, site, kind, drill, message, eta, started_at, started_by, start_seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            p["incident_id"],
            event["site"],
            p["kind"],
            int(p["drill"]),
            p["message"],
            _ms(p["eta"]),
            event["ts"],
            _staff_id(event),
            event["seq"],
        ],
    )
    db.execute(
        "INSERT INTO sweeps (incident_id, zone, status) "
        "SELECT ?, id, 'unchecked' FROM zones WHERE site = ?",
        [p["incident_id"], event["site"]],
    )


@projects("incident.updated")
def incident_updated(db, event, p):
    db.execute(
        "UPDATE incidents SET eta = ?, message = ? WHERE id = ?",
        [_ms(p["eta"]), p["message"], p["incident_id"]],
    )


@projects("incident.ended")
def incident_ended(db, event, p):
    db.execute(
        "UPDATE incidents SET ended_at = ?, ended_by = ?, end_reason = ?, end_seq = ? WHERE id = ?",
        [event["ts"], _staff_id(event), p["reason"], event["seq"], p["incident_id"]],
    )


# Each roll-call step also proves the ones before it: "safe" means the alarm arrived too.
ROLL_CALL_COLUMNS = {
    "alarm.delivered": ("delivered_at",),
    "alarm.acknowledged": ("acknowledged_at", "delivered_at"),
    "staff.safe": ("safe_at", "acknowledged_at", "delivered_at"),
}


@projects(*ROLL_CALL_COLUMNS)
def roll_call_marked(db, event, p):
    key = [p["incident_id"], p["staff_id"]]
    db.execute("INSERT OR IGNORE INTO roll_call (incident_id, staff_id) VALUES (?, ?)", key)
    for column in ROLL_CALL_COLUMNS[event["type"]]:  # names from this module, never input
        db.execute(
            f"UPDATE roll_call SET {column} = COALESCE({column}, ?) "
            "WHERE incident_id = ? AND staff_id = ?",
            [event["ts"], *key],
        )
    if event["type"] == "staff.safe":  # by their own phone, or the sign's QR code
        _account(db, event, p, "staff", p["staff_id"], p.get("how", "phone"))


def _account(db, event, p, person: str, person_id: int, how: str) -> None:
    """The person is accounted for in the incident, once: the first way counts."""
    db.execute(
        "INSERT OR IGNORE INTO accounted (incident_id, person, person_id, how, assembly_point, "
        "by_staff_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            p["incident_id"],
            person,
            person_id,
            how,
            p.get("assembly_point"),
            _staff_id(event),
            event["ts"],
        ],
    )


def _person_of(p: dict) -> tuple[str, int]:
    """A mustering event names a staff member or a visitor."""
    return ("staff", p["staff_id"]) if p.get("staff_id") else ("visitor", p["visitor_id"])


@projects("person.accounted")
def person_accounted(db, event, p):
    _account(db, event, p, *_person_of(p), p["how"])


@projects("person.reported_inside")
def person_reported_inside(db, event, p):
    db.execute(
        "INSERT OR REPLACE INTO reported_inside (incident_id, person, person_id, location, "
        "by_staff_id, at) VALUES (?, ?, ?, ?, ?, ?)",
        [p["incident_id"], *_person_of(p), p["location"], _staff_id(event), event["ts"]],
    )


@projects("visitor.signed_in")
def visitor_signed_in(db, event, p):
    person = p["person"]  # the visitor's personal fields, together (erasable as one)
    db.execute(
        """INSERT INTO visitors (id, site, name, company, phone, host_staff_id, language,
           self_signed, link_nonce, signed_in_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            p["visitor_id"],
            event["site"],
            person.get("name"),
            person.get("company"),
            person.get("phone"),
            p["host_staff_id"],
            p["language"],
            int(p["self_signed"]),
            p["link_nonce"],
            event["ts"],
        ],
    )


@projects("visitor.left")
def visitor_left(db, event, p):
    db.execute(
        "UPDATE visitors SET left_at = ?, left_how = ? WHERE id = ?",
        [event["ts"], p["how"], p["visitor_id"]],
    )
    if p["incident_id"] is not None:  # signed out during an alarm: out of the building
        _account(db, event, p, "visitor", p["visitor_id"], "left")


@projects("visitor.texted")
def visitor_texted(db, event, p):
    """The SMS service's answer, for the evidence; nothing in the state changes."""


SWEEP_STATUS = {
    "zone.claimed": "claimed",
    "zone.assigned": "claimed",
    "zone.cleared": "clear",
    "zone.blocked": "blocked",
}


@projects(*SWEEP_STATUS)
def zone_swept(db, event, p):
    # Whoever sweeps it now answers any request to sweep it.
    db.execute(
        "INSERT INTO sweeps (incident_id, zone, status, staff_id, note, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id, zone) DO UPDATE SET "
        "status = excluded.status, staff_id = excluded.staff_id, note = excluded.note, "
        "updated_at = excluded.updated_at, asked = NULL, declined = NULL",
        [
            p["incident_id"],
            p["zone"],
            SWEEP_STATUS[event["type"]],
            p["staff_id"],
            p["note"],
            event["ts"],
        ],
    )


# A request to sweep changes nobody's sweep until it is answered: the zone stays as it was
# (unchecked or blocked) and only names who was asked, then who declined.
@projects("zone.sweep_requested", "zone.sweep_declined")
def zone_sweep_asked(db, event, p):
    asked, declined = (
        (p["staff_id"], None) if event["type"] == "zone.sweep_requested" else (None, p["staff_id"])
    )
    db.execute(
        "INSERT INTO sweeps (incident_id, zone, status, asked, declined, updated_at) "
        "VALUES (?, ?, 'unchecked', ?, ?, ?) ON CONFLICT (incident_id, zone) DO UPDATE SET "
        "asked = excluded.asked, declined = excluded.declined, updated_at = excluded.updated_at",
        [p["incident_id"], p["zone"], asked, declined, event["ts"]],
    )


@projects("help.requested")
def help_requested(db, event, p):
    db.execute(
        "INSERT INTO help_requests (id, incident_id, raised_by, location, note, raised_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            p["help_id"],
            p["incident_id"],
            p.get("staff_id", _staff_id(event)),
            p["location"],
            p["note"],
            event["ts"],
        ],
    )


@projects("help.resolved")
def help_resolved(db, event, p):
    db.execute(
        "UPDATE help_requests SET resolved_at = ?, resolved_by = ? WHERE id = ?",
        [event["ts"], p["staff_id"], p["help_id"]],
    )


@projects("backup.requested")
def backup_requested(db, event, p):
    db.execute(
        "INSERT INTO backup_requests (id, site, raised_by, location, note, raised_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [p["backup_id"], event["site"], p["staff_id"], p["location"], p["note"], event["ts"]],
    )


@projects("backup.declined")
def backup_declined(db, event, p):
    db.execute(
        "INSERT OR IGNORE INTO backup_declines (backup_id, staff_id, at) VALUES (?, ?, ?)",
        [p["backup_id"], p["staff_id"], event["ts"]],
    )


@projects("backup.cancelled", "backup.answered")
def backup_ended(db, event, p):
    db.execute(
        "UPDATE backup_requests SET ended_at = ?, ended_by = ?, outcome = ? WHERE id = ?",
        [event["ts"], p["staff_id"], event["type"].removeprefix("backup."), p["backup_id"]],
    )


# --- the public notice ----------------------------------------------------------------------


@projects("notice.issued")
def notice_issued(db, event, p):
    db.execute(
        """INSERT OR REPLACE INTO public_notices
           (site, state, since, eta, kind, drill, incident_id, restored_until, version, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            event["site"],
            p["state"],
            _ms(p["since"]),
            _ms(p["eta"]),
            p["kind"],
            int(p["drill"]),
            p["incident_id"],
            _ms(p["restored_until"]),
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
            _ms(p["retry_at"]),
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
        "INSERT OR IGNORE INTO mailbox_states (site, mailbox, provider) VALUES (?, ?, ?)",
        [event["site"], p["mailbox"], p["provider"]],
    )
    values["provider"] = p["provider"]
    for column, value in values.items():  # columns named here, never by the payload
        db.execute(
            f"UPDATE mailbox_states SET {column} = ? WHERE site = ? AND mailbox = ?",
            [value, event["site"], p["mailbox"]],
        )


# --- the fire-alarm panel -------------------------------------------------------------------


@projects("alarm_panel.secret_added")
def alarm_panel_secret_added(db, event, p):
    db.execute(
        "INSERT INTO alarm_panel_secrets (id, site, sealed, created_at) VALUES (?, ?, ?, ?)",
        [p["secret_id"], event["site"], p["sealed"], event["ts"]],
    )


@projects("alarm_panel.secrets_retired")
def alarm_panel_secrets_retired(db, event, p):
    for secret_id in p["secret_ids"]:
        db.execute(
            "UPDATE alarm_panel_secrets SET retired_at = ? WHERE id = ? AND site = ?",
            [event["ts"], secret_id, event["site"]],
        )


@projects("alarm_panel.signalled")
def alarm_panel_signalled(db, event, p):
    db.execute(
        """INSERT INTO alarm_panel_signals (site, event_id, signal, action, detail, seq,
           received_at, incident_id, pre_alarm_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            event["site"],
            p["event_id"],
            p["signal"],
            p["action"],
            p["detail"],
            event["seq"],
            event["ts"],
            p["incident_id"],
            p["pre_alarm_id"],
        ],
    )


@projects("alarm_panel.link_up", "alarm_panel.link_down")
def alarm_panel_link(db, event, p):
    db.execute(
        "INSERT OR REPLACE INTO alarm_panel_links (site, state, since, interval_seconds) "
        "VALUES (?, ?, ?, ?)",
        [
            event["site"],
            event["type"].removeprefix("alarm_panel.link_"),
            event["ts"],
            p["interval_seconds"],
        ],
    )


@projects("pre_alarm.started")
def pre_alarm_started(db, event, p):
    db.execute(
        "INSERT INTO pre_alarms (id, site, event_id, detail, started_at, deadline) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            p["pre_alarm_id"],
            event["site"],
            p["event_id"],
            p["detail"],
            event["ts"],
            _ms(p["deadline"]),
        ],
    )


@projects("pre_alarm.confirmed", "pre_alarm.dismissed", "pre_alarm.expired")
def pre_alarm_ended(db, event, p):
    db.execute(
        "UPDATE pre_alarms SET ended_at = ?, outcome = ?, ended_by = ?, incident_id = ? "
        "WHERE id = ?",
        [
            event["ts"],
            event["type"].removeprefix("pre_alarm."),
            _staff_id(event),
            p.get("incident_id"),
            p["pre_alarm_id"],
        ],
    )


# --- phone readiness, escalation and webhooks -------------------------------------------------


@projects("push.sent")
def push_sent(db, event, p):
    """The push service's answer for each subscription; a test alarm's and an escalation's
    pushes also mark the person's test and attempt."""
    for result in p["results"]:
        db.execute(
            "INSERT OR REPLACE INTO push_outcomes (subscription_id, site, staff_id, "
            "credential_id, outcome, status, purpose, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                result["subscription_id"],
                event["site"],
                result["staff_id"],
                result.get("credential_id"),
                result["outcome"],
                result.get("status"),
                p["purpose"],
                event["ts"],
            ],
        )
    best = _best_outcomes(p["results"])
    if p["purpose"] == "test":
        for staff_id, outcome in best.items():
            db.execute(
                "UPDATE test_alarm_phones SET pushed_at = ?, outcome = ? "
                "WHERE test_id = ? AND staff_id = ?",
                [event["ts"], outcome, p["test_id"], staff_id],
            )
    if p["purpose"] == "escalation":
        for staff_id, outcome in best.items():
            db.execute(
                "UPDATE escalations SET outcome = ? "
                "WHERE incident_id = ? AND staff_id = ? AND channel = 'push' AND step = ?",
                [outcome, p["incident_id"], staff_id, p["step"]],
            )


def _best_outcomes(results: list[dict]) -> dict[int, str]:
    """Per person, the best answer over their subscriptions: one phone that can ring is enough."""
    rank = {"accepted": 0, "failed": 1, "expired": 2}
    best: dict[int, str] = {}
    for result in results:
        known = best.get(result["staff_id"])
        if known is None or rank[result["outcome"]] < rank[known]:
            best[result["staff_id"]] = result["outcome"]
    return best


@projects("test_alarm.sent")
def test_alarm_sent(db, event, p):
    db.execute(
        "INSERT INTO test_alarms (id, site, staff_id, sent_at, sent_by) VALUES (?, ?, ?, ?, ?)",
        [p["test_id"], event["site"], p["staff_id"], event["ts"], _staff_id(event)],
    )
    for staff_id in p["staff_ids"]:
        db.execute(
            "INSERT INTO test_alarm_phones (test_id, staff_id) VALUES (?, ?)",
            [p["test_id"], staff_id],
        )


@projects("test_alarm.answered")
def test_alarm_answered(db, event, p):
    db.execute(
        "UPDATE test_alarm_phones SET answered_at = COALESCE(answered_at, ?) "
        "WHERE test_id = ? AND staff_id = ?",
        [event["ts"], p["test_id"], p["staff_id"]],
    )


@projects("alarm.escalated")
def alarm_escalated(db, event, p):
    db.execute(
        "INSERT INTO escalations (incident_id, staff_id, step, channel, at) VALUES (?, ?, ?, ?, ?)",
        [p["incident_id"], p["staff_id"], p["step"], p["channel"], event["ts"]],
    )


@projects("sms.sent")
def sms_sent(db, event, p):
    db.execute(
        "UPDATE escalations SET outcome = ?, status = ? "
        "WHERE incident_id = ? AND staff_id = ? AND step = ?",
        [p["outcome"], p.get("status"), p["incident_id"], p["staff_id"], p["step"]],
    )


@projects("webhook.added")
def webhook_added(db, event, p):
    db.execute(
        "INSERT INTO webhooks (id, site, url_sealed, secret_sealed, origin, events, format, "
        "created_at, created_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            p["webhook_id"],
            event["site"],
            p["url_sealed"],
            p["secret_sealed"],
            p["origin"],
            json.dumps(p["events"]),
            p["format"],
            event["ts"],
            event["seq"],
        ],
    )
    if p.get("include_names"):  # older logs did not carry it: no names then
        db.execute("UPDATE webhooks SET include_names = 1 WHERE id = ?", [p["webhook_id"]])


@projects("webhook.removed")
def webhook_removed(db, event, p):
    db.execute("UPDATE webhooks SET removed_at = ? WHERE id = ?", [event["ts"], p["webhook_id"]])


@projects("webhook.tested")
def webhook_tested(db, event, p):
    """Only a delivery (to that one webhook) follows; nothing in the state changes."""


@projects("clock.stepped")
def clock_stepped(db, event, p):
    """A fact for the report; the times of the state are the log's, which never go back."""


# --- rebuilding ------------------------------------------------------------------------------

# Every table the projectors write, with its key (the order rows are compared in).
# --- personal data ----------------------------------------------------------------------------


@projects("person.erased")
def person_erased(db, event, p):
    """What each erased key sealed now reads (erased) in the state too, as a rebuild from the
    log would read it: names and what people wrote say so, phone numbers and subscriptions
    are gone, and a person erased whole has no credentials left."""
    for subject in p["subjects"]:
        person, _, scope = subject.partition("/")
        kind, person_id = person.split(":")
        _erase(db, kind, int(person_id), *(scope.split(":") if scope else (None, None)))
        if kind == "staff" and not scope:
            db.execute(
                "UPDATE credentials SET revoked_at = ? WHERE staff_id = ? AND revoked_at IS NULL",
                [event["ts"], int(person_id)],
            )


def _erase(db, kind: str, person_id: int, scope: str | None, scope_id: str | None) -> None:
    wrote = "CASE WHEN note IS NULL THEN NULL ELSE ? END"
    if scope is None and kind == "staff":
        db.execute("UPDATE staff SET name = ?, phone = NULL WHERE id = ?", [ERASED, person_id])
    elif scope is None:
        db.execute(
            "UPDATE visitors SET name = ?, company = NULL, phone = NULL WHERE id = ?",
            [ERASED, person_id],
        )
    elif scope == "incident":
        db.execute(
            "UPDATE reported_inside SET location = ? WHERE incident_id = ? AND person = ? "
            "AND person_id = ?",
            [ERASED, int(scope_id), kind, person_id],
        )
        if kind == "staff":
            db.execute(
                f"UPDATE help_requests SET location = ?, note = {wrote} "
                "WHERE incident_id = ? AND raised_by = ?",
                [ERASED, ERASED, int(scope_id), person_id],
            )
            db.execute(
                f"UPDATE sweeps SET note = {wrote} WHERE incident_id = ? AND staff_id = ?",
                [ERASED, int(scope_id), person_id],
            )
    elif scope == "backup":
        db.execute(
            f"UPDATE backup_requests SET location = ?, note = {wrote} WHERE id = ?",
            [ERASED, ERASED, int(scope_id)],
        )
    elif scope == "device":
        db.execute("DELETE FROM push_subscriptions WHERE credential_id = ?", [int(scope_id)])


STATE_TABLES = {
    "sites": "id",
    "zones": "site, id",
    "staff": "id",
    "chain_admins": "staff_id",
    "credentials": "id",
    "enrollment_links": "code_hash",
    "incidents": "id",
    "roll_call": "incident_id, staff_id",
    "sweeps": "incident_id, zone",
    "help_requests": "id",
    "backup_requests": "id",
    "backup_declines": "backup_id, staff_id",
    "public_notices": "site",
    "push_subscriptions": "id",
    "alarm_panel_secrets": "id",
    "alarm_panel_signals": "site, event_id",
    "alarm_panel_links": "site",
    "pre_alarms": "id",
    "push_outcomes": "subscription_id",
    "test_alarms": "id",
    "test_alarm_phones": "test_id, staff_id",
    "escalations": "incident_id, staff_id, step",
    "webhooks": "id",
    "mailbox_states": "site, mailbox",
    "assembly_points": "site, id",
    "visitors": "id",
    "accounted": "incident_id, person, person_id",
    "reported_inside": "incident_id, person, person_id",
    "mailbox_passwords": "site, mailbox",
}

assert set(PROJECTORS) == set(EVENT_TYPES), set(EVENT_TYPES) - set(PROJECTORS)
