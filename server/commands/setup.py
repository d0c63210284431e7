"""Importing a site's whole set-up from one file (see site_config): one transaction, so a file
with an error changes nothing, and one `site.imported` event holding the set-up as imported."""

from __future__ import annotations

import json

from ..auth import ADMINS
from ..errors import Conflict, Invalid
from ..site_config import check, normalized, summary
from . import Tx, command
from .fields import Field
from .notices import current_notice, reissue_notice


@command("import_site", ADMINS, site_must_be="either", config=Field("object", required=True))
def import_site(tx: Tx, params: dict) -> dict:
    problems = check(params["config"])
    if problems:
        raise Invalid(summary(problems))
    config = normalized(params["config"])
    if config["site"] != tx.site:
        raise Invalid(f"The file is for site '{config['site']}', not '{tx.site}'.", field="site")
    _site(tx, config)
    _zones(tx, config["zones"])
    _staff(tx, config["staff"])
    notice = current_notice(tx)
    if notice:  # the wording may have changed
        reissue_notice(tx, notice)
    event = tx.record("site.imported", {"config": config})
    return {
        "site": tx.site,
        "zones": len(config["zones"]),
        "staff": len(config["staff"]),
        "seq": event["seq"],
    }


def _site(tx: Tx, config: dict) -> None:
    settings = json.dumps({"notices": config["notices"], "scripts": config["scripts"]})
    exists = tx.db.execute("SELECT 1 FROM sites WHERE id = ?", [tx.site]).fetchone()
    if exists:
        tx.db.execute(
            "UPDATE sites SET name = ?, timezone = ?, languages = ?, settings = ? WHERE id = ?",
            [
                config["name"],
                config["timezone"],
                json.dumps(config["languages"]),
                settings,
                tx.site,
            ],
        )
        return
    tx.db.execute(
        "INSERT INTO sites (id, name, timezone, languages, settings, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            tx.site,
            config["name"],
            config["timezone"],
            json.dumps(config["languages"]),
            settings,
            tx.ts,
        ],
    )
    tx.record(
        "site.created",
        {"name": config["name"], "timezone": config["timezone"], "languages": config["languages"]},
    )


def _zones(tx: Tx, zones: list[dict]) -> None:
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
            tx.db.execute("DELETE FROM zones WHERE site = ? AND id = ?", [tx.site, zone_id])
    for position, zone in enumerate(zones):
        tx.db.execute(
            "INSERT INTO zones (site, id, name, exits, assembly_point, position) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO UPDATE SET name = excluded.name, "
            "exits = excluded.exits, assembly_point = excluded.assembly_point, "
            "position = excluded.position",
            [
                tx.site,
                zone["id"],
                zone["name"],
                json.dumps(zone["exits"]),
                zone["assembly_point"],
                position,
            ],
        )


def _staff(tx: Tx, staff: list[dict]) -> None:
    """People are matched by name; people missing from the file are kept (with their phones)."""
    for person in staff:
        row = tx.db.execute(
            "SELECT id FROM staff WHERE site = ? AND name = ? ORDER BY id LIMIT 1",
            [tx.site, person["name"]],
        ).fetchone()
        values = [person["role"], person["home_zone"], person["language"]]
        if row:
            tx.db.execute(
                "UPDATE staff SET role = ?, home_zone = ?, language = ? WHERE id = ?",
                [*values, row[0]],
            )
        else:
            tx.db.execute(
                "INSERT INTO staff (site, name, role, home_zone, language, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [tx.site, person["name"], *values, tx.ts],
            )
