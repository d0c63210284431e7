"""The people of a site and the chain's admins."""

from __future__ import annotations

from . import projects


@projects("staff.added")
def staff_added(db, event, p):
    db.execute(
        "INSERT INTO staff (id, site, name, role, home_zone, language, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            p["staff_id"],
            event["site"],
            p["name"],
            p["role"],
            p["home_zone"],
            p.get("language") or "fi",  # the first logs did not carry it: the default then
            event["ts"],
        ],
    )
    if p.get("phone"):
        db.execute("UPDATE staff SET phone = ? WHERE id = ?", [p["phone"], p["staff_id"]])
    # Older logs carry neither: a person then was on the roll and no marshal.
    db.execute(
        "UPDATE staff SET marshal = ?, on_roll = ? WHERE id = ?",
        [int(p.get("marshal", False)), int(p.get("on_roll", True)), p["staff_id"]],
    )


@projects("staff.changed")
def staff_changed(db, event, p):
    db.execute(
        "UPDATE staff SET role = ?, home_zone = ?, language = ? WHERE id = ?",
        [p["role"], p["home_zone"], p["language"], p["staff_id"]],
    )
    if "phone" in p:  # older logs did not carry it: the number stays as it was
        db.execute("UPDATE staff SET phone = ? WHERE id = ?", [p["phone"], p["staff_id"]])
    if "marshal" in p:  # likewise
        db.execute("UPDATE staff SET marshal = ? WHERE id = ?", [int(p["marshal"]), p["staff_id"]])


@projects("staff.language_changed")
def staff_language_changed(db, event, p):
    db.execute("UPDATE staff SET language = ? WHERE id = ?", [p["language"], p["staff_id"]])


@projects("chain_admin.granted")
def chain_admin_granted(db, event, p):
    db.execute(
        "INSERT INTO chain_admins (staff_id, granted_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [p["staff_id"], event["ts"]],
    )
    # The chain's admin is an account of every site, not a person on this one's floor.
    db.execute("UPDATE staff SET on_roll = 0 WHERE id = ?", [p["staff_id"]])
