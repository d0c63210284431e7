"""The app keeps its copy of the site state current between two `state` messages by applying
each event itself (pwa/js/model.js `applyEvent`). These tests hold that copy to the projectors:
the real server runs a realistic incident, and the state a phone had before, with every event
of the log applied by model.js in Node, must be the server's own state after, field by field
for what the staff screens show, both as a duty manager's phone and as a staff phone sees it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from harness import REPO, prepare_database

RUNNER = REPO / "tests" / "apply_events.mjs"
SITE = "/api/sites/demo"

# What the staff screens read of the state, and so what applyEvent must keep right.
SHOWN = {
    "incident": ("id", "kind", "drill", "message", "eta", "started_at"),
    "zones": (
        "id",
        "sweep",
        "by",
        "by_name",
        "note",
        "updated_at",
        "asked",
        "asked_name",
        "declined",
        "declined_name",
    ),
    "help_requests": ("id", "location", "note", "raised_by", "raised_at"),
    "backup_requests": ("id", "raised_by", "location", "note"),
}
STAFF_ROW = (
    "staff_id",
    "enrolled",
    "delivered_at",
    "acknowledged_at",
    "safe_at",
    "accounted",
    "reported_inside",
)
VISITOR_ROW = (
    "visitor_id",
    "name",
    "company",
    "host_staff_id",
    "home_zone",
    "expected_assembly_point",
    "self_signed",
    "signed_in_at",
    "left_at",
    "accounted",
    "reported_inside",
)


# A staff phone's own roll-call row is marked by events it reads redacted (the roll call is
# the responders'): its screens go by its own taps and the next state, not by applyEvent.
UNREAD_BY = {"duty_manager": (), "staff": ("roll_call.staff",)}


def shown(state: dict) -> dict:
    """The parts of a state the screens show, as {part: value} (rows by their fields)."""

    def rows(items, fields):
        return None if items is None else [{f: item.get(f) for f in fields} for item in items]

    incident = state["incident"]
    roll_call = state["roll_call"]
    return {
        "seq": state["seq"],
        "incident": incident and {f: incident.get(f) for f in SHOWN["incident"]},
        "zones": rows(state["zones"], SHOWN["zones"]),
        "help_requests": rows(state["help_requests"], SHOWN["help_requests"]),
        "backup_requests": rows(state.get("backup_requests"), SHOWN["backup_requests"]),
        "roll_call.staff": rows(roll_call["staff"], STAFF_ROW),
        "roll_call.visitors": rows(roll_call.get("visitors"), VISITOR_ROW),
    }


@pytest.fixture
def app_module(tmp_path) -> Path:
    """pwa/js/model.js in a copy of the app's modules marked as ES modules for Node (the
    browser needs no such mark; a Node older than 22 does)."""
    modules = tmp_path / "js"
    shutil.copytree(REPO / "pwa" / "js", modules)
    (modules / "package.json").write_text('{"type": "module"}')
    return modules / "model.js"


def applied_by_the_app(model: Path, state: dict, events: list[dict], vocabulary: dict) -> dict:
    """The state after `events`, as model.js applies them (in Node, the app's own module)."""
    done = subprocess.run(
        ["node", str(RUNNER), str(model)],
        input=json.dumps({"state": state, "events": events, "vocabulary": vocabulary}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


class Phone:
    """One person's view over HTTP: their state, and the log after a number as they read it."""

    def __init__(self, server, token: str):
        self.server, self.token = server, token
        self.me = self.get("/api/me")

    def get(self, path: str) -> dict:
        answer = self.server.get(path, self.token)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: dict | None = None) -> dict:
        answer = self.server.post(path, self.token, body)
        assert answer.status_code in (200, 201), (path, answer.text)
        return answer.json()

    def state(self) -> dict:
        return self.get(f"{SITE}/state")

    def events_after(self, seq: int) -> list[dict]:
        return self.get(f"{SITE}/events?after={seq}")["events"]


@pytest.fixture
def people(tmp_path, live_servers):
    """The real server on the demo site, and a phone each for a duty manager, a guard and two
    floor staff."""
    db_path = tmp_path / "site.db"
    tokens = prepare_database(db_path, {"duty_manager": 1, "guard": 1, "staff": 2})
    server = live_servers(db_path).start()
    manager, guard = Phone(server, tokens["duty_manager"][0]), Phone(server, tokens["guard"][0])
    return manager, guard, *(Phone(server, token) for token in tokens["staff"])


def an_incident(manager: Phone, guard: Phone, anna: Phone, ben: Phone) -> None:
    """An evacuation as it goes: the alarm reaches phones, people answer, zones are swept and
    assigned, help and backup are asked for and dealt with, a visitor is accounted for."""
    roll = manager.state()["roll_call"]["staff"]
    host = next(person for person in roll if person["expected_assembly_point"])
    leaving = guard.post(f"{SITE}/visitors", {"name": "Courier", "company": "Parcels Oy"})
    staying = guard.post(
        f"{SITE}/visitors",
        {"name": "Electrician", "company": "Sähkö Ab", "host_staff_id": host["staff_id"]},
    )
    gone = guard.post(f"{SITE}/visitors", {"name": "Cleaner"})
    guard.post(f"{SITE}/visitors/{gone['visitor_id']}/leave")
    manager.post(f"{SITE}/incidents", {"kind": "fire", "drill": False, "message": "Use exit B"})
    guard.post(f"{SITE}/visitors/{leaving['visitor_id']}/leave")  # out: accounted for
    for phone in (anna, ben, guard):
        phone.post(f"{SITE}/incidents/current/delivered")
    anna.post(f"{SITE}/incidents/current/acknowledge")
    anna.post(f"{SITE}/zones/grocery/claim")
    anna.post(f"{SITE}/zones/grocery/clear")
    guard.post(f"{SITE}/zones/stockroom/block", {"note": "Smoke in the corridor"})
    manager.post(f"{SITE}/zones/clothing/assign", {"staff_id": ben.me["staff_id"]})
    ben.post(f"{SITE}/zones/clothing/decline")
    manager.post(f"{SITE}/zones/entrance/assign", {"staff_id": ben.me["staff_id"]})
    ben.post(f"{SITE}/zones/entrance/claim")
    stuck = ben.post(f"{SITE}/help-requests", {"location": "Clothing", "note": "Wheelchair"})
    ben.post(f"{SITE}/help-requests", {"location": "Stockroom"})
    guard.post(f"{SITE}/help-requests/{stuck['help_request']['id']}/resolve")
    answered = ben.post(f"{SITE}/backup-requests", {"location": "Till 2"})
    ben.post(f"{SITE}/backup-requests", {"location": "Till 3", "note": "Angry customer"})
    called_off = ben.post(f"{SITE}/backup-requests", {"location": "Till 4"})
    ben.post(f"{SITE}/backup-requests/{called_off['backup_request']['id']}/cancel")
    guard.post(f"{SITE}/backup-requests/{answered['backup_request']['id']}/answer")
    manager.post(f"{SITE}/incidents/current/update", {"message": "Use exit A"})
    anna.post(f"{SITE}/incidents/current/safe", {"assembly_point": "lamp-post-a"})
    # Someone with no phone on the roll enrolls one.
    phoneless = next(person for person in roll if not person["enrolled"])
    link = manager.post(f"{SITE}/staff/{phoneless['staff_id']}/enrollment-links")
    enrolled = requests.post(
        f"{manager.server.url}/api/enroll", json={"code": link["code"]}, timeout=10
    )
    assert enrolled.status_code == 201, enrolled.text
    manager.post(
        f"{SITE}/incidents/current/accounted",
        {"visitor_id": staying["visitor_id"], "assembly_point": "lamp-post-a"},
    )
    manager.post(
        f"{SITE}/incidents/current/reported-inside",
        {"staff_id": ben.me["staff_id"], "location": "Stockroom"},
    )


def test_the_apps_copy_of_the_state_follows_the_log_as_the_server_does(people, app_module):
    manager, guard, anna, ben = people
    phones = {"duty_manager": manager, "staff": ben}
    vocabulary = manager.get("/api/vocabulary")
    kept = {reader: phone.state() for reader, phone in phones.items()}

    an_incident(manager, guard, anna, ben)
    during = follow(app_module, phones, kept, vocabulary)
    assert during["incident"] and during["help_requests"] and during["roll_call"]["visitors"]

    # Over: the screens show no incident (its zones and help requests go with it).
    manager.post(f"{SITE}/incidents/current/all-clear", {"reason": "resolved"})
    after = follow(
        app_module, phones, kept, vocabulary, parts=("seq", "incident", "backup_requests")
    )
    assert after["incident"] is None

    # The next alarm starts afresh: unchecked zones, a clean roll, no one who left before it.
    manager.post(f"{SITE}/incidents", {"kind": "evacuation", "drill": True})
    anna.post(f"{SITE}/incidents/current/delivered")
    again = follow(app_module, phones, kept, vocabulary)
    assert again["incident"]["drill"] and len(again["roll_call"]["visitors"]) == 1


def follow(
    model: Path, phones: dict, kept: dict, vocabulary: dict, parts: tuple | None = None
) -> dict:
    """Apply the log since each phone's kept state with model.js and compare it with the
    server's state now (the `parts` given, else all it shows); the duty manager's state."""
    for reader, phone in phones.items():
        now = phone.state()
        kept[reader] = applied_by_the_app(
            model, kept[reader], phone.events_after(kept[reader]["seq"]), vocabulary
        )
        for part in parts or shown(now):
            if part not in UNREAD_BY[reader]:
                assert shown(kept[reader])[part] == shown(now)[part], (reader, part)
    return phones["duty_manager"].state()
