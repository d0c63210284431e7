"""Mustering: who was on site when the alarm started, and who is accounted for.

The roll of an incident is every staff member on the site's roll (not an integration's account
or the chain's admin) and every visitor signed in at some moment of the incident. A person is
accounted for once, whichever way came first: their phone ("I am safe"), the assembly point
sign's QR code, a marshal at the point, or a visitor signing out. The unaccounted are what the
fire brigade asks for, with what is known of where each was last; the zones not swept clear
stand for the customers nobody can list.

The site file's rules for assembly points and visitors are here too (site_config imports them).
"""

from __future__ import annotations

import json
import re
import unicodedata

from ..basics.clock import iso
from ..basics.names import SLUG
from .auth import RESPONDERS, Identity

HOW = ("phone", "qr", "marshal", "left")  # how a person was accounted for
VISITOR_DEFAULTS = {"closes_at": "23:00"}  # visitors still in then are signed out
CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
NEVER = 2**62  # an incident still running ends after every moment we store


# --- the site file ---------------------------------------------------------------------------


def check_visitor_settings(section, path: tuple = ("visitors",)) -> list[tuple[tuple, str]]:
    """Every problem of a site file's `visitors:` section, as (path, message)."""
    if not isinstance(section, dict):
        return [(path, "a mapping: closes_at")]
    problems = []
    for key, value in section.items():
        if key != "closes_at":
            problems.append(((*path, key), "not a visitor setting"))
        elif not (isinstance(value, str) and CLOCK_TIME.fullmatch(value)):
            problems.append(((*path, key), "a time of day as HH:MM, e.g. 21:00"))
    return problems


def visitor_settings(site_settings: str | dict) -> dict:
    """A site's visitor settings with the defaults filled in (from sites.settings)."""
    if isinstance(site_settings, str):
        site_settings = json.loads(site_settings)
    return {**VISITOR_DEFAULTS, **(site_settings.get("visitors") or {})}


def point_ids_for(texts: list[str]) -> dict[str, str]:
    """An id for each distinct free-text assembly point ("Car park, lamp post A" ->
    "car-park-lamp-post-a"), unique among them, in the order they first appear."""
    ids: dict[str, str] = {}
    for text in texts:
        if text not in ids:
            ids[text] = unique_id(slug_for(text), set(ids.values()))
    return ids


def slug_for(text: str) -> str:
    """A readable id made from a name: ASCII letters and digits joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:36].strip("-")
    return slug if SLUG.fullmatch(slug) else "point"


def unique_id(slug: str, taken: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`... when taken."""
    candidate, number = slug, 1
    while candidate in taken:
        number += 1
        candidate = f"{slug}-{number}"
    return candidate


# --- who may account for others ----------------------------------------------------------------


def is_marshal(db, identity: Identity, site: str) -> bool:
    """Guards, duty managers and admins, and staff the site file marks `marshal: true`."""
    if identity.role in RESPONDERS:
        return True
    if identity.staff_id is None or identity.site != site:
        return False
    row = db.execute("SELECT marshal FROM staff WHERE id = ?", [identity.staff_id]).fetchone()
    return bool(row and row[0])


# --- the roll of an incident -------------------------------------------------------------------

# Staff of the site on its roll; visitors on site at some moment of the incident (or now).
STAFF_ON_ROLL = "s.site = :site AND s.on_roll = 1 AND s.created_at <= :until"
# Still in, or left after `since`: one range of the index visitors_on_site_until (db.py), not a
# walk of the day's register and every day's before it (an OR of the two scanned them all).
VISITORS_ON_ROLL = (
    f"v.site = :site AND v.signed_in_at <= :until AND COALESCE(v.left_at, {NEVER}) >= :since"
)


def _window(incident: dict | None, now: int) -> dict:
    """The moments the roll covers: the incident's, or now when there is none."""
    if incident is None:
        return {"since": now, "until": now, "incident_id": None}
    return {
        "since": incident["started_at"],
        "until": incident["ended_at"] or NEVER,
        "incident_id": incident["id"],
    }


def muster_counts(db, site: str, incident: dict | None, now: int) -> dict:
    """How many are on site (staff on the roll and visitors), accounted for and not."""
    window = {"site": site, **_window(incident, now)}
    staff = db.execute(f"SELECT COUNT(*) FROM staff s WHERE {STAFF_ON_ROLL}", window).fetchone()[0]
    visitors = db.execute(
        f"SELECT COUNT(*) FROM visitors v WHERE {VISITORS_ON_ROLL}", window
    ).fetchone()[0]
    accounted = db.execute(
        "SELECT COUNT(*) FROM accounted WHERE incident_id = ?", [window["incident_id"]]
    ).fetchone()[0]
    on_site = staff + visitors
    return {"on_site": on_site, "accounted": accounted, "unaccounted": on_site - accounted}


def roll(db, site: str, incident: dict | None, now: int) -> list[dict]:
    """Everyone on the roll, staff first, each with how they were accounted for (or None),
    whether someone reported them inside, and the assembly point their zone goes to."""
    return [*staff_on_roll(db, site, incident, now), *visitors_on_roll(db, site, incident, now)]


# How each person was accounted for and reported: the same columns for staff and visitors.
MUSTER_COLUMNS = """z.assembly_point AS expected_point,
       a.how, a.assembly_point, a.at, a.by_staff_id, b.name AS by_name,
       r.location, r.at AS reported_at, r.by_staff_id AS reported_by"""


def _muster_joins(person: str, alias: str) -> str:
    return f"""LEFT JOIN accounted a ON a.incident_id = :incident_id AND a.person = '{person}'
                 AND a.person_id = {alias}.id
            LEFT JOIN staff b ON b.id = a.by_staff_id
            LEFT JOIN reported_inside r ON r.incident_id = :incident_id
                 AND r.person = '{person}' AND r.person_id = {alias}.id"""


def staff_on_roll(
    db, site: str, incident: dict | None, now: int, staff_id: int | None = None
) -> list[dict]:
    """The site's staff on the roll (or only `staff_id`), with the roll call's columns."""
    only_one = "AND s.id = :staff_id" if staff_id is not None else ""
    rows = db.query(
        f"""SELECT 'staff' AS person, s.id, s.name, s.role, s.home_zone,
                   EXISTS (SELECT 1 FROM credentials c WHERE c.staff_id = s.id
                           AND c.revoked_at IS NULL) AS enrolled,
                   rc.delivered_at, rc.acknowledged_at, rc.safe_at, {MUSTER_COLUMNS}
            FROM staff s
            LEFT JOIN zones z ON z.site = s.site AND z.id = s.home_zone
            LEFT JOIN roll_call rc ON rc.incident_id = :incident_id AND rc.staff_id = s.id
            {_muster_joins("staff", "s")}
            WHERE {STAFF_ON_ROLL} {only_one} ORDER BY s.name, s.id""",
        {"site": site, "staff_id": staff_id, **_window(incident, now)},
    )
    return [person_view(row) for row in rows]


def visitors_on_roll(db, site: str, incident: dict | None, now: int) -> list[dict]:
    """The visitors on site at some moment of the incident (or now, when there is none)."""
    rows = db.query(
        f"""SELECT 'visitor' AS person, v.id, v.name, h.home_zone, v.company, v.self_signed,
                   v.signed_in_at, v.left_at, v.host_staff_id, {MUSTER_COLUMNS}
            FROM visitors v
            LEFT JOIN staff h ON h.id = v.host_staff_id
            LEFT JOIN zones z ON z.site = v.site AND z.id = h.home_zone
            {_muster_joins("visitor", "v")}
            WHERE {VISITORS_ON_ROLL} ORDER BY v.signed_in_at, v.id""",
        {"site": site, **_window(incident, now)},
    )
    return [person_view(row) for row in rows]


def person_view(row: dict) -> dict:
    """One person of the roll as the API and the report show them."""
    view = {
        "person": row["person"],
        f"{row['person']}_id": row["id"],
        "name": row["name"],
        "home_zone": row["home_zone"],
        "expected_assembly_point": row["expected_point"],
        "accounted": _accounted(row),
        "reported_inside": _reported_inside(row),
    }
    if row["person"] == "staff":
        view |= {
            "role": row["role"],
            "enrolled": bool(row["enrolled"]),
            "delivered_at": iso(row["delivered_at"]),
            "acknowledged_at": iso(row["acknowledged_at"]),
            "safe_at": iso(row["safe_at"]),
        }
    else:
        view |= {
            "company": row["company"],
            "host_staff_id": row["host_staff_id"],
            "self_signed": bool(row["self_signed"]),
            "signed_in_at": iso(row["signed_in_at"]),
            "left_at": iso(row["left_at"]),
        }
    return view


def _accounted(row: dict) -> dict | None:
    return accounted_view(row) if row["how"] is not None else None


def accounted_view(row: dict) -> dict:
    """How a person was accounted for: how, by whom (staff id and name), where and when."""
    by = {"staff_id": row["by_staff_id"], "name": row["by_name"]} if row["by_staff_id"] else None
    return {
        "how": row["how"],
        "by": by,
        "assembly_point": row["assembly_point"],
        "at": iso(row["at"]),
    }


def _reported_inside(row: dict) -> dict | None:
    if row["location"] is None:
        return None
    return {"location": row["location"], "by": row["reported_by"], "at": iso(row["reported_at"])}


def unaccounted(db, site: str, incident: dict, now: int) -> dict:
    """What the fire brigade asks for: each person not accounted for, with every place they
    were last known to be, and each zone not swept clear (customers may still be there)."""
    people = [p for p in roll(db, site, incident, now) if p["accounted"] is None]
    sweeping = dict(
        db.execute(
            "SELECT staff_id, zone FROM sweeps WHERE incident_id = ? AND status = 'claimed'",
            [incident["id"]],
        ).fetchall()
    )
    asked_help: dict[int, str] = {}
    for raised_by, location in db.execute(
        "SELECT raised_by, location FROM help_requests WHERE incident_id = ? "
        "AND resolved_at IS NULL ORDER BY id",
        [incident["id"]],
    ).fetchall():
        asked_help.setdefault(raised_by, location)
    for person in people:
        person["last_known"] = _last_known(person, sweeping, asked_help)
    zones = [
        {"id": r["id"], "name": r["name"], "sweep": r["status"] or "unchecked", "note": r["note"]}
        for r in db.query(
            """SELECT z.id, z.name, w.status, w.note FROM zones z
               LEFT JOIN sweeps w ON w.zone = z.id AND w.incident_id = ?
               WHERE z.site = ? AND COALESCE(w.status, 'unchecked') != 'clear'
               ORDER BY z.position, z.id""",
            [incident["id"], site],
        )
    ]
    return {"incident_id": incident["id"], "people": people, "zones": zones}


def _last_known(person: dict, sweeping: dict, asked_help: dict) -> list[dict]:
    """Every place the person was last known to be, the most telling first."""
    places = []
    if person["reported_inside"]:
        places.append({"source": "reported_inside", "where": person["reported_inside"]["location"]})
    staff_id = person.get("staff_id")
    if staff_id in asked_help:
        places.append({"source": "help_request", "where": asked_help[staff_id]})
    if staff_id in sweeping:
        places.append({"source": "sweeping", "zone": sweeping[staff_id]})
    if person["home_zone"]:
        places.append({"source": "home_zone", "zone": person["home_zone"]})
    return places
