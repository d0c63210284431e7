"""The demo site "demo": a shop with four zones, a duty manager and five staff. A Helsinki
shop: its zones and exits are named as its signs are, in Finnish and Swedish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import commands
from .basics.names import LANGUAGES
from .rules.auth import command_line

if TYPE_CHECKING:
    from .services import Services

SITE = "demo"
ASSEMBLY_POINTS = [
    # Named in both of the demo's local languages, as its zones are.
    {
        "id": "lamp-post-a",
        "name": "Parkkipaikka, valotolppa A / Parkeringen, lyktstolpe A",
        "where": "Pääkadun puolella / Mot huvudgatan",
    },
    {
        "id": "lamp-post-b",
        "name": "Parkkipaikka, valotolppa B / Parkeringen, lyktstolpe B",
        "where": "Lastauslaiturin takana / Bakom lastkajen",
    },
]
ZONES = [
    {
        "id": "entrance",
        "name": "Sisäänkäynti ja kassat / Ingång och kassor",
        "exits": ["Pääovi / Huvudentré", "Sivuovi kassojen vieressä / Sidodörr vid kassorna"],
        "assembly_point": "lamp-post-a",
    },
    {
        "id": "grocery",
        "name": "Elintarvikkeet / Livsmedel",
        "exits": ["Hätäuloskäynti leipomon takana / Nödutgång bakom bageriet"],
        "assembly_point": "lamp-post-a",
    },
    {
        "id": "clothing",
        "name": "Vaatteet ja sovituskopit / Kläder och provrum",
        "exits": ["Hätäuloskäynti sovituskoppien vieressä / Nödutgång vid provrummen"],
        "assembly_point": "lamp-post-b",
    },
    {
        "id": "stockroom",
        "name": "Varasto ja lastauslaituri / Lager och lastkaj",
        "exits": ["Lastauslaiturin ovi / Lastkajens dörr"],
        "assembly_point": "lamp-post-b",
    },
]
PEOPLE = [
    {"name": "Maija Manager", "role": "duty_manager", "home_zone": "entrance", "language": "fi"},
    {"name": "Aino Aaltonen", "role": "staff", "home_zone": "entrance", "language": "fi"},
    {"name": "Erik Lindqvist", "role": "staff", "home_zone": "grocery", "language": "sv"},
    {"name": "Sara Smith", "role": "staff", "home_zone": "clothing", "language": "en"},
    {
        "name": "Pekka Virtanen",
        "role": "staff",
        "home_zone": "stockroom",
        "language": "fi",
        "marshal": True,  # counts the people at lamp post B
    },
    {"name": "Ville Vartija", "role": "guard", "home_zone": "entrance", "language": "fi"},
]


def fresh_links(services: Services) -> list[tuple[dict, str]]:
    """New enrollment links for the demo's people with no phone enrolled yet (an earlier
    start's links may be used, expired or lost)."""
    with services.store.reading() as db:
        waiting = list(
            db.query(
                """SELECT s.id, s.name, s.role FROM staff s WHERE s.site = ? AND NOT EXISTS
                   (SELECT 1 FROM credentials c WHERE c.staff_id = s.id AND c.kind = 'device'
                    AND c.revoked_at IS NULL) ORDER BY s.id""",
                [SITE],
            )
        )
    operator = command_line(SITE)
    links = []
    for person in waiting:
        link = commands.execute(
            services, operator, SITE, "create_enrollment_link", {"staff_id": person["id"]}
        )
        links.append((person, services.settings.base_url + link["path"]))
    return links


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
    for point in ASSEMBLY_POINTS:
        run("add_assembly_point", point)
    for zone in ZONES:
        run("add_zone", zone)
    links = []
    for person in PEOPLE:
        staff_id = run("add_staff", person)["staff_id"]
        link = run("create_enrollment_link", {"staff_id": staff_id})
        links.append((person, services.settings.base_url + link["path"]))
    return links
