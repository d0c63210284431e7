"""A site's whole set-up as one YAML or JSON file (zones, staff, notice settings, scripts), so
a chain can keep its shops in version control: read and check it (naming the line and field of
every mistake), and write it back out."""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..basics.names import DEFAULT_LANGUAGE, KINDS, LANGUAGES, SLUG_RULE, is_slug
from ..channels import EMAIL_PROVIDERS, NoticeSettings
from ..channels.texts import default_texts
from ..rules.alarm_panel import check_policy
from ..rules.auth import ROLES
from ..rules.escalation import check_escalation, check_phone
from ..rules.mustering import check_visitor_settings, point_ids_for
from ..rules.privacy import check_privacy
from .fields import PERSON_NAME, PLACE_NAME

FILE_FIELDS = {"site", "name", "timezone", "languages", "zones", "staff", "notices", "scripts"}
FILE_FIELDS |= {"alarm_panel"}  # the fire-alarm panel's policy (server/rules/alarm_panel.py)
FILE_FIELDS |= {"escalation"}  # when a silent phone is tried again (server/rules/escalation.py)
FILE_FIELDS |= {"assembly_points", "visitors"}  # mustering (server/rules/mustering.py)
FILE_FIELDS |= {"privacy"}  # who is responsible, the notice, retention (server/rules/privacy.py)
KIND_OF_VALUE = {
    bool: "true or false",
    int: "a whole number",
    str: "text",
    dict: "a mapping",
    list: "a list",
}
# An address as a mailbox provider names it: one @, no spaces, a dotted domain.
MAILBOX_RULE = re.compile(r"[^@\s\\\"'<>(),;:]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+", re.IGNORECASE)


class ConfigError(Exception):
    """Every problem found, each as (line or None, field path, message)."""

    def __init__(self, problems: list[tuple[int | None, str, str]]):
        self.problems = problems
        super().__init__("; ".join(describe(p) for p in problems))


def describe(problem: tuple[int | None, str, str]) -> str:
    line, field, message = problem
    return f"line {line}: {field}: {message}" if line else f"{field}: {message}"


def parse(text: str) -> dict:
    """Read a site file (YAML, or JSON, which is YAML too) and check it; raise ConfigError."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigError(
            [
                (
                    mark.line + 1 if mark else None,
                    "(file)",
                    f"not valid YAML or JSON: {getattr(error, 'problem', error)}",
                )
            ]
        ) from None
    problems = [(_line(root, path), dotted(path), message) for path, message in check(data)]
    if problems:
        raise ConfigError(problems)
    return normalized(data)


def check(data) -> list[tuple[tuple, str]]:
    """Every problem as (path, message); an empty list when the set-up is sound."""
    if not isinstance(data, dict):
        return [((), "the file must hold one mapping: site, name, zones, staff, ...")]
    problems = _unknown(data, (), FILE_FIELDS)
    problems += _slug(data.get("site"), ("site",), "site")
    problems += _text(data.get("name"), ("name",), PLACE_NAME)
    problems += time_and_language_problems(data)
    point_ids = _check_assembly_points(data, problems)
    zone_ids = set()
    for index, zone in enumerate(_list(data, "zones", problems)):
        path = ("zones", index)
        if not isinstance(zone, dict):
            problems.append((path, "each zone is a mapping: id, name, exits, assembly_point"))
            continue
        problems += _unknown(zone, path, {"id", "name", "exits", "assembly_point"})
        problems += _slug(zone.get("id"), (*path, "id"), "zone")
        if isinstance(zone.get("id"), str):  # else named above; a list cannot be hashed
            if zone["id"] in zone_ids:
                problems.append(((*path, "id"), f"zone '{zone['id']}' is listed twice"))
            zone_ids.add(zone["id"])
        problems += _text(zone.get("name"), (*path, "name"), PLACE_NAME)
        problems += _text(zone.get("assembly_point"), (*path, "assembly_point"), PLACE_NAME)
        # With assembly points declared, a zone names one of them by id; without, its text
        # is a place of its own (the shape of site files before assembly points were places).
        point = zone.get("assembly_point")
        if point_ids and isinstance(point, str) and point.strip() and point not in point_ids:
            problems.append(((*path, "assembly_point"), f"no assembly point '{point}' above"))
        exits = zone.get("exits", [])
        if not isinstance(exits, list) or not all(isinstance(e, str) and e.strip() for e in exits):
            problems.append(((*path, "exits"), "a list of exit names"))
        elif any(len(name.strip()) > PLACE_NAME for name in exits):
            problems.append(((*path, "exits"), f"at most {PLACE_NAME} characters each"))
    for index, person in enumerate(_list(data, "staff", problems)):
        path = ("staff", index)
        if not isinstance(person, dict):
            problems.append((path, "each person is a mapping: name, role, home_zone, language"))
            continue
        known = {"name", "role", "home_zone", "language", "phone", "marshal"}
        problems += _unknown(person, path, known)
        problems += check_phone(person.get("phone"), (*path, "phone"))
        if type(person.get("marshal", False)) is not bool:
            problems.append(((*path, "marshal"), "true or false"))
        problems += _text(person.get("name"), (*path, "name"), PERSON_NAME)
        if person.get("role") not in ROLES:
            problems.append(((*path, "role"), f"one of: {', '.join(ROLES)}"))
        if person.get("home_zone") not in (None, *zone_ids):
            problems.append(((*path, "home_zone"), f"no zone '{person.get('home_zone')}' above"))
        if person.get("language", DEFAULT_LANGUAGE) not in LANGUAGES:
            problems.append(((*path, "language"), f"one of: {', '.join(LANGUAGES)}"))
    problems += check_notices(data.get("notices", {}))
    problems += _check_scripts(data.get("scripts", {}))
    problems += check_policy(data.get("alarm_panel", {}))
    problems += check_escalation(data.get("escalation", {}))
    problems += check_visitor_settings(data.get("visitors", {}))
    problems += check_privacy(data.get("privacy", {}))
    return problems


def time_and_language_problems(data: dict) -> list[tuple[tuple, str]]:
    """A site's time zone and languages, as a site file and `create_site` both give them."""
    problems = []
    try:
        ZoneInfo(str(data.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append((("timezone",), "not a known time zone, e.g. Europe/Helsinki"))
    languages = data.get("languages", list(LANGUAGES))
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(language, str) for language in languages)  # before hashing
        or not set(languages) <= set(LANGUAGES)
    ):
        problems.append((("languages",), f"a list of: {', '.join(LANGUAGES)}"))
    return problems


def _check_assembly_points(data: dict, problems: list) -> set:
    """The declared assembly points' problems (into `problems`); their ids."""
    ids: set = set()
    for index, point in enumerate(_list(data, "assembly_points", problems)):
        path = ("assembly_points", index)
        if not isinstance(point, dict):
            problems.append((path, "each assembly point is a mapping: id, name, where"))
            continue
        problems += _unknown(point, path, {"id", "name", "where"})
        problems += _slug(point.get("id"), (*path, "id"), "assembly point")
        if isinstance(point.get("id"), str):
            if point["id"] in ids:
                problems.append(((*path, "id"), f"assembly point '{point['id']}' is listed twice"))
            ids.add(point["id"])
        problems += _text(point.get("name"), (*path, "name"), PLACE_NAME)
        if point.get("where") is not None:
            problems += _text(point.get("where"), (*path, "where"), PLACE_NAME)
    return ids


def check_notices(notices, path: tuple = ("notices",)) -> list:
    """The public-channel settings (notices.NoticeSettings), from a site file or the API."""
    if not isinstance(notices, dict):
        return [(path, "a mapping of notice settings")]
    defaults = NoticeSettings()
    problems = []
    for key, value in notices.items():
        if not hasattr(defaults, key):
            problems.append(((*path, key), "not a notice setting"))
        elif type(value) is not type(getattr(defaults, key)):
            wanted = KIND_OF_VALUE[type(getattr(defaults, key))]
            problems.append(((*path, key), f"must be {wanted}"))
        elif key == "phone_when_closed" and value not in ("hangup", "voicemail"):
            problems.append(((*path, key), "hangup or voicemail"))
        elif key == "restored_minutes" and value < 0:
            problems.append(((*path, key), "must not be negative"))
        elif key == "email":
            problems += check_mailboxes(value, (*path, "email"))
        elif key == "texts":
            for lang, wording in value.items():
                if lang not in LANGUAGES:
                    problems.append(((*path, "texts", lang), f"one of: {', '.join(LANGUAGES)}"))
                else:
                    problems += _check_wording(wording, default_texts(lang), (*path, "texts", lang))
    return problems


def check_mailboxes(mailboxes: list, path: tuple) -> list:
    """notices.email: each mailbox once, with a provider we know and an address (a typo here
    would leave customers' emails unanswered in the incident, so it is refused at set-up)."""
    problems, seen = [], set()
    for index, entry in enumerate(mailboxes):
        at = (*path, index)
        if not isinstance(entry, dict):
            problems.append((at, "a mapping: provider, mailbox"))
            continue
        problems += _unknown(entry, at, {"provider", "mailbox", "user"})
        if entry.get("provider") not in EMAIL_PROVIDERS:
            problems.append(((*at, "provider"), f"one of: {', '.join(EMAIL_PROVIDERS)}"))
        mailbox = entry.get("mailbox")
        if not isinstance(mailbox, str) or not MAILBOX_RULE.fullmatch(mailbox):
            problems.append(((*at, "mailbox"), "an email address, e.g. service@shop.example"))
        elif mailbox.lower() in seen:
            problems.append(((*at, "mailbox"), f"{mailbox} is listed twice"))
        else:
            seen.add(mailbox.lower())
        if "user" in entry and (entry.get("provider") != "sieve" or not _is_text(entry["user"])):
            problems.append(((*at, "user"), "the ManageSieve login name, for sieve only"))
    return problems


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= 320


def summary(problems: list[tuple[tuple, str]]) -> str:
    """The problems of `check` or `check_notices` as one sentence for an API answer."""
    return "; ".join(describe((None, dotted(path), message)) for path, message in problems)


# What a public sentence may say about the moment: e.g. "{site} is closed since {when}"
# ({when} and {eta_when} with the date when it is not today; {time} and {eta} bare times; a
# clock's {date}; a queue screen's {exits} and {places}; the email reply's status page {url}).
PLACEHOLDERS = dict.fromkeys(
    ("site", "time", "eta", "when", "eta_when", "date", "exits", "places", "url"), ""
)


def _check_wording(wording, default, path: tuple) -> list:
    """A site's own public wording must have the shape of the default texts, and use only the
    placeholders the notice fills in: a sentence that cannot be rendered would leave the public
    channels unchanged during an incident."""
    if type(wording) is not type(default):
        return [(path, f"must be {KIND_OF_VALUE[type(default)]}")]
    if isinstance(default, str):
        try:
            wording.format(**PLACEHOLDERS)
        except (KeyError, IndexError, ValueError):
            names = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            return [(path, f"may use only {names} in braces")]
        return []
    problems = []
    for key, value in wording.items():
        if key not in default:
            problems.append(((*path, key), "not a public text"))
        else:
            problems += _check_wording(value, default[key], (*path, key))
    return problems


def _check_scripts(scripts) -> list:
    if not isinstance(scripts, dict):
        return [(("scripts",), "a mapping: language -> kind -> {title, lines}")]
    problems = []
    for lang, kinds in scripts.items():
        if lang not in LANGUAGES or not isinstance(kinds, dict):
            problems.append((("scripts", lang), f"a language ({', '.join(LANGUAGES)}) with kinds"))
            continue
        for kind, script in kinds.items():
            path = ("scripts", lang, kind)
            if kind not in KINDS:
                problems.append((path, f"one of: {', '.join(KINDS)}"))
            elif not (
                isinstance(script, dict)
                and isinstance(script.get("title"), str)
                and isinstance(script.get("lines"), list)
                and all(isinstance(line, str) for line in script["lines"])
            ):
                problems.append((path, "a mapping with a title and a list of lines"))
    return problems


def normalized(data: dict) -> dict:
    """The set-up with every default filled in: what export writes back. A zone's free-text
    assembly point (a file of the older shape) becomes an assembly point of its own."""
    points = [
        {"id": p["id"], "name": p["name"], **({"where": p["where"]} if p.get("where") else {})}
        for p in data.get("assembly_points", [])
    ]
    zones = data.get("zones", [])
    if not points:
        named = point_ids_for([z["assembly_point"] for z in zones])
        points = [{"id": point_id, "name": text} for text, point_id in named.items()]
        zones = [{**z, "assembly_point": named[z["assembly_point"]]} for z in zones]
    return {
        "site": data["site"],
        "name": data["name"],
        "timezone": data.get("timezone", "UTC"),
        "languages": data.get("languages", list(LANGUAGES)),
        "assembly_points": points,
        "zones": [
            {
                "id": z["id"],
                "name": z["name"],
                "exits": z.get("exits", []),
                "assembly_point": z["assembly_point"],
            }
            for z in zones
        ],
        "staff": [
            {
                "name": p["name"],
                "role": p["role"],
                "home_zone": p.get("home_zone"),
                "language": p.get("language", DEFAULT_LANGUAGE),
                **({"phone": p["phone"]} if p.get("phone") else {}),
                **({"marshal": True} if p.get("marshal") else {}),
            }
            for p in data.get("staff", [])
        ],
        "notices": data.get("notices", {}),
        "scripts": data.get("scripts", {}),
        **({"alarm_panel": data["alarm_panel"]} if data.get("alarm_panel") else {}),
        **({"escalation": data["escalation"]} if data.get("escalation") else {}),
        **({"visitors": data["visitors"]} if data.get("visitors") else {}),
        **({"privacy": data["privacy"]} if data.get("privacy") else {}),
    }


def read_site(db, site: str) -> dict:
    """A site's set-up from the database, in the file's shape."""
    row = next(db.query("SELECT * FROM sites WHERE id = ?", [site]))
    settings = json.loads(row["settings"])
    return {
        "site": site,
        "name": row["name"],
        "timezone": row["timezone"],
        "languages": json.loads(row["languages"]),
        "assembly_points": [
            {"id": p["id"], "name": p["name"], **({"where": p["place"]} if p["place"] else {})}
            for p in db.query(
                "SELECT * FROM assembly_points WHERE site = ? ORDER BY position, id", [site]
            )
        ],
        "zones": [
            {
                "id": z["id"],
                "name": z["name"],
                "exits": json.loads(z["exits"]),
                "assembly_point": z["assembly_point"],
            }
            for z in db.query("SELECT * FROM zones WHERE site = ? ORDER BY position, id", [site])
        ],
        "staff": [
            {
                "name": p["name"],
                "role": p["role"],
                "home_zone": p["home_zone"],
                "language": p["language"],
                **({"phone": p["phone"]} if p["phone"] else {}),
                **({"marshal": True} if p["marshal"] else {}),
            }
            for p in db.query(
                "SELECT * FROM staff WHERE site = ? AND on_roll = 1 ORDER BY id", [site]
            )
        ],
        "notices": settings.get("notices", {}),
        "scripts": settings.get("scripts", {}),
        # The fire-alarm panel's policy (server/rules/alarm_panel.py), when the site has its own.
        **({"alarm_panel": settings["alarm_panel"]} if settings.get("alarm_panel") else {}),
        **({"escalation": settings["escalation"]} if settings.get("escalation") else {}),
        **({"visitors": settings["visitors"]} if settings.get("visitors") else {}),
        **({"privacy": settings["privacy"]} if settings.get("privacy") else {}),
    }


def dump(config: dict, as_json: bool = False) -> str:
    if as_json:
        return json.dumps(config, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def _list(data: dict, key: str, problems: list) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(((key,), "a list"))
        return []
    return value


def _unknown(mapping: dict, path: tuple, known: set) -> list:
    return [((*path, key), "unknown field") for key in mapping if key not in known]


def _slug(value, path: tuple, what: str) -> list:
    if not is_slug(value):
        return [(path, f"a {what} id of {SLUG_RULE}")]
    return []


def _text(value, path: tuple, longest: int) -> list:
    """A name as its command's field takes it: text, not blank, at most `longest` characters."""
    if not (isinstance(value, str) and value.strip()):
        return [(path, "required text")]
    return [(path, f"at most {longest} characters")] if len(value.strip()) > longest else []


def dotted(path: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _line(node, path: tuple) -> int | None:
    """The line of the deepest node along `path` (the field itself, or its parent if absent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == step), None)
            key = next((k for k, v in node.value if k.value == step), None)
            if key is not None:
                line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            child = node.value[step] if step < len(node.value) else None
            if child is not None:
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
