"""A site's staff: adding people, and the language each reads the app and their alarms in."""

from __future__ import annotations

from ..basics.errors import NotFound
from ..basics.names import DEFAULT_LANGUAGE, LANGUAGES
from ..rules.auth import ADMINS, EVERYONE, ROLES
from . import Route, Tx, command
from .fields import PERSON_NAME, Field


@command(
    "add_staff",
    ADMINS,
    name=Field(required=True, max_length=PERSON_NAME),
    role=Field("choice", required=True, choices=ROLES),
    home_zone=Field(max_length=40),
    language=Field("choice", choices=LANGUAGES, default=DEFAULT_LANGUAGE),
    marshal=Field("bool", default=False),
)
def add_staff(tx: Tx, params: dict) -> dict:
    staff_id = add_person(tx, params)
    return {"staff_id": staff_id, "seq": tx.current_seq()}


def add_person(tx: Tx, params: dict) -> int:
    """Record `staff.added` for a new person of the site; return their id."""
    zone = params.get("home_zone")
    if (
        zone
        and not tx.db.execute(
            "SELECT 1 FROM zones WHERE site = ? AND id = ?", [tx.site, zone]
        ).fetchone()
    ):
        raise NotFound(f"There is no zone '{zone}' on this site.", field="home_zone")
    staff_id = tx.new_id("staff")
    tx.record(
        "staff.added",
        {
            "staff_id": staff_id,
            "name": params["name"],
            "role": params["role"],
            "home_zone": zone,
            "language": params.get("language") or DEFAULT_LANGUAGE,
            **({"phone": params["phone"]} if params.get("phone") else {}),
            **({"marshal": True} if params.get("marshal") else {}),
            **({"on_roll": False} if params.get("on_roll") is False else {}),
        },
    )
    return staff_id


@command(
    "set_language",
    EVERYONE,
    route=Route("/me/language", "Set my language (the app and my pushed alarms)"),
    language=Field("choice", required=True, choices=LANGUAGES),
)
def set_language(tx: Tx, params: dict) -> dict:
    """The language a person reads the app and their pushed alarms in."""
    staff_id = tx.person("choose a language")
    row = tx.db.execute("SELECT language FROM staff WHERE id = ?", [staff_id]).fetchone()
    if row[0] == params["language"]:
        return tx.unchanged()
    event = tx.record(
        "staff.language_changed", {"staff_id": staff_id, "language": params["language"]}
    )
    return tx.changed(event)
