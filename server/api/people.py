"""Enrollment: a manager makes a link, a phone uses it and becomes an enrolled device."""

from __future__ import annotations

from dataclasses import replace

from flask import current_app, g, jsonify

from .. import commands
from ..basics.clock import iso, now_ms
from ..basics.errors import Invalid, NotFound
from ..basics.names import DEFAULT_LANGUAGE
from ..basics.qr import qr_svg
from ..commands.devices import enrollee, enrollment_link_view
from ..operations import rate_limits
from ..rules import auth
from ..rules.mustering import is_marshal
from ..rules.privacy import held_about_staff, privacy_of
from ..store import log, personal
from ..store.events import PRIVATE_FIELDS
from . import answer_adds, api, json_body, require_member, services

SESSION_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers accept for a cookie


@answer_adds("create_enrollment_link")
def with_url_and_qr(link: dict) -> dict:
    """The link in full, and as a QR code the phone can scan off the manager's screen."""
    url = services().settings.base_url + link["path"]
    return {**link, "url": url, "qr_svg": qr_svg(url, "Exit Now")}


@api.post("/enroll")
def enroll():
    """Use an enrollment code; the answer sets the device's long-lived session cookie."""
    body = json_body()
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not code:
        raise Invalid('Send {"code": "..."} from the enrollment link.', field="code")
    # An unknown code is a failed guess, limited per address; a used or expired one is not.
    with rate_limits.counting_failures(rate_limits.ENROLLMENT), services().store.reading() as db:
        person = enrollee(db, code)
    enrolled = commands.execute(services(), person, person.site, "enroll_device", {"code": code})
    token = enrolled["token"]
    identity = replace(person, credential_id=enrolled["credential_id"], via_cookie=True)
    response = jsonify(_me(identity))
    response.status_code = 201
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=services().settings.base_url.startswith("https://"),
    )
    return response


@api.get("/enroll/<code>")
def enrollment_link(code: str):
    """Whose enrollment link this is, without using it (the page names the person)."""
    with rate_limits.counting_failures(rate_limits.ENROLLMENT), services().store.reading() as db:
        return jsonify(enrollment_link_view(db, code, now_ms()))


@api.get("/me")
def me():
    return jsonify(_me(g.identity))


def _me(identity: auth.Identity) -> dict:
    """Who I am, with my home zone and language (the staff app starts from this)."""
    with services().store.reading() as db:
        person = db.execute(
            "SELECT home_zone, language FROM staff WHERE id = ?", [identity.staff_id]
        ).fetchone()
        marshal = is_marshal(db, identity, identity.site)
    answer = {
        "site": identity.site,
        "role": identity.role,
        "name": identity.name,
        "staff_id": identity.staff_id,
        "chain_admin": identity.chain_admin,
        "home_zone": person[0] if person else None,
        "language": person[1] if person else DEFAULT_LANGUAGE,
        "marshal": marshal,  # may account for others at the assembly point
    }

    if identity.via_cookie:
        answer["csrf_token"] = auth.csrf_token(current_app.secret_key, identity)
    return answer


@api.get("/me/data")
def my_data():
    """Everything held about me (GDPR Art. 15): what the state says and my log entries, read."""
    if g.identity.staff_id is None:
        raise NotFound("The command line is nobody on the staff list: there is no data to show.")
    with services().store.reading() as db:
        return jsonify(data_about(db, g.identity.staff_id))


@api.get("/sites/<site>/staff/<int:staff_id>/data")
def staff_data(site: str, staff_id: int):
    """Everything held about one person of the site, for an admin answering their request."""
    with services().store.reading() as db:
        require_member(db, site, auth.ADMINS, "a person's data")
        if not db.execute(
            "SELECT 1 FROM staff WHERE id = ? AND site = ?", [staff_id, site]
        ).fetchone():
            raise NotFound(f"There is no staff member {staff_id} on this site.")
        return jsonify(data_about(db, staff_id))


def data_about(db, staff_id: int) -> dict:
    """The state's rows about the person, then every log entry they made or that names them,
    with its sealed fields read ("(erased)" once erased)."""
    reader = personal.Reader(db)
    rows = db.query(
        """SELECT * FROM events WHERE CAST(json_extract(actor, '$.staff_id') AS BIGINT) = :id
           OR CAST(json_extract(payload, '$.staff_id') AS BIGINT) = :id ORDER BY site, seq""",
        {"id": staff_id},
    )
    entries = [reader.entry(log.row_to_entry(row)) for row in rows]
    return {
        **held_about_staff(db, staff_id),
        "log": [
            {
                "seq": e["seq"],
                "ts": iso(e["ts"]),
                "type": e["type"],
                "payload": {k: v for k, v in e["payload"].items() if k not in PRIVATE_FIELDS},
            }
            for e in entries
        ],
    }


@api.get("/sites/<site>/privacy")
def site_privacy(site: str):
    """Who is responsible for personal data on the site and how long it is kept: what the
    visitor page tells a visitor before they sign in (public, as a privacy notice is)."""
    with services().store.reading() as db:
        row = db.execute("SELECT settings FROM sites WHERE id = ?", [site]).fetchone()
    if row is None:
        raise NotFound(f"There is no site '{site}'.")
    return jsonify(privacy_of(row[0]))
