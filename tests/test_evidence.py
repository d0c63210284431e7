"""Evidence that holds against whoever keeps it: the log's signing key, signed checkpoints in
the transparency logs' format, their witnesses (status.json, an RFC 3161 authority) and the
bundle that carries a report's proof."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from evidence import SITE, checkpoint_rows, files_of, open_app, run_an_incident
from tsa import LocalTsa

from harness import Api, flask_cli, unit_settings
from server import demo
from server.commands import execute
from server.evidence.log_key import LogKey, log_key_for
from server.rules.auth import command_line
from server.store import log


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    authority = LocalTsa(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.stop()


@pytest.fixture
def evidence_app(tmp_path, request):
    """An app of its own folder; with `tsa` in the test's arguments, timestamped there."""
    tsa_url = request.getfixturevalue("tsa").url if "tsa" in request.fixturenames else None
    app = open_app(tmp_path, tsa_url)
    yield app
    app.extensions["exitnow"].store.close()


def read_note(note: str) -> tuple[list[str], str, bytes]:
    """(the text's lines, the signer's name, key ID || signature) of a one-signature note."""
    text, blank, signature = note.rpartition("\n\n")
    assert blank and signature.startswith("— ") and signature.endswith("\n")
    name, encoded = signature[2:-1].split(" ")
    return text.split("\n"), name, base64.b64decode(encoded)


def test_log_key_prints_the_public_key_and_its_fingerprint_and_keeps_it_owner_only(tmp_path):
    db = tmp_path / "exitnow.db"

    printed = flask_cli(db, "log-key")

    assert printed.returncode == 0, printed.stderr
    lines = dict(line.split(": ", 1) for line in printed.stdout.splitlines()[1:3])
    public = base64.b64decode(lines["public key"].strip())
    assert len(public) == 32
    assert lines["fingerprint"].strip() == hashlib.sha256(public).hexdigest()
    assert stat.S_IMODE(os.stat(tmp_path / "log_signing_key.pem").st_mode) == 0o600
    kept = log_key_for(unit_settings(db))  # made once, then read by every process
    assert kept.public_raw == public


def test_a_signed_note_is_the_one_go_sumdb_note_makes():
    """golang.org/x/mod/sumdb/note's own test key and note (Ed25519 signs deterministically)."""
    seed = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
    key = LogKey(Ed25519PrivateKey.from_private_bytes(seed))
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )

    assert key.verifier_key("PeterNeumann") == (
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    assert key.sign_note(text, "PeterNeumann") == text + (
        "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
        "ngotpRZb6KE6RyyBwJnAM=\n"
    )


def test_starting_and_ending_an_incident_each_sign_a_checkpoint_of_that_commit(evidence_app):
    services = evidence_app.extensions["exitnow"]
    run_an_incident(services, evidence_app.test_client())
    key = log_key_for(services.settings)

    rows = checkpoint_rows(services)
    assert [row["reason"] for row in rows] == ["incident.started", "incident.ended"]
    with services.store.reading() as db:
        incident = next(db.query("SELECT * FROM incidents"))
        entries = {e["seq"]: e for e in log.events_after(db, "demo", 0, 1000)}
    for row, seq in zip(rows, (incident["start_seq"], incident["end_seq"]), strict=True):
        # The last entry of the command's commit (its public notices follow the start or end).
        following = entries.get(row["size"] + 1, {}).get("type")
        assert row["size"] >= seq and following != "notice.switched"
        lines, name, signed = read_note(row["note"])
        root = base64.b64encode(bytes.fromhex(entries[row["size"]]["hash"])).decode()
        assert lines[:3] == ["shop.example.com/demo", str(row["size"]), root]
        assert lines[3].startswith("time ") and name == "shop.example.com/demo"
        assert signed[:4] == key.key_id(name)
        key.private.public_key().verify(signed[4:], ("\n".join(lines) + "\n").encode())
        assert row["timestamp_token"] is None  # no authority configured


def test_an_hourly_checkpoint_is_made_only_while_the_log_grows(evidence_app):
    services = evidence_app.extensions["exitnow"]
    checkpoints = services.checkpoints
    assert checkpoints.due(10**13) == []  # an empty database
    demo.seed(services)
    assert checkpoints.due(10**13) == ["demo"]  # a log never signed

    checkpoints.tick()

    assert [row["reason"] for row in checkpoint_rows(services)] == ["hourly"]
    made = checkpoint_rows(services)[-1]["made_at"]
    assert checkpoints.due(made + 10 * 3600 * 1000) == []  # it has not grown since
    execute(services, command_line("demo"), "demo", "create_token", {"name": "N", "role": "staff"})
    assert checkpoints.due(made + 58 * 60 * 1000) == []  # grown, but signed within the hour
    assert checkpoints.due(made + 59 * 60 * 1000) == ["demo"]


def test_the_status_document_carries_the_newest_checkpoint_within_a_minute(evidence_app):
    services = evidence_app.extensions["exitnow"]
    run_an_incident(services, evidence_app.test_client())
    newest = checkpoint_rows(services)[-1]["note"]
    status = Path(services.settings.public_dir) / "demo" / "status.json"
    # As the document was written before its newest checkpoint was kept (the order is the
    # background's to choose; under load a later refresh may have shown it already).
    status.write_text(json.dumps({**json.loads(status.read_text()), "checkpoint": None}))

    services.checkpoints.tick()  # what the timer does each minute

    assert json.loads(status.read_text())["checkpoint"] == newest
    served = evidence_app.test_client().get("/status/demo.json").get_json()
    assert served["checkpoint"] == newest


def test_each_checkpoint_is_timestamped_by_the_authority(evidence_app, tsa):
    services = evidence_app.extensions["exitnow"]
    run_an_incident(services, evidence_app.test_client())

    for row in checkpoint_rows(services):
        token = cms.ContentInfo.load(row["timestamp_token"])
        info = token["content"]["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hashed_message"].native
        assert imprint == hashlib.sha256(row["note"].encode()).digest()
        signer = token["content"]["certificates"][0].chosen.subject.native["common_name"]
        assert signer == "Exit Now test TSA"


def test_a_timestamp_the_authority_did_not_give_is_asked_for_again(tmp_path, tsa):
    down = open_app(tmp_path, "http://127.0.0.1:9/tsa")  # nothing listens on port 9
    services = down.extensions["exitnow"]
    run_an_incident(services, down.test_client(), stamped=False)
    assert [row["timestamp_token"] for row in checkpoint_rows(services)] == [None, None]
    services.store.close()
    back = open_app(tmp_path, tsa.url)

    back.extensions["exitnow"].checkpoints.tick()

    assert all(row["timestamp_token"] for row in checkpoint_rows(back.extensions["exitnow"]))
    back.extensions["exitnow"].store.close()


def test_the_bundle_holds_the_report_the_entries_the_checkpoints_and_the_key(evidence_app, tsa):
    services = evidence_app.extensions["exitnow"]
    manager = run_an_incident(services, evidence_app.test_client())

    answer = manager.get(f"{SITE}/incidents/1/report.bundle")

    assert answer.status_code == 200 and answer.content_type == "application/zip"
    files = files_of(answer.data)
    rows = checkpoint_rows(services)
    assert {f"checkpoints/{row['size']}.{end}" for row in rows for end in ("txt", "tst")} <= set(
        files
    )
    entries = [json.loads(line) for line in files["log.jsonl"].splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, rows[-1]["size"] + 1))
    report = json.loads(files["report.json"])
    key = log_key_for(services.settings)
    sums = files["SHA256SUMS"]
    assert report["proof"] == {
        "fingerprint": key.fingerprint,
        "bundle_sha256": hashlib.sha256(sums).hexdigest(),
    }
    assert b"  log.jsonl\n" in sums and key.fingerprint in files["README.txt"].decode()
    assert files["report.pdf"].startswith(b"%PDF") and b"<html" in files["report.html"]


def test_a_bundle_after_the_last_checkpoint_signs_one_for_itself(evidence_app):
    services = evidence_app.extensions["exitnow"]
    manager = run_an_incident(services, evidence_app.test_client())
    # The log grows after the all-clear: a help request raised too late names the incident.
    with services.store.reading() as db:
        last = db.execute("SELECT MAX(seq) FROM events").fetchone()[0]

    answer = manager.get(f"{SITE}/incidents/1/report.bundle")

    assert answer.status_code == 200
    assert checkpoint_rows(services)[-1]["size"] == last  # none new was needed
    execute(services, command_line("demo"), "demo", "create_token", {"name": "N", "role": "staff"})
    with services.store.reading() as db:
        head = db.execute("SELECT MAX(seq) FROM events").fetchone()[0]

    services.checkpoints.covering("demo", last + 1)

    assert [(row["reason"], row["size"]) for row in checkpoint_rows(services)][-1] == (
        "bundle",
        head,
    )


def test_only_duty_managers_and_admins_get_the_bundle(evidence_app):
    services = evidence_app.extensions["exitnow"]
    run_an_incident(services, evidence_app.test_client())
    params = {"name": "Sanna", "role": "staff"}
    staff = execute(services, command_line("demo"), "demo", "create_token", params)["token"]

    answer = Api(evidence_app.test_client(), staff).get(f"{SITE}/incidents/1/report.bundle")

    assert answer.status_code == 403


def test_state_rebuilt_from_the_log_still_matches_beside_the_checkpoints(evidence_app, tmp_path):
    services = evidence_app.extensions["exitnow"]
    run_an_incident(services, evidence_app.test_client())

    rebuilt = flask_cli(
        services.settings.db_path, "rebuild-state", "--into", str(tmp_path / "r.db")
    )

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "matches" in rebuilt.stdout
