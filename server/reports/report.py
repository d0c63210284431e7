"""The evidence report of one incident, as data: the incident's own events with their times
and hashes, what each public channel said and when, the roll call, the zones, the help and
backup requests, and the log's verification, all as they stood during the incident, read from
the log. report.json is exactly this; report_document.py words it for a reader."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from ..basics.clock import iso, now_ms, parse_iso, time_zone
from ..basics.errors import NotFound
from ..channels import CHANNELS
from ..rules.mustering import staff_on_roll, visitors_on_roll
from ..store import log, personal
from ..store.events import PRIVATE_FIELDS
from ..store.sql import marks
from ..store.state import backup_request_view, help_request_view, incident_view, zone_views
from .channels import channel_times

# The entries by which a person gets a credential: enrolled from then on.
CREDENTIAL_EVENTS = ("token.created", "device.enrolled")


def incident_report(
    db, site: str, incident_id: int, *, proof: dict | None = None, public_url: str | None = None
) -> dict:
    """The report as data. `proof` ({fingerprint, bundle_sha256}) is what an evidence bundle
    adds: the signing key's fingerprint and the bundle's hash, printed for a reader to match.
    `public_url` is the status page's, as the mailboxes' automatic replies linked it."""
    row = next(
        db.query("SELECT * FROM incidents WHERE id = ? AND site = ?", [incident_id, site]), None
    )
    if row is None:
        raise NotFound(f"There is no incident {incident_id} on site '{site}'.")
    site_row = next(db.query("SELECT * FROM sites WHERE id = ?", [site]))
    zone = time_zone(site_row["timezone"])
    channels = channel_times(db, site, row, public_url)
    said = {c[key] for c in channels for key in ("from_seq", "until_seq")} - {None}
    events = incident_events(db, site, row, said)
    reader = personal.Reader(db)
    backups = {e["payload"]["backup_id"] for e in events if e["type"] == "backup.requested"}
    verification = log.verify(db, site)
    roll_call = roll_call_at_alarm(db, site, row)
    return {
        "site": {
            "id": site,
            "name": site_row["name"],
            "timezone": site_row["timezone"],
            "languages": json.loads(site_row["languages"]),
        },
        "incident": incident_view(row),
        "generated_at": iso(now_ms()),
        "events": [_event_row(event, zone, reader) for event in events],
        "channels": channels,
        "closures": _closures(events, row["id"]),
        "roll_call": roll_call,
        "accounting": accounting_times(roll_call, row),
        "assembly_points": [
            {"id": p["id"], "name": p["name"], "where": p["place"]}
            for p in db.query(
                "SELECT * FROM assembly_points WHERE site = ? ORDER BY position, id", [site]
            )
        ],
        "zones": _zones(db, site, row["id"]),
        "help_requests": [
            help_request_view(h)
            for h in db.query(
                "SELECT * FROM help_requests WHERE incident_id = ? ORDER BY id", [row["id"]]
            )
        ],
        "backup_requests": [
            backup_request_view(b)
            for b in db.query("SELECT * FROM backup_requests WHERE site = ? ORDER BY id", [site])
            if b["id"] in backups
        ],
        "verification": {
            "ok": verification.ok,
            "count": verification.count,
            "last_hash": verification.last_hash,
            "problem": verification.problem,
        },
        "proof": {
            "fingerprint": (proof or {}).get("fingerprint"),
            "bundle_sha256": (proof or {}).get("bundle_sha256"),
        },
    }


def incident_events(db, site: str, incident: dict, channel_seqs: set) -> list[dict]:
    """The incident's own entries, in order: those that name it, the backup requests raised
    while it was on (and how they ended), and the entries in `channel_seqs`, which put its
    words on a public channel or took them off (the switch back to "open" comes later), and
    the steps of the server's clock while it was on (its times run on evenly across them)."""
    later = sorted(channel_seqs)
    rows = db.query(
        f"""SELECT * FROM events WHERE site = ? AND seq >= ?
            AND (CAST(json_extract(payload, '$.incident_id') AS BIGINT) = ? OR type LIKE 'backup.%'
                 OR type = 'clock.stepped'
                 OR seq IN ({marks(later)}))
            ORDER BY seq""",
        [site, incident["start_seq"], incident["id"], *later],
    )
    end = incident["end_seq"]
    backups: set[int] = set()
    events = []
    for entry in map(log.row_to_entry, rows):
        if entry["type"] == "backup.requested" and (end is None or entry["seq"] < end):
            backups.add(entry["payload"]["backup_id"])
        if entry["type"].startswith("backup.") and entry["payload"]["backup_id"] not in backups:
            continue
        if entry["type"] == "clock.stepped" and end is not None and entry["seq"] > end:
            continue
        events.append(entry)
    return events


def _event_row(event: dict, zone, reader: personal.Reader) -> dict:
    """An entry as the log has it (what verify_report.py compares), without its digests and
    its sealed personal fields; beside it, those fields and the actor's name as read now
    ("(erased)" once erased)."""
    moment = datetime.fromtimestamp(event["ts"] / 1000, tz=zone)
    type_, payload = event["type"], event["payload"]
    # Digests of secrets and push subscriptions stay in the log (events.PRIVATE_FIELDS).
    shown = personal.without_personal(type_, payload)
    return {
        "seq": event["seq"],
        "ts": iso(event["ts"]),
        "local_time": moment.isoformat(timespec="seconds"),
        "type": type_,
        "actor": event["actor"],
        "actor_name": reader.actor(event["actor"]).get("name"),
        "payload": {k: v for k, v in shown.items() if k not in PRIVATE_FIELDS},
        "personal": {
            k: v
            for k, v in personal.personal_part(reader.keys, type_, payload).items()
            if k not in PRIVATE_FIELDS
        },
        "hash": event["hash"],
    }


def roll_call_at_alarm(db, site: str, incident: dict) -> dict:
    """Everyone on the incident's roll (server/rules/mustering.py): the staff, each `enrolled` if
    they had a credential when the alarm started, with their steps, and the visitors; each
    with how, where, when and by whom they were accounted for. The counts are over them."""
    start = incident["start_seq"]
    enrolled = {
        staff_id
        for (staff_id,) in db.execute(
            f"""SELECT CAST(json_extract(payload, '$.staff_id') AS BIGINT) FROM events WHERE site = ?
                AND seq < ? AND type IN ({marks(CREDENTIAL_EVENTS)})""",
            [site, start, *CREDENTIAL_EVENTS],
        )
    }
    staff = [
        {**person, "enrolled": person["staff_id"] in enrolled}
        for person in staff_on_roll(db, site, incident, incident["started_at"])
    ]
    visitors = _with_sign_in_seqs(
        db, site, visitors_on_roll(db, site, incident, incident["started_at"])
    )
    everyone = [*staff, *visitors]
    accounted = sum(person["accounted"] is not None for person in everyone)
    counts = {
        "enrolled": sum(p["enrolled"] for p in staff),
        **{
            step: sum(p[f"{step}_at"] is not None for p in staff)
            for step in ("delivered", "acknowledged", "safe")
        },
        "people": len(staff),
        "no_phone": sum(not p["enrolled"] for p in staff),
        "on_site": len(everyone),
        "accounted": accounted,
        "unaccounted": len(everyone) - accounted,
    }
    return {**counts, "staff": staff, "visitors": visitors}


def _with_sign_in_seqs(db, site: str, visitors: list[dict]) -> list[dict]:
    """Each visitor with `signed_in_seq`, the log entry that put them on site: the bundle
    carries it, so that the roll's visitors can be checked against the log."""
    ids = [visitor["visitor_id"] for visitor in visitors]
    seqs = dict(
        db.execute(
            f"""SELECT CAST(json_extract(payload, '$.visitor_id') AS BIGINT), seq FROM events
                WHERE site = ? AND type = 'visitor.signed_in'
                AND CAST(json_extract(payload, '$.visitor_id') AS BIGINT) IN ({marks(ids)})""",
            [site, *ids],
        ).fetchall()
    )
    return [{**visitor, "signed_in_seq": seqs.get(visitor["visitor_id"])} for visitor in visitors]


def accounting_times(roll_call: dict, incident: dict) -> dict:
    """When the last person was accounted for, and whether that was everyone: the figure a
    drill exists to measure (seconds from the alarm)."""
    moments = [
        parse_iso(person["accounted"]["at"])
        for person in [*roll_call["staff"], *roll_call["visitors"]]
        if person["accounted"] is not None
    ]
    last = max(moments, default=None)
    everyone = roll_call["unaccounted"] == 0 and roll_call["on_site"] > 0
    return {
        "last_accounted_at": iso(last),
        "everyone_accounted": everyone,
        "seconds_to_everyone": round((last - incident["started_at"]) / 1000, 3)
        if everyone and last is not None
        else None,
    }


def _zones(db, site: str, incident_id: int) -> list[dict]:
    """The zones there were to sweep in this incident (those of the site when it started)."""
    swept = {
        z for (z,) in db.execute("SELECT zone FROM sweeps WHERE incident_id = ?", [incident_id])
    }
    return [z for z in zone_views(db, site, incident_id) if z["id"] in swept]


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
        if payload["channel"] not in spans:  # a mailbox: its times are in the report's channels
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


# A cell a spreadsheet would take for a formula: a visitor signs in with a name of their own
# choosing (OWASP's CSV injection), so such a cell starts with an apostrophe, as typed.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class SheetWriter:
    """csv.writer whose text cells never start a formula."""

    def __init__(self, out: io.StringIO):
        self.writer = csv.writer(out)

    def writerow(self, row: list) -> None:
        self.writer.writerow(
            [
                f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell
                for cell in row
            ]
        )


def report_csv(report: dict) -> str:
    """One row per event, for a spreadsheet."""
    out = io.StringIO()
    writer = SheetWriter(out)
    writer.writerow(["seq", "utc", "local_time", "type", "actor", "role", "payload", "hash"])
    for event in report["events"]:
        writer.writerow(
            [
                event["seq"],
                event["ts"],
                event["local_time"],
                event["type"],
                event.get("actor_name"),
                event["actor"].get("role"),
                json.dumps(
                    {**event["payload"], **event.get("personal", {})},
                    ensure_ascii=False,
                    sort_keys=True,
                ),
                event["hash"],
            ]
        )
    return out.getvalue()


ROLL_CALL_COLUMNS = (
    "person",
    "id",
    "name",
    "role_or_company",
    "self_signed",
    "how",
    "assembly_point",
    "accounted_at",
    "by",
    "reported_inside",
)


def roll_call_csv(report: dict) -> str:
    """One row per person on site at the alarm (staff, then visitors): how, where, when and
    by whom they were accounted for; empty when never."""
    out = io.StringIO()
    writer = SheetWriter(out)
    writer.writerow(list(ROLL_CALL_COLUMNS))
    roll = report["roll_call"]
    for person in [*roll["staff"], *roll.get("visitors", [])]:
        accounted = person["accounted"] or {}
        inside = person.get("reported_inside") or {}
        writer.writerow(
            [
                person["person"],
                person.get("staff_id") or person.get("visitor_id"),
                person["name"],
                person.get("role") or person.get("company") or "",
                "yes" if person.get("self_signed") else "",
                accounted.get("how") or "",
                accounted.get("assembly_point") or "",
                accounted.get("at") or "",
                (accounted.get("by") or {}).get("name") or "",
                inside.get("location") or "",
            ]
        )
    return out.getvalue()
