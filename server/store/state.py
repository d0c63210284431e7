"""The current-state tables, read as views: site state, incident, zones, roll call.

Also decides who may see which event: the roll call, backup requests and who has a phone go
only to responders (events.RESPONDER_ONLY_EVENTS); everyone else still receives the sequence
numbers, redacted, so that a gap always means a lost message.
"""

from __future__ import annotations

import json

from ..basics.clock import iso, now_ms
from ..rules.alarm_panel import panel_view
from ..rules.auth import Identity
from ..rules.mustering import muster_counts, staff_on_roll, visitors_on_roll
from . import log, personal
from .events import PRIVATE_FIELDS, RESPONDER_ONLY_EVENTS

# Most events in one catch-up message.
CATCH_UP_BATCH = 500
# Most catch-ups kept per site and audience (each at one last_seq) until the next event.
KEPT_CATCH_UPS = 64


def first_row(db, sql: str, params: list) -> dict | None:
    """The first row as a dict, or None: on the hot path of every command, so straight from
    the SQLite cursor (sqlite-utils' `query` builds a generator and dedupes the keys)."""
    cursor = getattr(db, "conn", db).execute(sql, params)
    row = cursor.fetchone()
    return None if row is None else dict(zip([d[0] for d in cursor.description], row, strict=True))


def site_ids(db) -> list[str]:
    """Every site's id, in order."""
    return [site for (site,) in db.execute("SELECT id FROM sites ORDER BY id").fetchall()]


def site_row(db, site: str) -> dict | None:
    return first_row(db, "SELECT * FROM sites WHERE id = ?", [site])


def active_incident(db, site: str) -> dict | None:
    return first_row(db, "SELECT * FROM incidents WHERE site = ? AND ended_at IS NULL", [site])


def incident_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "site": row["site"],
        "kind": row["kind"],
        "drill": bool(row["drill"]),
        "message": row["message"],
        "eta": iso(row["eta"]),
        "started_at": iso(row["started_at"]),
        "started_by": row["started_by"],
        "start_seq": row["start_seq"],
        "ended_at": iso(row["ended_at"]),
        "ended_by": row["ended_by"],
        "end_reason": row["end_reason"],
        "end_seq": row["end_seq"],
    }


def zone_views(db, site: str, incident_id: int | None) -> list[dict]:
    """Every zone of the site with its sweep status in the incident (unchecked when none)."""
    rows = db.query(
        """SELECT z.id, z.name, z.exits, z.assembly_point AS point_id,
                  COALESCE(p.name, z.assembly_point) AS assembly_point, w.status, w.staff_id,
                  w.note, w.updated_at, s.name AS staff_name, w.asked, a.name AS asked_name,
                  w.declined, d.name AS declined_name
           FROM zones z
           LEFT JOIN assembly_points p ON p.site = z.site AND p.id = z.assembly_point
           LEFT JOIN sweeps w ON w.zone = z.id AND w.incident_id = ?
           LEFT JOIN staff s ON s.id = w.staff_id
           LEFT JOIN staff a ON a.id = w.asked
           LEFT JOIN staff d ON d.id = w.declined
           WHERE z.site = ? ORDER BY z.position, z.id""",
        [incident_id, site],
    )
    return [
        {
            "id": r["id"],
            "name": r["name"],
            "exits": json.loads(r["exits"]),
            "assembly_point": r["assembly_point"],  # its name, as people read it
            "assembly_point_id": r["point_id"],
            "sweep": r["status"] or "unchecked",
            "by": r["staff_id"],
            "by_name": r["staff_name"],
            "note": r["note"],
            "updated_at": iso(r["updated_at"]),
            # Asked to sweep it, not answered yet; the last one who said they cannot.
            "asked": r["asked"],
            "asked_name": r["asked_name"],
            "declined": r["declined"],
            "declined_name": r["declined_name"],
        }
        for r in rows
    ]


def assembly_point_views(db, site: str) -> list[dict]:
    """The site's assembly points in their order: id, name, and where it is."""
    return [
        {"id": r["id"], "name": r["name"], "where": r["place"]}
        for r in db.query(
            "SELECT * FROM assembly_points WHERE site = ? ORDER BY position, id", [site]
        )
    ]


def roll_call_view(db, site: str, incident_id: int | None, staff_id: int | None = None) -> dict:
    """Everyone on the site's roll (or only staff member `staff_id`): staff with whether the
    alarm reached them, they acknowledged and they are safe, and visitors; each with how they
    were accounted for. The counts are over the whole site either way."""
    incident, now = incident_row(db, incident_id), now_ms()
    view = {
        **roll_call_counts(db, site, incident_id),
        "staff": staff_on_roll(db, site, incident, now, staff_id),
    }
    if staff_id is None:
        view["visitors"] = visitors_on_roll(db, site, incident, now)
    return view


def incident_row(db, incident_id: int | None) -> dict | None:
    rows = list(db.query("SELECT * FROM incidents WHERE id = ?", [incident_id]))
    return rows[0] if rows else None


def roll_call_counts(db, site: str, incident_id: int | None) -> dict:
    """How many have a phone (`enrolled`), got the alarm, acknowledged and are safe; how many
    `people` the site has on its roll, `no_phone` of them with no phone (no alarm reaches
    them); and how many are on site (visitors too), accounted for and not."""
    people = db.execute(
        "SELECT COUNT(*) FROM staff WHERE site = ? AND on_roll = 1", [site]
    ).fetchone()[0]
    enrolled = db.execute(
        """SELECT COUNT(DISTINCT c.staff_id) FROM credentials c JOIN staff s ON s.id = c.staff_id
           WHERE s.site = ? AND s.on_roll = 1 AND c.revoked_at IS NULL""",
        [site],
    ).fetchone()[0]
    delivered, acknowledged, safe = db.execute(
        """SELECT COUNT(delivered_at), COUNT(acknowledged_at), COUNT(safe_at)
           FROM roll_call WHERE incident_id = ?""",
        [incident_id],
    ).fetchone()
    return {
        "enrolled": enrolled,
        "delivered": delivered,
        "acknowledged": acknowledged,
        "safe": safe,
        "people": people,
        "no_phone": people - enrolled,
        **muster_counts(db, site, incident_row(db, incident_id), now_ms()),
    }


def help_request_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "incident_id": row["incident_id"],
        "raised_by": row["raised_by"],
        "location": row["location"],
        "note": row["note"],
        "raised_at": iso(row["raised_at"]),
        "resolved_at": iso(row["resolved_at"]),
        "resolved_by": row["resolved_by"],
    }


def backup_request_view(row: dict) -> dict:
    return {
        "id": row["id"],
        "raised_by": row["raised_by"],
        "location": row["location"],
        "note": row["note"],
        "raised_at": iso(row["raised_at"]),
        "ended_at": iso(row["ended_at"]),
        "outcome": row["outcome"],
        "ended_by": row["ended_by"],
        **({"ended_by_name": row["ended_by_name"]} if "ended_by_name" in row else {}),
    }


def responder_phones(db, site: str, staff_id: int) -> dict:
    """Whose phones a backup request from `staff_id` reaches: how many guards and how many
    duty managers or admins have one, so that the asker is told the truth ("sent to the
    duty manager" when the guard has no phone)."""
    rows = db.execute(
        """SELECT s.role, COUNT(DISTINCT s.id) FROM staff s JOIN credentials c ON c.staff_id = s.id
           WHERE s.site = ? AND s.id != ? AND c.revoked_at IS NULL AND c.kind = 'device'
             AND s.role IN ('guard', 'duty_manager', 'admin')
           GROUP BY s.role""",
        [site, staff_id],
    ).fetchall()
    counts = dict(rows)
    return {
        "guards": counts.get("guard", 0),
        "managers": counts.get("duty_manager", 0) + counts.get("admin", 0),
    }


def my_backup_request(db, staff_id: int, site: str) -> dict | None:
    """The person's latest backup request, open or ended, with who answered it: a staff phone
    reads no backup events, so this is how the one who asked learns that help is coming."""
    row = next(
        db.query(
            """SELECT b.*, s.name AS ended_by_name FROM backup_requests b
               LEFT JOIN staff s ON s.id = b.ended_by
               WHERE b.raised_by = ? ORDER BY b.id DESC LIMIT 1""",
            [staff_id],
        ),
        None,
    )
    if row is None:
        return None
    declined = [
        name
        for (name,) in db.execute(
            """SELECT s.name FROM backup_declines d JOIN staff s ON s.id = d.staff_id
               WHERE d.backup_id = ? ORDER BY d.at, s.id""",
            [row["id"]],
        )
    ]
    return {
        **backup_request_view(row),
        "reaches": responder_phones(db, site, staff_id),
        "declined": declined,  # who said they cannot come, by name
    }


def site_state(db, site: str, is_responder: bool) -> dict:
    """The whole state of a site as one audience sees it, at one sequence number: everyone's
    roll-call row for responders, the counts alone (an empty `staff` list) for staff."""
    row = site_row(db, site)
    incident = active_incident(db, site)
    incident_id = incident["id"] if incident else None
    roll_call = (
        roll_call_view(db, site, incident_id)
        if is_responder
        else {**roll_call_counts(db, site, incident_id), "staff": []}
    )
    state = {
        "site": {
            "id": row["id"],
            "name": row["name"],
            "timezone": row["timezone"],
            "languages": json.loads(row["languages"]),
        },
        "seq": log.latest_seq(db, site),
        "incident": incident_view(incident) if incident else None,
        "zones": zone_views(db, site, incident_id),
        "assembly_points": assembly_point_views(db, site),
        "roll_call": roll_call,
        "help_requests": [
            help_request_view(r)
            for r in db.query(
                "SELECT * FROM help_requests WHERE incident_id = ? AND resolved_at IS NULL ORDER BY id",
                [incident_id],
            )
        ],
    }
    if is_responder:
        state["backup_requests"] = [
            backup_request_view(r)
            for r in db.query(
                "SELECT * FROM backup_requests WHERE site = ? AND ended_at IS NULL ORDER BY id",
                [site],
            )
        ]
        state["alarm_panel"] = panel_view(db, site, now_ms())
        state["escalations"] = escalation_views(db, incident_id)
        state["mailbox_states"] = mailbox_views(db, row)
    return state


def mailbox_views(db, site_row: dict) -> list[dict]:
    """Each customer-service mailbox the site lists (and one no longer listed that still
    holds our reply), with what its automatic reply says now (mailbox_states, projected from
    the mailbox events; `reply` None until it was first switched) and whether it is failing."""
    settings = json.loads(site_row["settings"] or "{}")
    listed = (settings.get("notices") or {}).get("email") or []
    known = {
        r["mailbox"]: r
        for r in db.query("SELECT * FROM mailbox_states WHERE site = ?", [site_row["id"]])
    }
    views = [
        _mailbox_view(entry["mailbox"], entry["provider"], known.get(entry["mailbox"]))
        for entry in listed
    ]
    named = {entry["mailbox"] for entry in listed}
    views += [
        _mailbox_view(m, r["provider"], r)
        for m, r in sorted(known.items())
        if m not in named and r["reply"] == "ours"
    ]
    return views


def _mailbox_view(mailbox: str, provider: str, row: dict | None) -> dict:
    row = row or {}
    failing = row.get("failing_since") is not None
    return {
        "mailbox": mailbox,
        "provider": provider,
        "reply": row.get("reply"),  # ours, earlier, off, theirs
        "since": iso(row.get("since")),
        "failing": {
            "since": iso(row["failing_since"]),
            "status": row["failing_status"],
            "retry_at": iso(row["retry_at"]),
        }
        if failing
        else None,
    }


def escalation_views(db, incident_id: int | None) -> list[dict]:
    """Every attempt to reach a silent phone in the incident (server/rules/escalation.py), oldest
    first: the console shows who is still unreached and how each was tried."""
    return [
        {
            "staff_id": r["staff_id"],
            "step": r["step"],
            "channel": r["channel"],
            "at": iso(r["at"]),
            "outcome": r["outcome"],
        }
        for r in db.query(
            "SELECT * FROM escalations WHERE incident_id = ? ORDER BY at, staff_id", [incident_id]
        )
    ]


class SiteStates:
    """The state sent on connect, built once per site, audience and seq and shared by everyone
    who connects at that moment: the thousandth phone of a crowd costs what the first did.
    A staff member's copy adds only their own roll-call row.

    Socket.IO sends each as JSON text: the shared part is encoded once too (`*_json`), so a
    phone connecting costs the encoding of its own rows only, not of the whole state."""

    def __init__(self):
        # (site, is_responder) -> (seq, the state, its JSON without the person's own rows)
        self._latest: dict[tuple[str, bool], tuple[int, dict, str]] = {}
        # The catch-ups of the site's latest seq, by audience and the client's last_seq, as
        # the JSON text of each `events` message.
        self._missed: dict[tuple[str, bool], tuple[int, dict[int, list[str] | None]]] = {}

    def missed_json(self, db, identity: Identity, last_seq: int, limit: int) -> list[str] | None:
        """What a client that saw up to `last_seq` missed, as the JSON text of `events`
        messages of at most CATCH_UP_BATCH events; None when more than `limit` (the state
        alone brings it up to date). Built once per site, audience, last_seq and latest seq: a
        thousand phones back after a restart, most of them at one last_seq, cost what the
        first did. Call inside one `Store.reading()`, as `for_person_json`."""
        site, is_responder = identity.site, identity.is_responder
        seq = log.latest_seq(db, site)
        known = self._missed.get((site, is_responder))
        if known is None or known[0] != seq:
            known = (seq, {})
            self._missed[(site, is_responder)] = known
        batches = known[1]
        if last_seq in batches:
            return batches[last_seq]
        missed = _missed(db, site, is_responder, last_seq, limit)
        if missed is not None:
            missed = [WIRE_JSON.encode(batch) for batch in missed]
        if len(batches) < KEPT_CATCH_UPS:  # phones live in a crowd each saw a different seq
            batches[last_seq] = missed
        return missed

    def for_person(self, db, identity: Identity) -> dict:
        """Call inside one `Store.reading()`, so that the seq and the state agree."""
        state, _shared = self._shared(db, identity)
        if is_shared(identity):
            return state
        return {**state, **self._own(db, identity, state)}

    def for_person_json(self, db, identity: Identity) -> str:
        """`for_person` as JSON text, the shared part encoded once per seq."""
        state, shared = self._shared(db, identity)
        if is_shared(identity):
            return shared
        own = self._own(db, identity, state)
        # The shared part's object, opened to take the person's own keys.
        return (
            shared[:-1]
            + "".join(
                f",{WIRE_JSON.encode(key)}:{WIRE_JSON.encode(value)}" for key, value in own.items()
            )
            + "}"
        )

    def _shared(self, db, identity: Identity) -> tuple[dict, str]:
        """The audience's state at the site's latest seq, and its JSON without `roll_call`
        for staff (whose copy carries their own row there) or whole for responders."""
        site, is_responder = identity.site, identity.is_responder
        seq = log.latest_seq(db, site)
        cached = self._latest.get((site, is_responder))
        if cached is None or cached[0] != seq:
            state = site_state(db, site, is_responder)
            shared = state if is_responder else {k: v for k, v in state.items() if k not in OWN}
            cached = (seq, state, WIRE_JSON.encode(shared))
            self._latest[(site, is_responder)] = cached
        _seq, state, shared = cached
        if not is_responder and identity.staff_id is None:  # no own rows: the whole of it
            return state, WIRE_JSON.encode(state)
        return state, shared

    @staticmethod
    def _own(db, identity: Identity, state: dict) -> dict:
        """A staff member's own keys: their roll-call row (the counts are the shared state's:
        a thousand phones connecting must not count the site a thousand times) and their
        backup request."""
        incident_id = state["incident"]["id"] if state["incident"] else None
        incident = incident_row(db, incident_id)
        mine = staff_on_roll(db, identity.site, incident, now_ms(), identity.staff_id)
        return {
            "roll_call": {**state["roll_call"], "staff": mine},
            "my_backup_request": my_backup_request(db, identity.staff_id, identity.site),
        }


# The keys of a staff member's state that are their own (SiteStates._own).
OWN = ("roll_call", "my_backup_request")
# As Socket.IO encodes JSON (json.dumps with compact separators).
WIRE_JSON = json.JSONEncoder(separators=(",", ":"))


def is_shared(identity: Identity) -> bool:
    """Whether this reader gets the audience's state as it is: responders, and whoever is
    nobody on the staff list (the command line), who has no rows of their own."""
    return identity.is_responder or identity.staff_id is None


def _missed(db, site: str, is_responder: bool, last_seq: int, limit: int) -> list[list] | None:
    missed = log.events_after(db, site, last_seq, limit + 1)
    if len(missed) > limit:
        return None
    missed = personal.Reader(db).entries(missed)  # as read, like the live ones
    return [
        batch_for(is_responder, missed[start : start + CATCH_UP_BATCH])
        for start in range(0, len(missed), CATCH_UP_BATCH)
    ]


def event_message(event: dict) -> dict:
    """An event as clients receive it (never with the private fields of its payload)."""
    payload = {k: v for k, v in event["payload"].items() if k not in PRIVATE_FIELDS}
    return {
        "seq": event["seq"],
        "type": event["type"],
        "ts": iso(event["ts"]),
        "actor": event["actor"],
        "payload": payload,
    }


def may_read(is_responder: bool, event: dict) -> bool:
    return is_responder or event["type"] not in RESPONDER_ONLY_EVENTS


def event_message_for(is_responder: bool, event: dict) -> dict:
    """The event, or only its number when the reader may not read it."""
    if not may_read(is_responder, event):
        return {"seq": event["seq"], "type": "redacted"}
    return event_message(event)


def batch_for(is_responder: bool, events: list[dict]) -> list[dict]:
    """Consecutive events as one `events` message: each one the reader may read in full, and
    each run of the others as one range {"type": "redacted", "seq": FIRST, "last_seq": LAST},
    so that the reader still learns every number."""
    items: list[dict] = []
    for event in events:
        if may_read(is_responder, event):
            items.append(event_message(event))
        elif (
            items and items[-1]["type"] == "redacted" and items[-1]["last_seq"] == event["seq"] - 1
        ):
            items[-1]["last_seq"] = event["seq"]
        else:
            items.append({"type": "redacted", "seq": event["seq"], "last_seq": event["seq"]})
    return items
