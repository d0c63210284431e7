"""The evidence report of one incident: every event with its time and hash, when each public
channel said "closed" and when it said "open" again, the roll call at the all-clear, and the
log's verification, so anyone can check the report later against `verify-log`."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import log
from .clock import iso, now_ms
from .errors import NotFound
from .notices import CHANNELS
from .report_channels import channel_times
from .state import help_request_view, incident_view, roll_call_view, zone_views


def incident_report(db, site: str, incident_id: int) -> dict:
    """The report as data; report.json is exactly this."""
    row = next(
        db.query("SELECT * FROM incidents WHERE id = ? AND site = ?", [incident_id, site]), None
    )
    if row is None:
        raise NotFound(f"There is no incident {incident_id} on site '{site}'.")
    site_row = next(db.query("SELECT * FROM sites WHERE id = ?", [site]))
    zone = _zone(site_row["timezone"])
    channels = channel_times(db, site, row)
    events = _events(db, site, row, {c[k] for c in channels for k in ("from_seq", "until_seq")})
    verification = log.verify(db, site)
    return {
        "site": {"id": site, "name": site_row["name"], "timezone": site_row["timezone"]},
        "incident": incident_view(row),
        "generated_at": iso(now_ms()),
        "events": [_event_row(event, zone) for event in events],
        "channels": channels,
        "closures": _closures(events, row["id"]),
        "roll_call": roll_call_view(db, site, row["id"]),
        "zones": zone_views(db, site, row["id"]),
        "help_requests": [
            help_request_view(h)
            for h in db.query("SELECT * FROM help_requests WHERE incident_id = ?", [row["id"]])
        ],
        "verification": {
            "ok": verification.ok,
            "count": verification.count,
            "last_hash": verification.last_hash,
            "problem": verification.problem,
        },
    }


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _events(db, site: str, incident: dict, channel_seqs: set) -> list[dict]:
    """From incident.started to the last event that names this incident (after the all-clear,
    the channels' switch to "restored" still belongs to it), and the entries that put this
    incident's words on a public channel or took them off (the switch back to "open")."""
    last = db.execute(
        """SELECT MAX(seq) FROM events WHERE site = ? AND seq >= ?
           AND json_extract(payload, '$.incident_id') = ?""",
        [site, incident["start_seq"], incident["id"]],
    ).fetchone()[0]
    last = last or incident["start_seq"]
    later = sorted(seq for seq in channel_seqs if seq is not None and seq > last)
    rows = db.query(
        f"""SELECT * FROM events WHERE site = ? AND (seq BETWEEN ? AND ?
            OR seq IN ({", ".join("?" * len(later))})) ORDER BY seq""",
        [site, incident["start_seq"], last, *later],
    )
    return [log.row_to_entry(r) for r in rows]


def _event_row(event: dict, zone: ZoneInfo) -> dict:
    moment = datetime.fromtimestamp(event["ts"] / 1000, tz=zone)
    return {
        "seq": event["seq"],
        "ts": iso(event["ts"]),
        "local_time": moment.isoformat(timespec="seconds"),
        "type": event["type"],
        "actor": event["actor"],
        "payload": event["payload"],
        "hash": event["hash"],
    }


def _closures(events: list[dict], incident_id: int) -> dict:
    """Per public channel: when it said closed, when it said open again, for how long."""
    spans = {
        channel: {"closed_at": None, "reopened_at": None, "closed_seconds": None}
        for channel in CHANNELS
    }
    times: dict[str, list] = {}
    for event in events:
        payload = event["payload"]
        if event["type"] != "notice.switched" or payload.get("incident_id") != incident_id:
            continue
        span, at = spans[payload["channel"]], event["ts"]
        if payload["state"] == "closed":
            span["closed_at"] = iso(at)
            times.setdefault(payload["channel"], [at, None])
        elif payload["state"] == "restored" and payload["channel"] in times:
            span["reopened_at"] = iso(at)
            times[payload["channel"]][1] = at
    for channel, (closed, reopened) in times.items():
        if reopened is not None:
            spans[channel]["closed_seconds"] = round((reopened - closed) / 1000, 3)
    closed_times = [closed for closed, _ in times.values()]
    reopened_times = [reopened for _, reopened in times.values() if reopened is not None]
    total = None
    if closed_times and len(reopened_times) == len(closed_times):
        total = round((max(reopened_times) - min(closed_times)) / 1000, 3)
    return {"per_channel": spans, "total_closed_seconds": total}


def report_csv(report: dict) -> str:
    """One row per event, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["seq", "utc", "local_time", "type", "actor", "role", "payload", "hash"])
    for event in report["events"]:
        writer.writerow(
            [
                event["seq"],
                event["ts"],
                event["local_time"],
                event["type"],
                event["actor"].get("name"),
                event["actor"].get("role"),
                json.dumps(event["payload"], ensure_ascii=False, sort_keys=True),
                event["hash"],
            ]
        )
    return out.getvalue()


def duration(seconds: float) -> str:
    """12345.6 -> "3 h 25 min 46 s": how long, as a reader of a report wants it."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if hours or minutes else []
    return " ".join([*parts, f"{secs} s"])
