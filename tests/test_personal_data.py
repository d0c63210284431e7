"""Personal data by design: the log keeps names, phone numbers, push subscriptions and what
people wrote sealed under per-person keys (server/store/personal.py), so that a person can be
erased while every hash, checkpoint and bundle still verifies."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3

from test_rebuild import script_an_incident

import verify_report
from harness import Api, flask_cli, only_on_sqlite, outside_store
from server.evidence.log_key import log_key_for
from server.store import log, personal
from server.store.db import connect

SITE = "/api/sites/demo"
# What the scripted incident writes about people: none of it may be readable in the log.
PERSONAL_WORDS = ("Anna", "Maija", "Nea", "Uusi", "smoke", "Lift", "Till 3", "invalid/abc")
VISITOR_WORDS = ("Vieras Virtanen", "Rakennus Oy", "+358401234567")


def log_text(db_path) -> str:
    """What the log keeps in plain text: every actor and payload, without the sealed values
    (their base64 may spell a short name by chance: "Nea" did, one run in a few)."""
    with outside_store(db_path) as db:
        text = "\n".join(a + p for a, p in db.execute("SELECT actor, payload FROM events"))
    return re.sub(r'"sealed:[^"]*"', '"sealed"', text)


def sign_in_visitor(client, make_token) -> tuple[Api, int]:
    desk = Api(client, make_token("guard", name="Desk"))
    answer = desk.post(
        f"{SITE}/visitors",
        {"name": "Vieras Virtanen", "company": "Rakennus Oy", "phone": "+358401234567"},
    )
    assert answer.status_code < 300, answer.get_json()
    return desk, answer.get_json()["visitor_id"]


def test_the_log_holds_no_name_or_note_in_plain_text_and_readers_see_them(
    services, client, make_token, settings, tmp_path
):
    script_an_incident(services, client, make_token)
    desk, _ = sign_in_visitor(client, make_token)

    text = log_text(settings.db_path)
    assert [word for word in (*PERSONAL_WORDS, *VISITOR_WORDS) if word in text] == []
    events = desk.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    helped = next(e for e in events if e["type"] == "help.requested")
    assert helped["payload"]["location"] == "Lift" and helped["actor"]["name"] == "Anna"
    blocked = next(e for e in events if e["type"] == "zone.blocked")
    assert blocked["payload"]["note"] == "smoke"
    visitor = next(e for e in events if e["type"] == "visitor.signed_in")
    assert visitor["payload"]["person"]["name"] == "Vieras Virtanen"
    verified = flask_cli(settings.db_path, "verify-log")
    assert verified.returncode == 0, verified.stderr
    rebuilt = flask_cli(settings.db_path, "rebuild-state", "--into", str(tmp_path / "r.db"))
    assert rebuilt.returncode == 0 and "matches" in rebuilt.stdout, rebuilt.stderr


def _as_written_before_sealing(db_path) -> None:
    """Turn a database into one as the server wrote it before personal fields were sealed:
    plaintext fields, the actor's name in each entry, no keys, user_version 0."""
    with sqlite3.connect(db_path, isolation_level=None) as db:
        reader = personal.Reader(db)
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        db.execute("BEGIN")
        for name, _ in triggers:
            db.execute(f"DROP TRIGGER {name}")
        previous = log.GENESIS_HASH
        rows = db.execute("SELECT id, site, seq, ts, actor, type, payload FROM events ORDER BY seq")
        for row_id, site, seq, ts, actor, type_, payload in rows.fetchall():
            entry = reader.entry(
                {"site": site, "seq": seq, "ts": ts, "type": type_}
                | {"actor": json.loads(actor), "payload": json.loads(payload)}
            )
            previous = log.entry_hash(previous, entry)
            db.execute(
                "UPDATE events SET actor = ?, payload = ?, hash = ? WHERE id = ?",
                [log.canonical_json(entry["actor"]), log.canonical_json(entry["payload"])]
                + [previous, row_id],
            )
        db.execute("DELETE FROM person_keys")
        db.execute("DELETE FROM checkpoints")
        db.execute(
            "INSERT INTO checkpoints (site, size, head_hash, made_at, reason, note) "
            "SELECT site, MAX(seq), hash, 0, 'hourly', 'signed before' FROM events WHERE seq = "
            "(SELECT MAX(seq) FROM events)"
        )
        for _, sql in triggers:
            db.execute(sql)
        db.execute("PRAGMA user_version = 0")
        db.execute("COMMIT")


@only_on_sqlite  # a copy of an older file, written as before the sealing
def test_a_database_from_before_is_sealed_once_and_still_verifies_and_rebuilds(
    services, client, make_token, settings, tmp_path
):
    script_an_incident(services, client, make_token)
    sign_in_visitor(client, make_token)
    services.store.close()
    old = tmp_path / "old.db"
    shutil.copy(settings.db_path, old)
    _as_written_before_sealing(old)
    assert "Anna" in log_text(old) and "Vieras Virtanen" in log_text(old)

    connect(str(old)).close()  # what a server start does

    text = log_text(old)
    assert [word for word in (*PERSONAL_WORDS, *VISITOR_WORDS) if word in text] == []
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0] == 0
        kept = db.execute("SELECT note FROM checkpoints_before_sealing").fetchall()
        assert kept == [("signed before",)]
        names = {name for (name,) in db.execute("SELECT name FROM staff")}
    assert {"Anna", "Maija", "Uusi"} <= names
    verified = flask_cli(old, "verify-log")
    assert verified.returncode == 0, verified.stderr
    rebuilt = flask_cli(old, "rebuild-state", "--into", str(tmp_path / "r.db"))
    assert rebuilt.returncode == 0 and "matches" in rebuilt.stdout, rebuilt.stderr
    events = flask_cli(old, "verify-log")
    assert "entries verified" in events.stdout


def test_erasing_a_person_and_what_expired_keeps_the_chain_and_reads_erased(
    services, client, make_token, settings, tmp_path
):
    script_an_incident(services, client, make_token)
    desk, visitor_id = sign_in_visitor(client, make_token)
    admin = Api(client, make_token("admin", name="Aaro admin"))
    with outside_store(settings.db_path) as db:
        (anna,) = db.execute("SELECT id FROM staff WHERE name = 'Anna'").fetchone()
    held = admin.get(f"{SITE}/staff/{anna}/data").get_json()
    assert held["person"]["name"] == "Anna"
    assert any(e["payload"].get("location") == "Lift" for e in held["log"])
    assert held["push_subscriptions"] == []  # dropped by the script: none left to show
    assert desk.post(f"{SITE}/visitors/{visitor_id}/leave").status_code < 300
    before = admin.get(f"{SITE}/incidents/1/report.json").get_json()
    assert any(h["location"] == "Lift" for h in before["help_requests"])
    fingerprint = log_key_for(settings).fingerprint
    bundle_before = tmp_path / "before.zip"
    bundle_before.write_bytes(admin.get(f"{SITE}/incidents/1/report.bundle").get_data())
    assert "Anna" in json.dumps(verify_report.Bundle(str(bundle_before)).report)

    erased = flask_cli(settings.db_path, "erase-person", "--site", "demo", "--staff-id", str(anna))
    assert erased.returncode == 0, erased.stderr
    assert "erased names and phone numbers: 1" in erased.stdout
    assert "erased notes and locations in incidents: 1" in erased.stdout
    expired = flask_cli(
        settings.db_path, "erase-expired", "--site", "demo", "--as-of", "2099-01-01T00:00:00Z"
    )
    assert expired.returncode == 0, expired.stderr
    assert "erased visitors: 1" in expired.stdout

    # Gone from the state, the API and the report; the log still verifies and rebuilds.
    after = admin.get(f"{SITE}/staff/{anna}/data").get_json()
    assert after["person"]["name"] == "(erased)" and "Anna" not in json.dumps(after)
    assert "Lift" not in json.dumps(after) and "smoke" not in json.dumps(after)
    report = admin.get(f"{SITE}/incidents/1/report.json").get_json()
    text = json.dumps(report, ensure_ascii=False)
    assert [w for w in ("Anna", "Lift", "smoke", *VISITOR_WORDS) if w in text] == []
    assert "(erased)" in text
    html = admin.get(f"{SITE}/incidents/1/report.html?lang=en").get_data(as_text=True)
    assert "Anna" not in html and "(erased)" in html
    finnish = admin.get(f"{SITE}/incidents/1/report.html?lang=fi").get_data(as_text=True)
    assert "(poistettu)" in finnish and "(erased)" not in finnish  # said in the reader's words
    events = admin.get(f"{SITE}/events?after=0&limit=1000").get_json()["events"]
    assert [w for w in ("Anna", *VISITOR_WORDS) if w in json.dumps(events)] == []
    with outside_store(settings.db_path) as db:
        assert db.execute(
            "SELECT COUNT(*) FROM person_keys WHERE subject LIKE ? OR person = 'visitor'",
            [f"staff:{anna}%"],
        ).fetchone() == (0,)
    verified = flask_cli(settings.db_path, "verify-log")
    assert verified.returncode == 0, verified.stderr
    rebuilt = flask_cli(settings.db_path, "rebuild-state", "--into", str(tmp_path / "r.db"))
    assert rebuilt.returncode == 0 and "matches" in rebuilt.stdout, rebuilt.stderr
    bundle_after = tmp_path / "after.zip"
    bundle_after.write_bytes(admin.get(f"{SITE}/incidents/1/report.bundle").get_data())
    assert "Anna" not in verify_report.Bundle(str(bundle_after)).files["log.jsonl"].decode()
    assert verify_report.verify(str(bundle_before), fingerprint)
    assert verify_report.verify(str(bundle_after), fingerprint)
    again = flask_cli(settings.db_path, "erase-person", "--site", "demo", "--staff-id", str(anna))
    assert again.returncode == 0 and "nothing to erase" in again.stdout


def test_a_person_sees_what_is_held_about_them_and_no_one_else(client, make_token):
    me = Api(client, make_token("staff", name="Mirja"))
    assert me.post(f"{SITE}/backup-requests", {"location": "Till 4"}).status_code == 201

    mine = me.get("/api/me/data").get_json()

    assert mine["person"]["name"] == "Mirja"
    assert [e["type"] for e in mine["log"]][-1] == "backup.requested"
    assert mine["backup_requests"][0]["location"] == "Till 4"
    assert me.get(f"{SITE}/staff/{mine['person']['staff_id']}/data").status_code == 403
