"""The fire-alarm panel's commands: its secrets (from the command line), its signals and
heartbeats (its signed webhook, server/api/hooks.py), the pre-alarm countdown a duty manager
confirms or dismisses, and what the server's timers decide when nobody answers or the
panel's link falls silent (server/timers.py). The site's policy is in server/rules/alarm_panel.py.
"""

from __future__ import annotations

import hashlib

from ..basics.clock import iso
from ..basics.errors import Conflict
from ..basics.settings import secret_key_for
from ..rules.alarm_panel import HEARTBEAT, MISSED_HEARTBEATS, SIGNALS, seal_secret, site_policy
from ..rules.auth import ADMINS, MANAGERS, PANEL, new_secret
from ..store.sql import replace_into
from ..store.state import active_incident
from . import Route, Tx, command
from .fields import Field
from .incidents import end_incident, start_incident

MOST_SECRETS = 2  # the old and the new, during a rotation
DEFAULT_HEARTBEAT_SECONDS = 60
HEARD = replace_into(
    "alarm_panel_heartbeats", ("site", "received_at", "interval_seconds"), key=["site"]
)
REPLAY_MEMORY_MS = 15 * 60_000  # longer than any delivery's timestamp may be off (5 min)


class Replayed(Conflict):
    title, slug = "Replayed delivery", "replayed-delivery"


# --- secrets: `flask --app server panel-secret` ------------------------------------------------


def _valid_secret_ids(tx: Tx) -> list[int]:
    rows = tx.db.execute(
        "SELECT id FROM alarm_panel_secrets WHERE site = ? AND retired_at IS NULL ORDER BY id",
        [tx.site],
    )
    return [row[0] for row in rows]


@command("add_alarm_panel_secret", ADMINS, rotate=Field("bool", default=False))
def add_alarm_panel_secret(tx: Tx, params: dict) -> dict:
    """A new webhook secret for the site's panel, answered once and kept only sealed. With
    `rotate` the old one stays valid beside it until its retirement."""
    valid = _valid_secret_ids(tx)
    if valid and not params["rotate"]:
        raise Conflict("The site's alarm panel has a secret already; rotate it (--rotate).")
    if len(valid) >= MOST_SECRETS:
        raise Conflict("Two secrets are valid already; retire the old one first (--retire-old).")
    secret_id = tx.new_id("alarm_panel_secrets")
    secret = new_secret()
    sealed = seal_secret(secret_key_for(tx.settings), tx.site, secret_id, secret)
    event = tx.record("alarm_panel.secret_added", {"secret_id": secret_id, "sealed": sealed})
    return tx.changed(event, secret_id=secret_id, secret=secret, valid=len(valid) + 1)


@command("retire_old_alarm_panel_secrets", ADMINS)
def retire_old_alarm_panel_secrets(tx: Tx, params: dict) -> dict:
    """After a rotation: only the newest secret stays valid."""
    old = _valid_secret_ids(tx)[:-1]
    if not old:
        return tx.unchanged(retired=[])
    event = tx.record("alarm_panel.secrets_retired", {"secret_ids": old})
    return tx.changed(event, retired=old)


# --- the panel's webhook ---------------------------------------------------------------------


@command(
    "receive_alarm_signal",
    PANEL,
    event_id=Field(required=True, max_length=200),
    event=Field("choice", required=True, choices=(*SIGNALS, HEARTBEAT)),
    detail=Field(max_length=500),
    sent_at=Field("time"),
    heartbeat_seconds=Field("int"),
    delivery=Field(required=True, max_length=200),  # the hook adds what was signed
    reserve=True,
)
def receive_alarm_signal(tx: Tx, params: dict) -> dict:
    """One delivery of the panel's webhook: refused when its signature was seen before; a
    heartbeat keeps the link up; a signal is done once per event id, as the policy says."""
    _remember_delivery(tx, params["delivery"])
    if params["event"] == HEARTBEAT:
        return _heartbeat(tx, params["heartbeat_seconds"] or DEFAULT_HEARTBEAT_SECONDS)
    earlier = _signal(tx, params["event_id"])
    if earlier is None:
        _act_on_signal(tx, params)
        earlier = _signal(tx, params["event_id"])
    return signal_answer(earlier)


def _remember_delivery(tx: Tx, delivery: str) -> None:
    digest = hashlib.sha256(delivery.encode()).hexdigest()
    seen = tx.db.execute(
        "SELECT 1 FROM alarm_panel_deliveries WHERE signed = ?", [digest]
    ).fetchone()
    if seen:
        raise Replayed(
            "This delivery was received before (the same timestamp and body): sign a retry anew."
        )
    tx.db.execute(
        "DELETE FROM alarm_panel_deliveries WHERE received_at < ?", [tx.ts - REPLAY_MEMORY_MS]
    )
    tx.db.execute("INSERT INTO alarm_panel_deliveries VALUES (?, ?, ?)", [digest, tx.site, tx.ts])


def _heartbeat(tx: Tx, interval_seconds: int) -> dict:
    tx.db.execute(
        HEARD,
        [tx.site, tx.ts, interval_seconds],
    )
    link = tx.db.execute(
        "SELECT state, interval_seconds FROM alarm_panel_links WHERE site = ?", [tx.site]
    ).fetchone()
    if link != ("up", interval_seconds):
        tx.record("alarm_panel.link_up", {"interval_seconds": interval_seconds})
    return {"event": HEARTBEAT, "link": "up", "seq": tx.current_seq()}


def _signal(tx: Tx, event_id: str) -> dict | None:
    return next(
        tx.db.query(
            "SELECT * FROM alarm_panel_signals WHERE site = ? AND event_id = ?",
            [tx.site, event_id],
        ),
        None,
    )


def signal_answer(row: dict) -> dict:
    """The same answer to every delivery of one event id."""
    return {
        "event_id": row["event_id"],
        "event": row["signal"],
        "action": row["action"],
        "seq": row["seq"],
        "incident_id": row["incident_id"],
        "pre_alarm_id": row["pre_alarm_id"],
    }


def _act_on_signal(tx: Tx, params: dict) -> None:
    """Log the signal with what the site's policy does with it, then do that."""
    policy = site_policy(tx.db, tx.site)
    signal, action = params["event"], policy[params["event"]]
    running = active_incident(tx.db, tx.site)
    waiting = _open_pre_alarm(tx)
    incident_id = running["id"] if running else None
    pre_alarm_id = waiting["id"] if waiting else None
    # A real alarm during a drill is real: the drill ends and the evacuation starts.
    in_drill = running is not None and bool(running["drill"])
    starts = action == "evacuate" and (running is None or in_drill)
    counts_down = action == "countdown" and running is None and waiting is None
    if starts:
        incident_id = tx.new_id("incidents")
    if counts_down:
        pre_alarm_id = tx.new_id("pre_alarms")
    tx.record(
        "alarm_panel.signalled",
        {
            "event_id": params["event_id"],
            "signal": signal,
            "action": action,
            "detail": params["detail"],
            "sent_at": iso(params["sent_at"]),
            "incident_id": incident_id,
            "pre_alarm_id": pre_alarm_id,
        },
    )
    if starts:
        if in_drill:
            end_incident(tx, {"reason": "drill_over", "note": None})
        if waiting is not None:  # a two-stage panel's second stage: the pre-alarm was real
            _end_pre_alarm(tx, waiting, "pre_alarm.confirmed", incident_id)
        _start_evacuation(tx, policy, params["detail"], incident_id)
    elif counts_down:
        deadline = tx.ts + policy["countdown_seconds"] * 1000
        tx.record(
            "pre_alarm.started",
            {
                "pre_alarm_id": pre_alarm_id,
                "event_id": params["event_id"],
                "detail": params["detail"],
                "deadline": iso(deadline),
                "countdown_seconds": policy["countdown_seconds"],
            },
        )


def _start_evacuation(tx: Tx, policy: dict, message: str | None, incident_id: int) -> None:
    """The same start as a duty manager's (public channels and all), by the panel."""
    started = start_incident(
        tx, {"kind": policy["kind"], "drill": False, "message": message, "eta": None}
    )
    assert started["id"] == incident_id, (started["id"], incident_id)


# --- the pre-alarm countdown ----------------------------------------------------------------


def _open_pre_alarm(tx: Tx) -> dict | None:
    return next(
        tx.db.query("SELECT * FROM pre_alarms WHERE site = ? AND ended_at IS NULL", [tx.site]),
        None,
    )


def _require_pre_alarm(tx: Tx) -> dict:
    waiting = _open_pre_alarm(tx)
    if waiting is None:
        raise Conflict("No pre-alarm is counting down on this site.")
    return waiting


def _end_pre_alarm(tx: Tx, waiting: dict, type_: str, incident_id: int | None) -> dict:
    return tx.record(type_, {"pre_alarm_id": waiting["id"], "incident_id": incident_id})


def _answer_with_evacuation(tx: Tx, waiting: dict, type_: str) -> dict:
    """End the pre-alarm as `type_` and start the evacuation, unless one is under way."""
    running = active_incident(tx.db, tx.site)
    incident_id = running["id"] if running else tx.new_id("incidents")
    event = _end_pre_alarm(tx, waiting, type_, incident_id)
    if running is None:
        _start_evacuation(tx, site_policy(tx.db, tx.site), waiting["detail"], incident_id)
    return tx.changed(event, pre_alarm_id=waiting["id"], incident_id=incident_id)


@command(
    "confirm_pre_alarm",
    MANAGERS,
    route=Route(
        "/sites/<site>/alarm-panel/pre-alarm/confirm",
        "Confirm the panel's pre-alarm: evacuate now (duty manager, admin)",
    ),
    socket=True,
    reserve=True,
)
def confirm_pre_alarm(tx: Tx, params: dict) -> dict:
    return _answer_with_evacuation(tx, _require_pre_alarm(tx), "pre_alarm.confirmed")


@command(
    "dismiss_pre_alarm",
    MANAGERS,
    route=Route(
        "/sites/<site>/alarm-panel/pre-alarm/dismiss",
        "Dismiss the panel's pre-alarm: no evacuation (duty manager, admin)",
    ),
    socket=True,
)
def dismiss_pre_alarm(tx: Tx, params: dict) -> dict:
    waiting = _require_pre_alarm(tx)
    event = _end_pre_alarm(tx, waiting, "pre_alarm.dismissed", None)
    return tx.changed(event, pre_alarm_id=waiting["id"])


@command("expire_pre_alarm", PANEL, reserve=True)
def expire_pre_alarm(tx: Tx, params: dict) -> dict:
    """Nobody answered in time: the evacuation starts by itself (the server's timer)."""
    waiting = _open_pre_alarm(tx)
    if waiting is None or waiting["deadline"] > tx.ts:
        return tx.unchanged()  # answered meanwhile, or another process was first
    return _answer_with_evacuation(tx, waiting, "pre_alarm.expired")


# --- the link ---------------------------------------------------------------------------------


@command("mark_alarm_panel_link_down", PANEL)
def mark_alarm_panel_link_down(tx: Tx, params: dict) -> dict:
    """The panel's heartbeat stopped for MISSED_HEARTBEATS of its intervals (the timer)."""
    link = next(tx.db.query("SELECT * FROM alarm_panel_links WHERE site = ?", [tx.site]), None)
    if link is None or link["state"] != "up":
        return tx.unchanged()
    heard = tx.db.execute(
        "SELECT received_at FROM alarm_panel_heartbeats WHERE site = ?", [tx.site]
    ).fetchone()
    last_heard = max(heard[0] if heard else 0, link["since"])
    if tx.ts < last_heard + MISSED_HEARTBEATS * link["interval_seconds"] * 1000:
        return tx.unchanged()
    event = tx.record(
        "alarm_panel.link_down",
        {"last_heard": iso(last_heard), "interval_seconds": link["interval_seconds"]},
    )
    return tx.changed(event)
