"""Who is accounted for at the assembly point, who is reported inside, and the visitors."""

from __future__ import annotations

from ..sql import replace_into
from . import projects, staff_id_of

REPORTED_INSIDE = replace_into(
    "reported_inside",
    ("incident_id", "person", "person_id", "location", "by_staff_id", "at"),
    key=["incident_id", "person", "person_id"],
)


def account(db, event, p, person: str, person_id: int, how: str) -> None:
    """The person is accounted for in the incident, once: the first way counts."""
    db.execute(
        "INSERT INTO accounted (incident_id, person, person_id, how, assembly_point, "
        "by_staff_id, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            p["incident_id"],
            person,
            person_id,
            how,
            p.get("assembly_point"),
            staff_id_of(event),
            event["ts"],
        ],
    )


def _person_of(p: dict) -> tuple[str, int]:
    """A mustering event names a staff member or a visitor."""
    return ("staff", p["staff_id"]) if p.get("staff_id") else ("visitor", p["visitor_id"])


@projects("person.accounted")
def person_accounted(db, event, p):
    account(db, event, p, *_person_of(p), p["how"])


@projects("person.reported_inside")
def person_reported_inside(db, event, p):
    db.execute(
        REPORTED_INSIDE,
        [p["incident_id"], *_person_of(p), p["location"], staff_id_of(event), event["ts"]],
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
        account(db, event, p, "visitor", p["visitor_id"], "left")


@projects("visitor.texted")
def visitor_texted(db, event, p):
    """The SMS service's answer, for the evidence; nothing in the state changes."""
