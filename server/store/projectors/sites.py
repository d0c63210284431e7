"""A site, its zones and its assembly points."""

from __future__ import annotations

import json

from . import projects


@projects("site.created")
def site_created(db, event, p):
    db.execute(
        "INSERT INTO sites (id, name, timezone, languages, created_at) VALUES (?, ?, ?, ?, ?)",
        [event["site"], p["name"], p["timezone"], json.dumps(p["languages"]), event["ts"]],
    )


@projects("site.imported")
def site_imported(db, event, p):
    """The site's own fields; its zones and people came as their own events just before."""
    config = p["config"]
    settings = json.dumps(
        {
            "notices": config["notices"],
            "scripts": config["scripts"],
            "alarm_panel": config.get("alarm_panel", {}),  # not in imports before it existed
            "escalation": config.get("escalation", {}),  # likewise
            "visitors": config.get("visitors", {}),  # likewise
            **({"privacy": config["privacy"]} if config.get("privacy") else {}),
        }
    )
    db.execute(
        "UPDATE sites SET name = ?, timezone = ?, languages = ?, settings = ? WHERE id = ?",
        [
            config["name"],
            config["timezone"],
            json.dumps(config["languages"]),
            settings,
            event["site"],
        ],
    )


@projects("zone.added", "zone.changed")
def zone_set(db, event, p):
    db.execute(
        "INSERT INTO zones (site, id, name, exits, assembly_point, position) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (site, id) DO UPDATE SET name = excluded.name, "
        "exits = excluded.exits, assembly_point = excluded.assembly_point, "
        "position = excluded.position",
        [
            event["site"],
            p["id"],
            p["name"],
            json.dumps(p["exits"]),
            p["assembly_point"],
            p["position"],
        ],
    )


@projects("zone.removed")
def zone_removed(db, event, p):
    db.execute("DELETE FROM zones WHERE site = ? AND id = ?", [event["site"], p["id"]])


@projects("assembly_point.added", "assembly_point.changed")
def assembly_point_set(db, event, p):
    db.execute(
        "INSERT INTO assembly_points (site, id, name, place, position) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (site, id) DO UPDATE SET name = excluded.name, place = excluded.place, "
        "position = excluded.position",
        [event["site"], p["id"], p["name"], p["where"], p["position"]],
    )


@projects("assembly_point.removed")
def assembly_point_removed(db, event, p):
    db.execute("DELETE FROM assembly_points WHERE site = ? AND id = ?", [event["site"], p["id"]])
