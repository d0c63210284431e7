"""The fire-alarm panel: its secrets, its signals, its link, and the pre-alarm."""

from __future__ import annotations

from ..sql import replace_into
from . import ms_or_none, projects, staff_id_of

LINK_COLUMNS = ("site", "state", "since", "interval_seconds")
REPLACE_LINK = replace_into("alarm_panel_links", LINK_COLUMNS, key=["site"])


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
        REPLACE_LINK,
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
            ms_or_none(p["deadline"]),
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
            staff_id_of(event),
            p.get("incident_id"),
            p["pre_alarm_id"],
        ],
    )
