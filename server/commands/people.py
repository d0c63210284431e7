"""Setting up a site and its people: zones, staff, API tokens, enrollment links, enrollment."""

from __future__ import annotations

from ..auth import ADMINS, EVERYONE, MANAGERS, ROLES, Identity, digest, new_secret
from ..clock import iso
from ..errors import Conflict, Forbidden, Gone, Invalid, NotFound
from ..names import SLUG_RULE, is_slug
from . import Tx, command
from .fields import Field

LANGUAGES = ("fi", "sv", "en")


def _slug(value: str, what: str) -> str:
    if not is_slug(value):
        raise Invalid(f"A {what} id uses {SLUG_RULE}.", field="id")
    return value


@command(
    "create_site",
    ADMINS,
    site_must_be="new",
    name=Field(required=True, max_length=200),
    timezone=Field(max_length=60, default="UTC"),
    languages=Field("list", max_length=5),
)
def create_site(tx: Tx, params: dict) -> dict:
    _slug(tx.site, "site")
    languages = params["languages"] or list(LANGUAGES)
    event = tx.record(
        "site.created",
        {"name": params["name"], "timezone": params["timezone"], "languages": languages},
    )
    return {"site": tx.site, "seq": event["seq"]}


@command(
    "add_zone",
    ADMINS,
    id=Field(required=True, max_length=40),
    name=Field(required=True, max_length=200),
    exits=Field("list", max_length=200, default=[]),
    assembly_point=Field(required=True, max_length=200),
)
def add_zone(tx: Tx, params: dict) -> dict:
    zone = _slug(params["id"], "zone")
    if tx.db.execute("SELECT 1 FROM zones WHERE site = ? AND id = ?", [tx.site, zone]).fetchone():
        raise Conflict(f"The zone '{zone}' already exists.")
    position = tx.db.execute("SELECT COUNT(*) FROM zones WHERE site = ?", [tx.site]).fetchone()[0]
    event = tx.record(
        "zone.added",
        {**{k: params[k] for k in ("id", "name", "exits", "assembly_point")}, "position": position},
    )
    return {"zone": zone, "seq": event["seq"]}


@command(
    "add_staff",
    ADMINS,
    name=Field(required=True, max_length=100),
    role=Field("choice", required=True, choices=ROLES),
    home_zone=Field(max_length=40),
    language=Field("choice", choices=LANGUAGES, default="fi"),
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
            "language": params.get("language") or "fi",
        },
    )
    return staff_id


@command(
    "create_token",
    ADMINS,
    name=Field(required=True, max_length=100),
    role=Field("choice", required=True, choices=ROLES),
    chain=Field("bool", default=False),
)
def create_token(tx: Tx, params: dict) -> dict:
    """A bearer token for an integration or script, acting as the named person of that role.

    With `chain`, the person becomes the chain's admin: an admin of every site. Only the
    operator at the command line may grant that."""
    if params["chain"] and (params["role"] != "admin" or tx.identity.staff_id is not None):
        raise Forbidden("Only the command line makes a chain admin, and with the admin role.")
    row = tx.db.execute(
        "SELECT id FROM staff WHERE site = ? AND name = ? AND role = ? ORDER BY id LIMIT 1",
        [tx.site, params["name"], params["role"]],
    ).fetchone()
    staff_id = row[0] if row else add_person(tx, params)
    token = new_secret()
    credential_id = tx.new_id("credentials")
    tx.record(
        "token.created",
        {"staff_id": staff_id, "credential_id": credential_id, "token_hash": digest(token)},
    )
    if (
        params["chain"]
        and not tx.db.execute(
            "SELECT 1 FROM chain_admins WHERE staff_id = ?", [staff_id]
        ).fetchone()
    ):
        tx.record("chain_admin.granted", {"staff_id": staff_id})
    # The token itself is in the answer only: the log and the database hold its digest.
    return {
        "token": token,
        "staff_id": staff_id,
        "credential_id": credential_id,
        "seq": tx.current_seq(),
    }


@command("create_enrollment_link", MANAGERS, staff_id=Field("int", required=True))
def create_enrollment_link(tx: Tx, params: dict) -> dict:
    """A single-use, expiring link that turns a phone into this person's enrolled device."""
    person = tx.db.execute(
        """SELECT s.role, a.staff_id IS NOT NULL FROM staff s
           LEFT JOIN chain_admins a ON a.staff_id = s.id AND s.role = 'admin'
           WHERE s.id = ? AND s.site = ?""",
        [params["staff_id"], tx.site],
    ).fetchone()
    if person is None:
        raise NotFound(f"There is no staff member {params['staff_id']} on this site.")
    # The link signs a phone in as that person: a credential no stronger than its maker's.
    if not tx.identity.may_vouch_for(*person):
        raise Forbidden("You may enroll phones only for people with no more rights than yours.")
    code = new_secret()[:24]
    expires_at = tx.ts + tx.settings.enrollment_ttl_hours * 3_600_000
    event = tx.record(
        "enrollment.created",
        {"staff_id": params["staff_id"], "code_hash": digest(code), "expires_at": iso(expires_at)},
    )
    return {
        "code": code,
        "path": f"/enroll/{code}",
        "expires_at": iso(expires_at),
        "seq": event["seq"],
    }


def enrollee(db, code: str) -> Identity:
    """Who an enrollment code is for, to run `enroll_device` as (404 for an unknown code)."""
    person = next(
        db.query(
            "SELECT s.* FROM enrollment_links l JOIN staff s ON s.id = l.staff_id "
            "WHERE l.code_hash = ?",
            [digest(code)],
        ),
        None,
    )
    if person is None:
        raise NotFound("This enrollment link is not valid. Ask your duty manager for a new one.")
    return Identity(person["site"], person["role"], person["name"], person["id"])


@command("enroll_device", EVERYONE, code=Field(required=True, max_length=100))
def enroll_device(tx: Tx, params: dict) -> dict:
    """Use an enrollment link: this phone becomes the person's enrolled device. The answer
    holds the device's session token (never stored: run it without an Idempotency-Key)."""
    code_hash = digest(params["code"])
    link = next(
        tx.db.query("SELECT * FROM enrollment_links WHERE code_hash = ?", [code_hash]), None
    )
    if link is None or link["staff_id"] != tx.identity.staff_id:
        raise NotFound("This enrollment link is not valid. Ask your duty manager for a new one.")
    if link["used_at"] is not None:
        raise Gone("This enrollment link was already used. Ask your duty manager for a new one.")
    if link["expires_at"] < tx.ts:
        raise Gone("This enrollment link has expired. Ask your duty manager for a new one.")
    token = new_secret()
    credential_id = tx.new_id("credentials")
    event = tx.record(
        "device.enrolled",
        {
            "staff_id": link["staff_id"],
            "credential_id": credential_id,
            "token_hash": digest(token),
            "code_hash": code_hash,
        },
    )
    return {"token": token, "credential_id": credential_id, "seq": event["seq"]}


@command("set_language", EVERYONE, language=Field("choice", required=True, choices=LANGUAGES))
def set_language(tx: Tx, params: dict) -> dict:
    """The language a person reads the app and their pushed alarms in."""
    if tx.identity.staff_id is None:
        raise Invalid("Only a staff member has a language.")
    row = tx.db.execute(
        "SELECT language FROM staff WHERE id = ?", [tx.identity.staff_id]
    ).fetchone()
    if row[0] == params["language"]:
        return {"changed": False, "seq": tx.current_seq()}
    event = tx.record(
        "staff.language_changed", {"staff_id": tx.identity.staff_id, "language": params["language"]}
    )
    return {"changed": True, "seq": event["seq"]}
