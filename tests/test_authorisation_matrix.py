"""The authorisation matrix: every write route (read from the app's url_map) and every socket
action (server.commands.socket_actions()) against every caller who must be refused, each refused with
4xx and nothing logged.

A route or action added later is in the matrix by itself, and fails until WHO_MAY says who may
run its command (and BODIES gives a body it accepts). WHO_MAY is written out here, as the
routes table of docs/http-api.md says it, and held to the `@command` declarations, so neither
changes alone.

The HTTP rows run on the app in this process, each on a fresh copy of one prepared world (an
incident under way, an open help request and backup request, enrolled phones), where the
allowed caller would succeed: a refusal is the rule at work, not a missing precondition. The
socket and the foreign Origin run on one real server under eventlet, for the whole module.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import requests
import socketio
import websocket

from harness import Api, LiveServer, copy_store, outside_store, unit_settings
from server import create_app, demo
from server.api.public import PHONE_TYPES
from server.basics.settings import Settings
from server.commands import COMMANDS, execute, routed, socket_actions
from server.live.publish import PUBLIC_NAMESPACE
from server.rules.auth import (
    CSRF_HEADER,
    ROLES,
    SESSION_COOKIE,
    VISITORS,
    alarm_panel,
    command_line,
)

SITE = "demo"
ACTIONS = socket_actions()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EVIL = "http://evil.example"

# --- who may do what: the table ------------------------------------------------------------

EVERYONE = frozenset(ROLES)
MANAGERS = frozenset({"duty_manager", "admin"})
RESPONDERS = frozenset({"guard", "duty_manager", "admin"})
ADMINS = frozenset({"admin"})

# Who may run each command that a route or the socket reaches (docs/http-api.md, "Routes").
WHO_MAY: dict[str, frozenset] = {
    "start_incident": MANAGERS,
    "update_incident": MANAGERS,
    "end_incident": MANAGERS,
    "record_delivery": EVERYONE,
    "acknowledge": EVERYONE,
    "report_safe": EVERYONE,
    "claim_zone": EVERYONE,
    "clear_zone": EVERYONE,
    "block_zone": EVERYONE,
    "assign_zone": MANAGERS,
    "decline_zone": EVERYONE,  # the person asked: anyone else gets 409
    "decline_backup": RESPONDERS,
    "request_help": EVERYONE,
    "resolve_help": EVERYONE,
    "request_backup": EVERYONE,
    "cancel_backup": RESPONDERS,  # and the person who asked: OWN_ONLY
    "answer_backup": RESPONDERS,
    "configure_notices": ADMINS,
    "import_site": ADMINS,
    "create_enrollment_link": MANAGERS,
    "set_language": EVERYONE,
    "subscribe_push": EVERYONE,
    "send_test_alarm": MANAGERS,
    "answer_test_alarm": EVERYONE,
    "add_webhook": ADMINS,
    "remove_webhook": ADMINS,
    "send_test_webhook": ADMINS,
    "confirm_pre_alarm": MANAGERS,
    "dismiss_pre_alarm": MANAGERS,
    # Staff may too when the site file marks them marshal (test_mustering.py); the command
    # refuses other staff itself.
    "account_person": EVERYONE,
    "report_inside": EVERYONE,
    "sign_in_visitor": RESPONDERS,
    "sign_out_visitor": RESPONDERS,
    "set_mailbox_password": ADMINS,
}
# Roles that may run a command only on what is their own (the command checks the owner).
OWN_ONLY: dict[str, frozenset] = {"cancel_backup": frozenset({"staff"})}

# POST routes that are not commands of a site: what each is.
PUBLIC_WRITES = {"api.enroll"}  # anyone with a code: test_enrollment_* below
SIGNED_WRITES = {"hooks.alarm_panel_webhook"}  # the panel's signature: test_a_panel_hook_* below
READS_BY_POST = {f"public.phone_{format}" for format in PHONE_TYPES}  # Twilio fetches with POST
# A visitor at the entrance, with no account: test_a_visitors_own_write_* below.
VISITOR_WRITES = {f"api.{command.name}" for command in routed() if command.roles == VISITORS}

# A body each command accepts in the prepared world (or how to make it from the world); the
# fields a route has in its path come from World.path_values.
SUBSCRIPTION = {
    "endpoint": "https://push.example/send/matrix",
    "keys": {
        "p256dh": (
            "BEEowUc3jbafD6HJ3n51rAtEEdw3-wMuF246B-yMcDUx"
            "LdLgECF9ZQK9g90zechP_VyJlJ25won2C_6HRGjCIq0"
        ),
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}
BODIES: dict[str, dict | Callable] = {
    "start_incident": {"kind": "fire"},
    "update_incident": {"message": "Use the side door"},
    "end_incident": {"reason": "false_alarm"},
    "record_delivery": {},
    "acknowledge": {},
    "report_safe": {},
    "claim_zone": {},
    "clear_zone": {},
    "block_zone": {"note": "smoke"},
    "assign_zone": lambda world: {"staff_id": world.aino},
    "decline_zone": {},
    "decline_backup": {},
    "request_help": {"location": "Fitting room 2"},
    "resolve_help": {},
    "request_backup": {"location": "Till 3"},
    "cancel_backup": {},
    "answer_backup": {},
    "configure_notices": {"settings": {"restored_minutes": 5}},
    "import_site": lambda world: {"config": world.config},
    "create_enrollment_link": {},
    "set_language": {"language": "sv"},
    "subscribe_push": {"subscription": SUBSCRIPTION},
    "send_test_alarm": {},
    "answer_test_alarm": {},
    "add_webhook": {"url": "https://hooks.example/exit-now"},
    "remove_webhook": {},
    "send_test_webhook": {},
    "confirm_pre_alarm": {},
    "dismiss_pre_alarm": {},
    "account_person": lambda world: {"staff_id": world.aino, "assembly_point": "lamp-post-a"},
    "report_inside": lambda world: {"staff_id": world.aino, "location": "Stockroom"},
    "sign_in_visitor": {"name": "Matrix Visitor"},
    "sign_out_visitor": {},
    "set_mailbox_password": {"mailbox": "service@shop.example", "password": "matrix"},
}
# Commands the world must be without an incident for (the allowed caller would get 201).
NEEDS_NO_INCIDENT = {"start_incident"}


# --- the routes and actions, as the app declares them --------------------------------------


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    arguments: frozenset

    @property
    def command(self) -> str | None:
        return COMMAND_OF.get(self.endpoint)

    @property
    def for_a_site(self) -> bool:
        return "site" in self.arguments

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def write_routes() -> list[Route]:
    """Every rule of the app's url_map that takes POST, PUT, PATCH or DELETE."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(unit_settings(Path(folder) / "routes.db", "routes"))
        try:
            return sorted(
                (
                    Route(
                        rule.endpoint,
                        rule.rule,
                        method,
                        frozenset(rule.arguments) - set(rule.defaults or {}),
                    )
                    for rule in app.url_map.iter_rules()
                    for method in rule.methods & WRITE_METHODS
                ),
                key=str,
            )
        finally:
            app.extensions["exitnow"].store.close()


# Each route's command, as the commands declare their routes.
COMMAND_OF = {
    f"api.{command.name}": command.name for command in routed() if command.roles != VISITORS
}
ROUTES = write_routes()
COMMAND_ROUTES_ = [route for route in ROUTES if route.command]


# --- the prepared world ---------------------------------------------------------------------


@dataclass
class World:
    folder: Path
    tokens: dict  # role -> a bearer token of a person of the demo site
    strangers: dict  # role -> a bearer token of a person of the site "other"
    requester: str  # the bearer token of the staff member who asked for backup
    phone: str  # the session cookie of an admin's enrolled phone
    phone_csrf: str
    staff_phone: str  # the session cookie of a staff member's enrolled phone
    staff_phone_csrf: str
    used_code: str  # the enrollment code the admin's phone used
    fresh_code: str  # an enrollment code nobody has used
    help_id: int
    backup_id: int
    aino: int  # a staff member's id (enrollment links, assigning a zone)
    test_id: int  # a test alarm sent to everyone (the admin's phone answers it)
    webhook_id: int  # a webhook subscription of the demo site
    visitor_id: int  # a visitor signed in at the desk
    config: dict  # the demo site's set-up, as GET /setup gives it

    def path_values(self, route: Route) -> dict:
        """What to put in each part of the route's path: the demo site's real ids."""
        values = {
            "site": SITE,
            "zone": "stockroom",
            "help_id": self.help_id,
            "backup_id": self.backup_id,
            "staff_id": self.aino,
            "lang": "fi",
            "test_id": self.test_id,
            "webhook_id": self.webhook_id,
            "visitor_id": self.visitor_id,
        }
        unknown = route.arguments - set(values)
        assert not unknown, f"{route}: say in World.path_values what {sorted(unknown)} is"
        return {name: values[name] for name in route.arguments}

    def path(self, route: Route) -> str:
        values = self.path_values(route)
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda part: str(values[part[1]]), route.rule)

    def body(self, command: str) -> dict:
        body = BODIES.get(command, {})
        return body(self) if callable(body) else body

    def params(self, command: str) -> dict:
        """The socket's params: the body plus the fields its HTTP route has in the path."""
        route = next(r for r in COMMAND_ROUTES_ if r.command == command)
        in_path = {k: v for k, v in self.path_values(route).items() if k != "site"}
        return {**self.body(command), **in_path}


def cookie_of(response) -> str:
    cookies = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookies.load(header)
    return cookies[SESSION_COOKIE].value


def build_world(folder: Path, secret_key: str) -> World:
    app = create_app(unit_settings(folder / "exitnow.db", secret_key))
    services = app.extensions["exitnow"]
    client = app.test_client(use_cookies=False)

    def operator(site: str, name: str, params: dict) -> dict:
        return execute(services, command_line(site), site, name, params)

    def enrolled_phone(name: str, role: str) -> tuple[str, str, str]:
        staff_id = operator(SITE, "add_staff", {"name": name, "role": role})["staff_id"]
        code = operator(SITE, "create_enrollment_link", {"staff_id": staff_id})["code"]
        enrolled = client.post("/api/enroll", json={"code": code})
        assert enrolled.status_code == 201, enrolled.get_json()
        cookie = cookie_of(enrolled)
        me = client.get("/api/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        return cookie, me.get_json()["csrf_token"], code

    demo.seed(services)
    operator("other", "create_site", {"name": "Other shop"})
    tokens = {
        role: operator(SITE, "create_token", {"name": f"Matrix {role}", "role": role})["token"]
        for role in ROLES
    }
    strangers = {
        role: operator("other", "create_token", {"name": f"Other {role}", "role": role})["token"]
        for role in ("duty_manager", "admin")
    }
    requester = operator(SITE, "create_token", {"name": "Cashier", "role": "staff"})["token"]
    phone, phone_csrf, used_code = enrolled_phone("Alma Admin", "admin")
    staff_phone, staff_phone_csrf, _ = enrolled_phone("Sami Staff", "staff")
    with services.store.reading() as db:
        aino = db.execute("SELECT id FROM staff WHERE name = 'Aino Aaltonen'").fetchone()[0]
        pekka = db.execute("SELECT id FROM staff WHERE name = 'Pekka Virtanen'").fetchone()[0]
    fresh_code = operator(SITE, "create_enrollment_link", {"staff_id": pekka})["code"]

    def post(token: str, path: str, body: dict) -> dict:
        answer = Api(client, token).post(f"/api/sites/{SITE}{path}", body)
        assert answer.status_code < 300, (path, answer.get_json())
        return answer.get_json()

    # The panel's pre-alarm counts down, and an unconfirmed phone is chased, after an hour: no
    # timer ends the one or logs the other while the module runs (a refusal logs nothing, and
    # a test counts the log around it).
    config = Api(client, tokens["admin"]).get(f"/api/sites/{SITE}/setup").get_json()["config"]
    hour = {"alarm_panel": {"countdown_seconds": 3600}, "escalation": {"seconds": 3600}}
    post(tokens["admin"], "/setup", {"config": {**config, **hour}})
    operator(SITE, "add_alarm_panel_secret", {})
    pre_alarm = {"event_id": "matrix", "event": "pre_alarm", "delivery": "matrix"}
    execute(services, alarm_panel(SITE), SITE, "receive_alarm_signal", pre_alarm)
    post(tokens["duty_manager"], "/incidents", {"kind": "fire"})
    help_id = post(tokens["staff"], "/help-requests", {"location": "Till 1"})["help_request"]["id"]
    # The admin's phone is asked to sweep the stockroom: the one who may decline it.
    alma = client.get("/api/me", headers={"Cookie": f"{SESSION_COOKIE}={phone}"}).get_json()
    post(tokens["duty_manager"], "/zones/stockroom/assign", {"staff_id": alma["staff_id"]})
    backup = post(requester, "/backup-requests", {"location": "Till 2"})["backup_request"]["id"]
    test_id = post(tokens["duty_manager"], "/test-alarms", {})["test_id"]
    webhook_id = operator(SITE, "add_webhook", {"url": "https://hooks.example/matrix"})[
        "webhook_id"
    ]
    visitor_id = post(tokens["guard"], "/visitors", {"name": "Matrix Guest"})["visitor_id"]
    # A self-hosted mailbox, whose own ManageSieve password an admin may keep.
    sieve = {"provider": "sieve", "mailbox": "service@shop.example"}
    operator(SITE, "configure_notices", {"settings": {"email": [sieve]}})
    config = Api(client, tokens["admin"]).get(f"/api/sites/{SITE}/setup").get_json()["config"]
    services.store.close()
    return World(
        folder,
        tokens,
        strangers,
        requester,
        phone,
        phone_csrf,
        staff_phone,
        staff_phone_csrf,
        used_code,
        fresh_code,
        help_id,
        backup,
        aino,
        test_id,
        webhook_id,
        visitor_id,
        config,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return build_world(tmp_path_factory.mktemp("world"), "test-secret")


@pytest.fixture
def settings(world, tmp_path) -> Settings:
    """conftest's app, client and event_count, on a fresh copy of the prepared world."""
    folder = tmp_path / "world"
    shutil.copytree(world.folder, folder, ignore=shutil.ignore_patterns("exitnow.db*"))
    copy_store(world.folder / "exitnow.db", folder / "exitnow.db")
    return unit_settings(folder / "exitnow.db")


@pytest.fixture
def http(app):
    """A test client that sends exactly the headers it is given (no cookie jar)."""
    return app.test_client(use_cookies=False)


# --- the callers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    status: int  # the refusal expected

    def headers(self, world: World) -> dict:
        kind, _, detail = self.name.partition(": ")
        if kind == "anonymous":
            return {}
        if kind == "unknown bearer token":
            return {"Authorization": "Bearer not-a-token"}
        if kind == "unknown session cookie":
            return {"Cookie": f"{SESSION_COOKIE}=not-a-session"}
        if kind == "role":
            return {"Authorization": f"Bearer {world.tokens[detail]}"}
        if kind == "other site":
            return {"Authorization": f"Bearer {world.strangers[detail]}"}
        cookie = {"Cookie": f"{SESSION_COOKIE}={world.phone}"}
        csrf = {
            "no CSRF token": None,
            "CSRF token of zeros": "0" * 64,
            "another phone's CSRF token": world.staff_phone_csrf,
            "its own CSRF token": world.phone_csrf,
        }[detail]
        return {**cookie, CSRF_HEADER: csrf} if csrf else cookie


CSRF_REFUSALS = ("no CSRF token", "CSRF token of zeros", "another phone's CSRF token")


def refused_callers(route: Route) -> list[Caller]:
    callers = [
        Caller("anonymous", 401),
        Caller("unknown bearer token", 401),
        Caller("unknown session cookie", 401),
        *(Caller(f"admin's phone cookie: {variant}", 403) for variant in CSRF_REFUSALS),
    ]
    allowed = WHO_MAY.get(route.command, frozenset())
    callers += [Caller(f"role: {role}", 403) for role in ROLES if role not in allowed]
    if route.for_a_site:
        callers += [Caller("other site: duty_manager", 403), Caller("other site: admin", 403)]
    return callers


MATRIX = [
    pytest.param(route, caller, id=f"{route} as {caller.name}")
    for route in COMMAND_ROUTES_
    for caller in refused_callers(route)
]


def prepare(http, world: World, command: str) -> None:
    """Bring the copy of the world to where the allowed caller would succeed."""
    if command in NEEDS_NO_INCIDENT:
        path = f"/api/sites/{SITE}/incidents/current/all-clear"
        headers = {"Authorization": f"Bearer {world.tokens['duty_manager']}"}
        assert http.post(path, json={"reason": "resolved"}, headers=headers).status_code == 200


# --- the table is complete and agrees with the code ----------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_write_route_is_in_the_table(route):
    known = route.command or route.endpoint in (
        PUBLIC_WRITES | READS_BY_POST | SIGNED_WRITES | VISITOR_WRITES
    )
    assert known, f"{route} ({route.endpoint}): say in this file what it is and who may call it"
    if route.command:
        assert route.command in WHO_MAY, f"{route}: WHO_MAY does not say who may run it"
        assert route.command in BODIES, f"{route}: BODIES has no body it accepts"


@pytest.mark.parametrize("command", sorted(ACTIONS))
def test_every_socket_action_is_in_the_table(command):
    assert command in WHO_MAY, f"WHO_MAY does not say who may send {command} over the socket"
    assert any(route.command == command for route in COMMAND_ROUTES_), command


def test_who_may_matches_the_commands_declarations():
    reachable = {route.command for route in COMMAND_ROUTES_} | set(ACTIONS)
    declared = {command: set(COMMANDS[command].roles) for command in reachable}
    table = {
        command: set(WHO_MAY.get(command, ())) | set(OWN_ONLY.get(command, ()))
        for command in reachable
    }
    assert table == declared


def test_the_matrix_is_not_empty():
    # 20 routes of commands, three POST reads and enrollment when this was written.
    assert len(COMMAND_ROUTES_) >= 20 and len(ACTIONS) >= 15 and len(MATRIX) >= 170


# --- HTTP: every write route, every caller who must be refused -----------------------------


def send(http, world, route: Route, caller: Caller):
    """The route's usual request (its path and body in this world) as `caller` sends it."""
    return http.open(
        world.path(route),
        method=route.method,
        json=world.body(route.command),
        headers=caller.headers(world),
    )


@pytest.mark.parametrize(("route", "caller"), MATRIX)
def test_a_write_is_refused_with_nothing_logged(http, world, event_count, route, caller):
    prepare(http, world, route.command)
    before = event_count()
    answer = send(http, world, route, caller)
    assert answer.status_code == caller.status, answer.get_data(as_text=True)
    assert answer.get_json()["status"] == caller.status  # problem+json
    assert event_count() == before


@pytest.mark.parametrize("route", COMMAND_ROUTES_, ids=str)
def test_the_phone_with_its_csrf_token_is_allowed(http, world, event_count, route):
    """The control: the same request from the admin's phone with its own token is a logged
    write, so every refusal above is the rule at work, not a bad body or a missing incident."""
    prepare(http, world, route.command)
    before = event_count()
    answer = send(http, world, route, Caller("admin's phone cookie: its own CSRF token", 200))
    assert 200 <= answer.status_code < 300, answer.get_json()
    assert event_count() > before


@pytest.mark.parametrize("route", [r for r in ROUTES if r.endpoint in VISITOR_WRITES], ids=str)
def test_a_visitors_own_write_needs_no_account_and_acts_as_a_visitor(http, world, route):
    """Whoever asks, even an admin's phone with its cookie and no CSRF token, acts as a visitor
    with no rights: a sign-in adds a visitor, and a link that is not the visitor's is a 404."""
    headers = {"Cookie": f"{SESSION_COOKIE}={world.phone}"}
    body = {"name": "Walk-in"} if route.rule.endswith("/self") else {"token": "1.forged"}
    answer = http.post(world.path(route), json=body, headers=headers)
    assert answer.status_code == (201 if route.rule.endswith("/self") else 404), answer.get_json()


def test_the_person_who_asked_may_cancel_their_backup_request(http, world, event_count):
    before = event_count()
    answer = http.post(
        f"/api/sites/{SITE}/backup-requests/{world.backup_id}/cancel",
        headers={"Authorization": f"Bearer {world.requester}"},
    )
    assert answer.status_code == 200 and answer.get_json()["changed"] is True
    assert event_count() == before + 1


def test_a_sites_admin_cannot_create_another_site_through_setup(http, world, event_count):
    before = event_count()
    answer = http.post(
        "/api/sites/brand-new/setup",
        json={"config": {**world.config, "site": "brand-new"}},
        headers={"Authorization": f"Bearer {world.tokens['admin']}"},
    )
    assert answer.status_code == 403
    assert event_count() == before


@pytest.mark.parametrize(
    ("maker", "whom", "status"),
    [
        ("duty_manager", "staff", 201),
        ("duty_manager", "duty_manager", 201),
        ("duty_manager", "admin", 403),
        ("duty_manager", "chain admin", 403),
        ("admin", "admin", 201),
        ("admin", "chain admin", 403),
    ],
)
def test_an_enrollment_link_gives_no_one_more_rights_than_its_maker(
    http, world, services, event_count, maker, whom, status
):
    """Making a link for someone is making a credential for them: only for no more rights
    than one's own, and the chain's admin only from the command line (docs/http-api.md, Who is asking)."""
    params = {"name": f"Enrollee {whom}", "role": whom.split()[-1], "chain": whom == "chain admin"}
    staff_id = execute(services, command_line(SITE), SITE, "create_token", params)["staff_id"]
    before = event_count()
    answer = http.post(
        f"/api/sites/{SITE}/staff/{staff_id}/enrollment-links",
        headers={"Authorization": f"Bearer {world.tokens[maker]}"},
    )
    assert answer.status_code == status, answer.get_json()
    assert event_count() == before + (status == 201)


@pytest.mark.parametrize("route", [r for r in ROUTES if r.endpoint in READS_BY_POST], ids=str)
def test_a_read_by_post_writes_nothing(http, event_count, route, world):
    before = event_count()
    answer = http.open(world.path(route), method=route.method, data="CallSid=CA1")
    assert answer.status_code in (200, 404)
    assert event_count() == before


@pytest.mark.parametrize(
    "caller",
    ["anonymous", "role: admin", "admin's phone cookie: its own CSRF token", "other site: admin"],
)
@pytest.mark.parametrize("route", [r for r in ROUTES if r.endpoint in SIGNED_WRITES], ids=str)
def test_a_panel_hook_without_the_panels_signature_is_refused(
    http, world, event_count, route, caller
):
    """No person's credential reaches the panel's webhook: only its signature does."""
    before = event_count()
    answer = http.open(
        world.path(route),
        method=route.method,
        json={"event_id": "matrix-2", "event": "fire_alarm"},
        headers=Caller(caller, 401).headers(world),
    )
    assert answer.status_code == 401, answer.get_json()
    assert answer.get_json()["status"] == 401
    assert event_count() == before


# --- enrollment: public by design ----------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "status"),
    [
        ("an unknown code", 404),
        ("a used code", 410),
        ("no code", 400),
        ("a code as text/plain", 400),  # what a form on a foreign page can send
        ("a code form-encoded", 400),
    ],
)
def test_enrollment_with_a_wrong_code_is_refused(http, world, event_count, what, status):
    before = event_count()
    request = {
        "an unknown code": {"json": {"code": "not-a-code"}},
        "a used code": {"json": {"code": world.used_code}},
        "no code": {"json": {}},
        "a code as text/plain": {
            "data": json.dumps({"code": world.fresh_code}),
            "content_type": "text/plain",
        },
        "a code form-encoded": {"data": {"code": world.fresh_code}},
    }[what]
    answer = http.post("/api/enroll", headers={"Origin": EVIL}, **request)
    assert answer.status_code == status, answer.get_json()
    assert SESSION_COOKIE not in answer.headers.get("Set-Cookie", "")
    assert event_count() == before
    # The unused code still works afterwards: the refusal was the request's, not the code's.
    assert http.post("/api/enroll", json={"code": world.fresh_code}).status_code == 201


# --- the real server: the socket and foreign Origins ---------------------------------------


@dataclass
class Live:
    server: LiveServer
    world: World
    clients: dict

    @property
    def url(self) -> str:
        return self.server.url

    def count(self, site: str | None = None) -> int:
        """Entries in the log (of one site), read from the server's database file."""
        with outside_store(self.server.db_path) as db:
            if site is None:
                return db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM events WHERE site = ?", [site]).fetchone()[0]

    def socket(self, name: str, **kwargs) -> socketio.Client:
        """One connected client per caller name, kept for the module."""
        if name not in self.clients or not self.clients[name].connected:
            self.clients[name] = connect_socket(self.url, **kwargs)
        return self.clients[name]


def connect_socket(url, *, token=None, cookie=None, origin=None, transport="websocket"):
    """A python-socketio client; `origin` is the one Origin header its handshake carries
    (websocket-client sends its own, the server's, unless told another)."""
    options = {"origin": origin} if origin and transport == "websocket" else {}
    client = socketio.Client(reconnection=False, websocket_extra_options=options)
    headers = {}
    if cookie:
        headers["Cookie"] = f"{SESSION_COOKIE}={cookie}"
    if origin and transport == "polling":
        headers["Origin"] = origin
    auth = {"token": token} if token else None
    client.connect(url, auth=auth, headers=headers, transports=[transport], wait_timeout=10)
    return client


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One real server (python -m server, eventlet) on a prepared world, for the module."""
    folder = tmp_path_factory.mktemp("live")
    world = build_world(folder, "live-test-secret")  # LiveServer's EXITNOW_SECRET_KEY
    # The mailbox switch fails here (no mailbox server), and each retry logs its outcome: an
    # hour apart, none lands between a refusal's two counts of the log.
    server = LiveServer(folder / "exitnow.db", env={"EXITNOW_EMAIL_RETRY_SECONDS": "3600"}).start()
    running = Live(server, world, {})
    yield running
    for client in running.clients.values():
        if client.connected:
            client.disconnect()
    server.stop()


class Polling:
    """A raw Engine.IO polling session, as any HTTP client can open one."""

    def __init__(self, url: str, headers: dict | None = None):
        self.url = f"{url}/socket.io/?EIO=4&transport=polling"
        self.headers = headers or {}
        self.http = requests.Session()
        opened = self.http.get(self.url, headers=self.headers, timeout=5)
        assert opened.status_code == 200, opened.text
        self.sid = json.loads(opened.text[1:])["sid"]
        self.seen: list[str] = []

    def send(self, *packets: str, headers: dict | None = None) -> requests.Response:
        return self.http.post(
            f"{self.url}&sid={self.sid}",
            data="\x1e".join(packets),
            headers=self.headers if headers is None else headers,
            timeout=5,
        )

    def until(self, done, timeout: float = 5) -> list[str]:
        """Poll until a packet satisfies `done`; every packet seen so far."""
        deadline = time.monotonic() + timeout
        while not any(done(packet) for packet in self.seen):
            assert time.monotonic() < deadline, f"nothing came: {self.seen}"
            got = self.http.get(f"{self.url}&sid={self.sid}", headers=self.headers, timeout=15)
            assert got.status_code == 200, got.text
            self.seen += got.text.split("\x1e")
        return self.seen


def action_packet(ack_id: int, command: str, params: dict, namespace: str = "") -> str:
    """A Socket.IO EVENT packet `action` asking for an acknowledgement `ack_id`."""
    prefix = f"42{namespace}," if namespace else "42"
    return f"{prefix}{ack_id}" + json.dumps(["action", {"command": command, "params": params}])


def socket_refusals() -> list:
    callers = ["staff", "guard", "staff's phone"]
    return [
        pytest.param(command, caller, id=f"{command} by {caller}")
        for command in sorted(ACTIONS)
        for caller in callers
        if caller.split("'")[0] not in WHO_MAY.get(command, frozenset())
    ]


@pytest.mark.parametrize(("command", "caller"), socket_refusals())
def test_a_socket_action_from_a_role_it_is_not_for_is_refused(live, command, caller):
    if caller == "staff's phone":  # its session cookie, from the same origin as a browser
        kwargs = {"cookie": live.world.staff_phone, "origin": live.url}
    else:
        kwargs = {"token": live.world.tokens[caller]}
    client = live.socket(caller, **kwargs)
    before = live.count()
    ack = client.call(
        "action", {"command": command, "params": live.world.params(command)}, timeout=10
    )
    assert ack["ok"] is False and ack["error"]["status"] == 403, ack
    assert live.count() == before


@pytest.mark.parametrize("command", sorted(ACTIONS))
def test_a_socket_action_without_credentials_is_ignored(live, command):
    """Sent raw, as any HTTP client can: on the main namespace after its connect was refused,
    and on the public one, which anyone may join (to read a site's notice, and nothing more)."""
    session = Polling(live.url)
    before = live.count()
    session.send(f"40{PUBLIC_NAMESPACE}," + json.dumps({"site": SITE}))
    session.send("40")  # connect without credentials: refused
    params = live.world.params(command)
    session.send(action_packet(1, command, params))
    session.send(action_packet(2, command, params, PUBLIC_NAMESPACE))
    session.send("40")  # a second refusal: the actions before it were handled by then
    packets = session.until(lambda _: sum(p.startswith("44") for p in session.seen) >= 2)
    assert any(packet.startswith(f"40{PUBLIC_NAMESPACE},") for packet in packets), packets
    assert not any(packet.startswith("43") for packet in packets), packets
    assert live.count() == before


@pytest.mark.parametrize("command", sorted(ACTIONS))
def test_another_sites_manager_cannot_reach_this_site_over_the_socket(live, command):
    """The socket acts on the caller's own site only: the demo site's ids reach nothing."""
    client = live.socket("other site's duty_manager", token=live.world.strangers["duty_manager"])
    before = live.count(SITE)
    ack = client.call(
        "action", {"command": command, "params": live.world.params(command)}, timeout=10
    )
    assert ack["ok"] or ack["error"]["status"] < 500, ack
    assert live.count(SITE) == before


@pytest.mark.parametrize("command", sorted(ACTIONS))
def test_a_foreign_origin_cannot_post_an_action_into_a_phones_session(live, command):
    same_origin = {"Cookie": f"{SESSION_COOKIE}={live.world.phone}", "Origin": live.url}
    session = Polling(live.url, same_origin)
    session.send("40")
    session.until(lambda packet: packet.startswith("40{"))  # connected as the admin's phone
    before = live.count()

    foreign = session.send(
        action_packet(1, command, live.world.params(command)),
        headers={**same_origin, "Origin": EVIL},
    )
    reading = session.http.get(
        f"{session.url}&sid={session.sid}", headers={**same_origin, "Origin": EVIL}, timeout=5
    )
    session.send(action_packet(2, "fence", {}))  # same origin: answered with an error
    packets = session.until(lambda packet: packet.startswith("432"))

    assert foreign.status_code == 400 and reading.status_code == 400
    assert not any(packet.startswith("431") for packet in packets), packets
    assert live.count() == before


FOREIGN_ORIGINS = {
    "another site": EVIL,
    "another host name": "http://localhost:{port}",
    "another port": "http://127.0.0.1:1",
    "https instead of http": "https://127.0.0.1:{port}",
    "a sandboxed frame": "null",
}


@pytest.mark.parametrize("transport", ["websocket", "polling"])
@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_foreign_origin_cannot_open_a_socket_with_the_phones_cookie(live, origin, transport):
    foreign = FOREIGN_ORIGINS[origin].format(port=live.server.port)
    cookie = f"{SESSION_COOKIE}={live.world.phone}"
    before = live.count()
    if transport == "polling":
        answer = requests.get(
            f"{live.url}/socket.io/?EIO=4&transport=polling",
            headers={"Cookie": cookie, "Origin": foreign},
            timeout=5,
        )
        assert answer.status_code == 400, answer.text
    else:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(
                f"ws://127.0.0.1:{live.server.port}/socket.io/?EIO=4&transport=websocket",
                origin=foreign,
                cookie=cookie,
                timeout=5,
            )
        assert refused.value.status_code == 400
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect_socket(live.url, cookie=live.world.phone, origin=foreign, transport=transport)
    assert live.count() == before


@pytest.mark.parametrize(
    "auth", ["nothing", "an unknown token", "an unknown session cookie", "a token not a string"]
)
def test_a_socket_without_valid_credentials_is_refused(live, auth):
    kwargs = {
        "nothing": {},
        "an unknown token": {"token": "not-a-token"},
        "an unknown session cookie": {"cookie": "not-a-session", "origin": live.url},
        "a token not a string": {"token": {"$ne": None}},
    }[auth]
    with pytest.raises(socketio.exceptions.ConnectionError):
        connect_socket(live.url, **kwargs)


@pytest.mark.parametrize("variant", ["no CSRF token", "CSRF token of zeros"])
@pytest.mark.parametrize("route", COMMAND_ROUTES_, ids=str)
def test_a_cookie_write_from_a_foreign_origin_is_refused(live, route, variant):
    headers = {"Cookie": f"{SESSION_COOKIE}={live.world.phone}", "Origin": EVIL}
    if variant != "no CSRF token":
        headers[CSRF_HEADER] = "0" * 64
    before = live.count()
    answer = requests.request(
        route.method,
        live.url + live.world.path(route),
        json=live.world.body(route.command),
        headers=headers,
        timeout=5,
    )
    assert answer.status_code == 403, answer.text
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert live.count() == before


@pytest.mark.parametrize("route", COMMAND_ROUTES_, ids=str)
def test_a_foreign_page_may_not_send_the_csrf_header(live, route):
    """A browser sends X-CSRF-Token cross-origin only after a preflight the server allows."""
    preflight = requests.options(
        live.url + live.world.path(route),
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": route.method,
            "Access-Control-Request-Headers": f"content-type,{CSRF_HEADER.lower()}",
        },
        timeout=5,
    )
    assert preflight.status_code < 500
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_a_foreign_page_cannot_read_the_phones_csrf_token(live):
    answer = requests.get(
        live.url + "/api/me",
        headers={"Cookie": f"{SESSION_COOKIE}={live.world.phone}", "Origin": EVIL},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["csrf_token"]  # for its own pages only
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_the_phones_cookie_from_its_own_origin_works_over_the_socket(live):
    """The control: the refusals above are the Origin and the role, not a broken cookie."""
    before = live.count()
    for transport in ("websocket", "polling"):
        client = connect_socket(
            live.url, cookie=live.world.phone, origin=live.url, transport=transport
        )
        ack = client.call("action", {"command": "record_delivery", "params": {}}, timeout=10)
        client.disconnect()
        assert ack["ok"] is True, ack
    assert live.count() == before + 1  # the second receipt changes nothing
