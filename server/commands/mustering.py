"""Accounting for people at the assembly point: a marshal marks a person (staff or visitor)
accounted for, or reports them still inside. A person is accounted for once, whichever way
came first (server/rules/mustering.py); a later mark is answered and not logged again."""

from __future__ import annotations

from ..basics.errors import Forbidden, NotFound
from ..rules.auth import EVERYONE
from ..rules.mustering import VISITORS_ON_ROLL, accounted_view, is_marshal
from . import Route, Tx, command
from .fields import Field
from .incidents import require_active_incident

# The person a marshal names: a staff member or a visitor, exactly one of the two.
PERSON = {"staff_id": Field("int"), "visitor_id": Field("int")}
ONE_PERSON = ("staff_id", "visitor_id")


def person_named(tx: Tx, params: dict, incident: dict) -> tuple[str, int]:
    """("staff", id) or ("visitor", id) of the person on this incident's roll, or a 4xx."""
    staff_id, visitor_id = params["staff_id"], params["visitor_id"]  # one of them (PERSON)
    if staff_id is not None:
        row = tx.db.execute(
            "SELECT 1 FROM staff WHERE id = ? AND site = ? AND on_roll = 1", [staff_id, tx.site]
        ).fetchone()
        if row is None:
            raise NotFound(f"There is no staff member {staff_id} on this site.", field="staff_id")
        return "staff", staff_id
    window = {"site": tx.site, "since": incident["started_at"], "until": tx.ts}
    row = tx.db.execute(
        f"SELECT 1 FROM visitors v WHERE v.id = :visitor_id AND {VISITORS_ON_ROLL}",
        {**window, "visitor_id": visitor_id},
    ).fetchone()
    if row is None:
        raise NotFound(
            f"There is no visitor {visitor_id} on this site in this incident.", field="visitor_id"
        )
    return "visitor", visitor_id


def require_assembly_point(tx: Tx, point_id: str | None) -> None:
    if (
        point_id is not None
        and not tx.db.execute(
            "SELECT 1 FROM assembly_points WHERE site = ? AND id = ?", [tx.site, point_id]
        ).fetchone()
    ):
        raise NotFound(
            f"There is no assembly point '{point_id}' on this site.", field="assembly_point"
        )


def require_marshal(tx: Tx) -> None:
    if not is_marshal(tx.db, tx.identity, tx.site):
        raise Forbidden(
            "Only a marshal can account for others: a guard, a duty manager, an admin, "
            "or staff the site file marks as marshal."
        )


def accounted_for(tx: Tx, incident_id: int, person: str, person_id: int) -> dict | None:
    """How the person was accounted for in the incident, or None."""
    row = next(
        tx.db.query(
            """SELECT a.*, b.name AS by_name FROM accounted a
               LEFT JOIN staff b ON b.id = a.by_staff_id
               WHERE a.incident_id = ? AND a.person = ? AND a.person_id = ?""",
            [incident_id, person, person_id],
        ),
        None,
    )
    return accounted_view(row) if row else None


@command(
    "account_person",
    EVERYONE,
    route=Route(
        "/sites/<site>/incidents/current/accounted",
        "A marshal accounts for a person (staff_id or visitor_id) at an assembly point",
    ),
    socket=True,
    reserve=True,  # the roll call: on a full disk too
    one_of=ONE_PERSON,
    assembly_point=Field(required=True, max_length=40),
    **PERSON,
)
def account_person(tx: Tx, params: dict) -> dict:
    require_marshal(tx)
    incident = require_active_incident(tx.db, tx.site)
    require_assembly_point(tx, params["assembly_point"])
    person, person_id = person_named(tx, params, incident)
    earlier = accounted_for(tx, incident["id"], person, person_id)
    if earlier is not None:
        return tx.unchanged(accounted=earlier)
    event = tx.record(
        "person.accounted",
        {
            "incident_id": incident["id"],
            f"{person}_id": person_id,
            "assembly_point": params["assembly_point"],
            "how": "marshal",
        },
    )
    return tx.changed(event, accounted=accounted_for(tx, incident["id"], person, person_id))


@command(
    "report_inside",
    EVERYONE,
    route=Route(
        "/sites/<site>/incidents/current/reported-inside",
        "A marshal reports a person (staff_id or visitor_id) still inside, and where",
    ),
    socket=True,
    one_of=ONE_PERSON,
    location=Field(required=True, max_length=200),
    **PERSON,
)
def report_inside(tx: Tx, params: dict) -> dict:
    require_marshal(tx)
    incident = require_active_incident(tx.db, tx.site)
    person, person_id = person_named(tx, params, incident)
    earlier = tx.db.execute(
        "SELECT location FROM reported_inside WHERE incident_id = ? AND person = ? "
        "AND person_id = ?",
        [incident["id"], person, person_id],
    ).fetchone()
    if earlier is not None and earlier[0] == params["location"]:
        return tx.unchanged()
    event = tx.record(
        "person.reported_inside",
        {"incident_id": incident["id"], f"{person}_id": person_id, "location": params["location"]},
    )
    return tx.changed(event)
