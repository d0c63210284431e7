"""The demo site "demo": a shop with four zones, a duty manager and five staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import commands
from .auth import command_line
from .names import LANGUAGES

if TYPE_CHECKING:
    from .services import Services

SITE = "demo"
ZONES = [
    {
        "id": "entrance",
        "name": "Entrance and tills",
        "exits": ["Main door", "Side door by the tills"],
        "assembly_point": "Car park, lamp post A",
    },
    {
        "id": "grocery",
        "name": "Grocery",
        "exits": ["Emergency exit behind the bakery"],
        "assembly_point": "Car park, lamp post A",
    },
    {
        "id": "clothing",
        "name": "Clothing and fitting rooms",
        "exits": ["Emergency exit by the fitting rooms"],
        "assembly_point": "Car park, lamp post B",
    },
    {
        "id": "stockroom",
        "name": "Stockroom and loading bay",
        "exits": ["Loading bay door"],
        "assembly_point": "Car park, lamp post B",
    },
]
PEOPLE = [
    {"name": "Maija Manager", "role": "duty_manager", "home_zone": "entrance", "language": "fi"},
    {"name": "Aino Aaltonen", "role": "staff", "home_zone": "entrance", "language": "fi"},
    {"name": "Erik Lindqvist", "role": "staff", "home_zone": "grocery", "language": "sv"},
    {"name": "Sara Smith", "role": "staff", "home_zone": "clothing", "language": "en"},
    {"name": "Pekka Virtanen", "role": "staff", "home_zone": "stockroom", "language": "fi"},
    {"name": "Ville Vartija", "role": "guard", "home_zone": "entrance", "language": "fi"},
]


def is_empty(services: Services) -> bool:
    with services.store.reading() as db:
        return db.execute("SELECT COUNT(*) FROM sites").fetchone()[0] == 0


def seed(services: Services) -> list[tuple[dict, str]]:
    """Create the demo site; return each person with their enrollment link."""
    operator = command_line(SITE)

    def run(name: str, params: dict) -> dict:
        return commands.execute(services, operator, SITE, name, params)

    run(
        "create_site",
        {
            "name": "Exit Now demo shop",
            "timezone": "Europe/Helsinki",
            "languages": list(LANGUAGES),
        },
    )
    for zone in ZONES:
        run("add_zone", zone)
    links = []
    for person in PEOPLE:
        staff_id = run("add_staff", person)["staff_id"]
        link = run("create_enrollment_link", {"staff_id": staff_id})
        links.append((person, services.settings.base_url + link["path"]))
    return links
