"""Sites: creating one, and importing a site's whole set-up from one file (see site_config).

An import is one command, so a file with an error changes nothing. Each zone and person that is
new or changed is its own event (as if added by hand), then one `site.imported` event holds the
set-up as imported and applies the site's own fields (name, time zone, languages, notice
settings, scripts)."""

from __future__ import annotations

import json

from ..basics.errors import Conflict, Invalid
from ..basics.names import LANGUAGES, SLUG_RULE, is_slug
from ..rules.auth import ADMINS
from ..rules.mustering import slug_for, unique_id
from . import Route, Tx, command
from .fields import PLACE_NAME, Field
from .notices import current_notice, reissue_notice
from .site_config import check, dotted, normalized, summary, time_and_language_problems
from .staff import add_person


def checked_id(value: str, what: str) -> str:
    """A site's or a zone's id, by the one rule for both (names.SLUG), or a 400."""
    if not is_slug(value):
        raise Invalid(f"A {what} id uses {SLUG_RULE}.", field="id")
    return value


@command(
    "create_site",
    ADMINS,
    site_must_be="new",
    name=Field(required=True, max_length=PLACE_NAME),
    timezone=Field(max_length=60, default="UTC"),
    languages=Field("list", max_length=5),
)
def create_site(tx: Tx, params: dict) -> dict:
    checked_id(tx.site, "site")
    languages = params["languages"] or list(LANGUAGES)
    # The same rules as a site file's: a site made here must import again from its own set-up.
    problems = time_and_language_problems({"timezone": params["timezone"], "languages": languages})
    if problems:
        raise Invalid(summary(problems), field=dotted(problems[0][0]))
    event = tx.record(
        "site.created",
        {"name": params["name"], "timezone": params["timezone"], "languages": languages},
    )
    return {"site": tx.site, "seq": event["seq"]}


@command(
    "import_site",
    ADMINS,
    route=Route("/sites/<site>/setup", "Replace the site's set-up (admin): body {config: ...}"),
    site_must_be="either",
    config=Field("object", required=True),
)
def import_site(tx: Tx, params: dict) -> dict:
    problems = check(params["config"])
    if problems:
        # Each mistake by its field's path, so that the set-up page can show it beside the field.
        named = [{"field": dotted(path), "detail": message} for path, message in problems]
        raise Invalid(summary(problems), field=named[0]["field"], problems=named)
    config = normalized(params["config"])
    if config["site"] != tx.site:
        raise Invalid(f"The file is for site '{config['site']}', not '{tx.site}'.", field="site")
    _site(tx, config)
    _assembly_points(tx, config["assembly_points"])
    _zones(tx, config["zones"])
    _unused_assembly_points(tx, config["assembly_points"])
    _staff(tx, config["staff"])
    event = tx.record("site.imported", {"config": config})
    notice = current_notice(tx)
    if notice:  # the wording may have changed
        reissue_notice(tx, notice)
    return {
        "site": tx.site,
        "zones": len(config["zones"]),
        "staff": len(config["staff"]),
        "seq": event["seq"],
    }


def _site(tx: Tx, config: dict) -> None:
    if not tx.db.execute("SELECT 1 FROM sites WHERE id = ?", [tx.site]).fetchone():
        tx.record(
            "site.created",
            {
                "name": config["name"],
                "timezone": config["timezone"],
                "languages": config["languages"],
            },
        )


def _assembly_points(tx: Tx, points: list[dict]) -> None:
    """Each new or changed assembly point is its own event; unchanged ones are not logged."""
    existing = {
        row["id"]: {"id": row["id"], "name": row["name"], "where": row["place"]}
        for row in tx.db.query("SELECT * FROM assembly_points WHERE site = ?", [tx.site])
    }
    for position, point in enumerate(points):
        payload = {"id": point["id"], "name": point["name"], "where": point.get("where")}
        before = existing.get(point["id"])
        if before is None:
            tx.record("assembly_point.added", {**payload, "position": position})
        elif before != payload or _position(tx, point["id"]) != position:
            tx.record("assembly_point.changed", {**payload, "position": position})


def _position(tx: Tx, point_id: str) -> int:
    return tx.db.execute(
        "SELECT position FROM assembly_points WHERE site = ? AND id = ?", [tx.site, point_id]
    ).fetchone()[0]


def _unused_assembly_points(tx: Tx, points: list[dict]) -> None:
    """Assembly points the file no longer lists go, unless an incident's roll call used one."""
    wanted = {point["id"] for point in points}
    for (point_id,) in tx.db.execute(
        "SELECT id FROM assembly_points WHERE site = ?", [tx.site]
    ).fetchall():
        if point_id in wanted:
            continue
        if tx.db.execute(
            "SELECT 1 FROM accounted a JOIN incidents i ON i.id = a.incident_id "
            "WHERE i.site = ? AND a.assembly_point = ? LIMIT 1",
            [tx.site, point_id],
        ).fetchone():
            raise Conflict(
                f"Assembly point '{point_id}' has a history; keep it in the file.",
                field="assembly_points",
            )
        tx.record("assembly_point.removed", {"id": point_id})


def point_for(tx: Tx, value: str) -> str:
    """The id of the site's assembly point `value` names (by id or by name), or of a new one
    made from it: a zone added with a free-text assembly point gets a place of its own."""
    row = tx.db.execute(
        "SELECT id FROM assembly_points WHERE site = ? AND (id = ? OR name = ?) "
        "ORDER BY id = ? DESC LIMIT 1",
        [tx.site, value, value, value],
    ).fetchone()
    if row:
        return row[0]
    taken = {
        r[0] for r in tx.db.execute("SELECT id FROM assembly_points WHERE site = ?", [tx.site])
    }
    point_id = unique_id(slug_for(value), taken)
    position = len(taken)
    tx.record(
        "assembly_point.added", {"id": point_id, "name": value, "where": None, "position": position}
    )
    return point_id


@command("declare_assembly_points", ADMINS)
def declare_assembly_points(tx: Tx, params: dict) -> dict:
    """A site set up before assembly points were places: each zone's free-text assembly point
    becomes a place of its own (as a site file of that shape imports), the zone names it by
    id. Nothing when every zone already names a declared point."""
    rows = list(
        tx.db.query(
            """SELECT z.* FROM zones z LEFT JOIN assembly_points p
               ON p.site = z.site AND p.id = z.assembly_point
               WHERE z.site = ? AND p.id IS NULL ORDER BY z.position, z.id""",
            [tx.site],
        )
    )
    for row in rows:
        point = point_for(tx, row["assembly_point"])
        tx.record("zone.changed", {**_zone_payload(row), "assembly_point": point})
    return tx.changed(tx.events[-1], zones=len(rows)) if rows else tx.unchanged(zones=0)


def sites_with_undeclared_assembly_points(db) -> list[str]:
    """The sites with a zone whose assembly point is still free text."""
    return [
        site
        for (site,) in db.execute(
            """SELECT DISTINCT z.site FROM zones z LEFT JOIN assembly_points p
               ON p.site = z.site AND p.id = z.assembly_point WHERE p.id IS NULL"""
        ).fetchall()
    ]


def _zones(tx: Tx, zones: list[dict]) -> None:
    """Each new, changed or removed zone is its own event; unchanged ones are not logged."""
    wanted = {zone["id"] for zone in zones}
    for (zone_id,) in tx.db.execute("SELECT id FROM zones WHERE site = ?", [tx.site]).fetchall():
        if zone_id not in wanted:
            in_use = tx.db.execute(
                "SELECT 1 FROM sweeps w JOIN incidents i ON i.id = w.incident_id "
                "WHERE i.site = ? AND w.zone = ? UNION SELECT 1 FROM staff "
                "WHERE site = ? AND home_zone = ?",
                [tx.site, zone_id, tx.site, zone_id],
            ).fetchone()
            if in_use:
                raise Conflict(f"Zone '{zone_id}' has a history or staff; keep it in the file.")
            tx.record("zone.removed", {"id": zone_id})
    existing = {
        row["id"]: row for row in tx.db.query("SELECT * FROM zones WHERE site = ?", [tx.site])
    }
    for position, zone in enumerate(zones):
        payload = {
            **{k: zone[k] for k in ("id", "name", "exits", "assembly_point")},
            "position": position,
        }
        before = existing.get(zone["id"])
        if before is None:
            tx.record("zone.added", payload)
        elif _zone_payload(before) != payload:
            tx.record("zone.changed", payload)


def _zone_payload(row: dict) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "exits": json.loads(row["exits"]),
        "assembly_point": row["assembly_point"],
        "position": row["position"],
    }


def _staff(tx: Tx, staff: list[dict]) -> None:
    """People are matched by name; people missing from the file are kept (with their phones)."""
    for person in staff:
        row = next(
            tx.db.query(
                "SELECT * FROM staff WHERE site = ? AND name = ? ORDER BY id LIMIT 1",
                [tx.site, person["name"]],
            ),
            None,
        )
        if row is None:
            person["staff_id"] = add_person(tx, person)  # the log seals each name under its own key
            continue
        person["staff_id"] = row["id"]
        wanted = {k: person[k] for k in ("role", "home_zone", "language")}
        wanted["phone"] = person.get("phone")  # for an SMS when the phone stays silent
        wanted["marshal"] = bool(person.get("marshal"))
        if wanted != {**{k: row[k] for k in wanted}, "marshal": bool(row["marshal"])}:
            tx.record("staff.changed", {"staff_id": row["id"], **wanted})
