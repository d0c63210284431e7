"""verify_report.py, as a reader outside the company runs it: a fresh venv with nothing but
`cryptography`, the one file, and a bundle. A real bundle passes; each way of rewriting the
evidence fails, and the verdict names what does not hold."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta

import pytest
from attacker import edit_log, rehash_log
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from evidence import bundle_of, copy_folder, files_of, open_app, run_an_incident
from mail_standins import Graph
from tsa import LocalTsa

from harness import REPO, flask_cli, unit_settings
from server import create_app, demo
from server.commands import execute
from server.evidence import timestamps
from server.evidence.checkpoints import checkpoint_text
from server.evidence.log_key import LogKey, log_key_for
from server.rules.auth import command_line
from server.store import log


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    """run(bundle bytes, fingerprint) -> the finished `python verify_report.py` in a venv that
    has only cryptography, in a folder without the server's code."""
    folder = tmp_path_factory.mktemp("reader")
    # Without its own pip (ensurepip takes longer than the tests): this pip installs into it.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder / "venv")], check=True
    )
    python = str(folder / "venv" / "bin" / "python")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "cryptography"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert subprocess.run([python, "-c", "import flask"], capture_output=True).returncode != 0
    shutil.copy(REPO / "verify_report.py", folder / "verify_report.py")

    def run(bundle: bytes, fingerprint: str) -> subprocess.CompletedProcess:
        (folder / "bundle.zip").write_bytes(bundle)
        return subprocess.run(
            [python, "verify_report.py", "bundle.zip", "--key-fingerprint", fingerprint],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    authority = LocalTsa(tmp_path_factory.mktemp("tsa"))
    yield authority
    authority.stop()


@pytest.fixture(scope="module")
def kept(tmp_path_factory, tsa):
    """The operator's folder after a fire, timestamped by the local TSA: (folder, the duty
    manager's token, the key's fingerprint)."""
    folder = tmp_path_factory.mktemp("operator")
    app = open_app(folder, tsa.url)
    services = app.extensions["exitnow"]
    manager = run_an_incident(services, app.test_client(), mustered=True)
    fingerprint = log_key_for(services.settings).fingerprint
    services.store.close()
    return folder, manager.headers["Authorization"].split()[1], fingerprint


@pytest.fixture
def operator(kept, tmp_path):
    """A copy of the operator's folder to rewrite: (folder, token, fingerprint)."""
    folder, token, fingerprint = kept
    return copy_folder(folder, tmp_path / "operator"), token, fingerprint


# Someone rewrites history: the real fire becomes a drill.
DRILL_AFTER_ALL = (
    "UPDATE events SET payload = replace(payload, '\"drill\":false', '\"drill\":true') "
    "WHERE seq = ?"
)


def zipped(files: dict[str, bytes]) -> bytes:
    """The bundle again, its SHA256SUMS made anew as whoever changed a file would."""
    listed = [line.split("  ", 1)[1] for line in files["SHA256SUMS"].decode().splitlines()]
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in listed
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zip_:
        for name, data in files.items():
            zip_.writestr(name, data)
    return out.getvalue()


def incident_row(folder) -> dict:
    app = open_app(folder)
    with app.extensions["exitnow"].store.reading() as db:
        row = next(db.query("SELECT * FROM incidents WHERE id = 1"))
    app.extensions["exitnow"].store.close()
    return row


def failed(result: subprocess.CompletedProcess, *reason: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    verdict = result.stdout.split("VERDICT: the evidence does NOT hold.")[1]
    for words in reason:
        assert words in verdict, result.stdout


def test_a_real_bundle_passes(operator, verifier):
    folder, token, fingerprint = operator

    result = verifier(bundle_of(folder, token), fingerprint)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERDICT: the evidence holds." in result.stdout
    assert "[ok] Timestamp by Exit Now test TSA" in result.stdout
    assert "channel wordings" in result.stdout and "[FAILED]" not in result.stdout


def test_a_bundle_checked_against_another_fingerprint_fails(operator, verifier):
    folder, token, _ = operator

    result = verifier(bundle_of(folder, token), "ab" * 32)

    failed(result, "The bundle's public key is not the one you were given")


def test_one_edited_entry_is_named(operator, verifier):
    folder, token, fingerprint = operator
    start = incident_row(folder)["start_seq"]
    edit_log(folder / "exitnow.db", DRILL_AFTER_ALL, [start])

    result = verifier(bundle_of(folder, token), fingerprint)

    failed(result, f"Entry seq {start} (incident.started", "was changed after it was written")


def test_every_hash_recomputed_after_an_edit_is_caught(operator, verifier):
    """The attack of issue 16: verify-log passes again, the checkpoints do not."""
    folder, token, fingerprint = operator
    start = incident_row(folder)["start_seq"]
    edit_log(folder / "exitnow.db", DRILL_AFTER_ALL, [start])
    rehash_log(folder / "exitnow.db", "demo")
    assert flask_cli(folder / "exitnow.db", "verify-log").returncode == 0

    result = verifier(bundle_of(folder, token), fingerprint)

    failed(result, "The log was rewritten after it was signed", "says entry")


def test_entries_removed_after_a_checkpoint_are_missed(operator, verifier):
    folder, token, fingerprint = operator
    end = incident_row(folder)["end_seq"]
    edit_log(folder / "exitnow.db", "DELETE FROM events WHERE seq >= ?", [end])  # the all-clear

    result = verifier(bundle_of(folder, token), fingerprint)

    failed(result, f"the bundle's entries end at seq {end - 1}", "were removed after it was signed")


def test_entries_appended_with_a_checkpoint_forged_under_another_key_fail(operator, verifier):
    folder, token, fingerprint = operator
    db = folder / "exitnow.db"
    app = open_app(folder)
    services = app.extensions["exitnow"]
    with services.store.reading() as db_:  # a second "zone cleared", long after the all-clear
        cleared = next(db_.query("SELECT * FROM events WHERE type = 'zone.cleared'"))
        head = next(db_.query("SELECT * FROM events ORDER BY seq DESC LIMIT 1"))
    services.store.close()
    entry = {**log.row_to_entry(cleared), "seq": head["seq"] + 1, "ts": head["ts"] + 60_000}
    entry["hash"] = log.entry_hash(head["hash"], entry)
    forger = LogKey(Ed25519PrivateKey.generate())
    origin = "shop.example.com/demo"
    note = forger.sign_note(
        checkpoint_text(origin, entry["seq"], entry["hash"], entry["ts"]), origin
    )
    edit_log(
        db,
        "INSERT INTO events (site, seq, ts, actor, type, payload, hash) VALUES (?,?,?,?,?,?,?)",
        [
            "demo",
            entry["seq"],
            entry["ts"],
            cleared["actor"],
            cleared["type"],
            cleared["payload"],
            entry["hash"],
        ],
    )
    edit_log(
        db,
        "INSERT INTO checkpoints (site, size, head_hash, made_at, reason, note) "
        "VALUES ('demo', ?, ?, ?, 'hourly', ?)",
        [entry["seq"], entry["hash"], entry["ts"], note],
    )

    result = verifier(bundle_of(folder, token), fingerprint)

    failed(result, f"(log size {entry['seq']}) is not signed by the key you were given")


def test_a_timestamp_token_for_other_bytes_fails(operator, verifier, tsa):
    folder, token, fingerprint = operator
    files = files_of(bundle_of(folder, token))
    stamped = sorted(name for name in files if name.endswith(".tst"))[0]
    files[stamped] = timestamps.request_token(tsa.url, b"another checkpoint")

    result = verifier(zipped(files), fingerprint)

    size = stamped.removeprefix("checkpoints/").removesuffix(".tst")
    failed(result, f"The timestamp token of checkpoint {size}", "of other bytes")


def test_a_report_whose_channel_times_do_not_follow_from_its_entries_fails(operator, verifier):
    folder, token, fingerprint = operator
    files = files_of(bundle_of(folder, token))
    report = json.loads(files["report.json"])
    wording = report["channels"][0]  # the phone queue "closed" a second later than it did
    later = datetime.fromisoformat(wording["from"].replace("Z", "+00:00")) + timedelta(seconds=1)
    wording["from"] = later.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    files["report.json"] = json.dumps(report).encode()

    result = verifier(zipped(files), fingerprint)

    failed(
        result,
        f"The report says the {wording['channel']} channel showed its",
        f"the entry it cites (seq {wording['from_seq']})",
    )


# --- a mailbox's automatic reply ----------------------------------------------------------------

MAILBOX = "service@shop.example"


@pytest.fixture(scope="module")
def kept_with_mailbox(tmp_path_factory):
    """An evacuation of a site whose customer-service mailbox (Microsoft 365's stand-in) took
    the notice and got its own reply back: (folder, the duty manager's token, fingerprint)."""
    folder = tmp_path_factory.mktemp("mailbox")
    graph = Graph("tenant-1", "client-1", "s3cret-value")
    graph.add_mailbox(MAILBOX, {"status": "disabled"})
    settings = graph.settings_for(unit_settings(folder / "exitnow.db"))
    settings = settings.with_changes(public_url="https://shop.example.com")
    services = create_app(settings).extensions["exitnow"]
    try:
        demo.seed(services)
        run = lambda name, params: execute(services, command_line("demo"), "demo", name, params)  # noqa: E731
        run(
            "configure_notices",
            {"settings": {"email": [{"provider": "microsoft365", "mailbox": MAILBOX}]}},
        )
        token = run("create_token", {"name": "Maija", "role": "duty_manager"})["token"]
        run("start_incident", {"kind": "fire"})
        assert services.mailboxes.switch_due(services) == 1
        run("end_incident", {"reason": "false_alarm"})
        assert services.mailboxes.switch_due(services) == 1
        assert graph.mailboxes[MAILBOX]["status"] == "disabled"
        fingerprint = log_key_for(services.settings).fingerprint
    finally:
        services.store.close()
        graph.close()
    return folder, token, fingerprint


def mailbox_bundle(kept_with_mailbox) -> tuple[dict, str]:
    folder, token, fingerprint = kept_with_mailbox
    return files_of(bundle_of(folder, token)), fingerprint


def test_a_bundle_with_a_mailbox_passes(kept_with_mailbox, verifier):
    files, fingerprint = mailbox_bundle(kept_with_mailbox)
    report = json.loads(files["report.json"])
    assert {c["mailbox"] for c in report["channels"] if c["channel"] == "email"} == {MAILBOX}

    result = verifier(zipped(files), fingerprint)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[FAILED]" not in result.stdout


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"mailbox": "sales@shop.example"}, "is of service@shop.example (microsoft365)"),
        ({"provider": "gmail"}, "is of service@shop.example (microsoft365)"),
        ({"mailbox": None, "provider": None}, "is of service@shop.example (microsoft365)"),
    ],
)
def test_a_tampered_mailbox_wording_in_a_bundle_fails(kept_with_mailbox, verifier, change, reason):
    """Another mailbox (one that was never switched), another provider, or the mailbox left
    out: the entry the wording cites says otherwise."""
    files, fingerprint = mailbox_bundle(kept_with_mailbox)
    report = json.loads(files["report.json"])
    wording = next(c for c in report["channels"] if c["channel"] == "email")
    wording.update(change)
    files["report.json"] = json.dumps(report).encode()

    result = verifier(zipped(files), fingerprint)

    failed(result, f"the entry it cites (seq {wording['from_seq']})", reason)


def test_a_mailbox_wording_dated_from_the_switch_that_took_it_off_fails(
    kept_with_mailbox, verifier
):
    """The words said to have shown only from when the mailbox got its own reply back: that
    entry is the mailbox's, but it did not set our words."""
    files, fingerprint = mailbox_bundle(kept_with_mailbox)
    report = json.loads(files["report.json"])
    wording = next(c for c in report["channels"] if c["channel"] == "email")
    wording.update(from_seq=wording["until_seq"], **{"from": wording["until"]})
    files["report.json"] = json.dumps(report).encode()

    result = verifier(zipped(files), fingerprint)

    failed(result, f"the entry it cites (seq {wording['until_seq']}) did not set it")


# --- the roll call: a claim about who was accounted for, rewritten in report.json -------------


def _person(report: dict, name: str) -> dict:
    roll = report["roll_call"]
    return next(p for p in [*roll["staff"], *roll["visitors"]] if p["name"] == name)


def _marked_elsewhere(report: dict) -> None:
    marked = next(p for p in report["roll_call"]["staff"] if (p["accounted"] or {}).get("by"))
    marked["accounted"]["assembly_point"] = "lamp-post-a"  # not where the marshal marked them


def _nina_accounted(report: dict) -> None:
    _person(report, "Nina Nobody")["accounted"] = {**_person(report, "Lars Lift")["accounted"]}
    report["roll_call"]["accounted"] += 1
    report["roll_call"]["unaccounted"] -= 1


def _nina_left_out(report: dict) -> None:
    roll = report["roll_call"]
    roll["visitors"] = [v for v in roll["visitors"] if v["name"] != "Nina Nobody"]
    roll["on_site"] -= 1
    roll["unaccounted"] -= 1


def _lars_as_marshalled(report: dict) -> None:
    _person(report, "Lars Lift")["accounted"]["how"] = "marshal"


def _last_earlier(report: dict) -> None:
    last = datetime.fromisoformat(report["accounting"]["last_accounted_at"].replace("Z", "+00:00"))
    earlier = last - timedelta(seconds=30)
    report["accounting"]["last_accounted_at"] = earlier.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def _everyone_out(report: dict) -> None:
    report["accounting"]["everyone_accounted"] = True
    report["accounting"]["seconds_to_everyone"] = 42.0


@pytest.mark.parametrize(
    "rewrite, reason",
    [
        (_marked_elsewhere, "was accounted for with assembly_point 'lamp-post-a'"),
        (_nina_accounted, "no log entry in the bundle accounts for them"),
        (_nina_left_out, "who was on site during the incident, but the report's roll call leaves"),
        (_lars_as_marshalled, "was accounted for with how 'marshal', but entry"),
        (_last_earlier, "The report says the last person was accounted for at"),
        (_everyone_out, "The report says everyone was accounted for: True"),
    ],
)
def test_a_roll_call_claim_that_does_not_follow_from_the_entries_fails(
    operator, verifier, rewrite, reason
):
    folder, token, fingerprint = operator
    files = files_of(bundle_of(folder, token))
    report = json.loads(files["report.json"])
    rewrite(report)
    files["report.json"] = json.dumps(report).encode()

    result = verifier(zipped(files), fingerprint)

    failed(result, reason)


def test_the_verifier_checks_the_roll_call_of_visitors_and_marks(operator, verifier):
    folder, token, fingerprint = operator
    bundle = bundle_of(folder, token)
    report = json.loads(files_of(bundle)["report.json"])
    hows = {p["name"]: (p["accounted"] or {}).get("how") for p in report["roll_call"]["visitors"]}
    assert hows == {"Lars Lift": "left", "Nina Nobody": None, "Olga Walk-in": "phone"}
    assert {"marshal", "qr"} <= {
        (p["accounted"] or {}).get("how") for p in report["roll_call"]["staff"]
    }

    result = verifier(bundle, fingerprint)

    assert result.returncode == 0, result.stdout
    on_site = report["roll_call"]["on_site"]
    assert f"its roll call of {on_site} people on site (4 accounted for" in result.stdout
