"""The evidence bundle of one incident (report.bundle): a zip that carries its own proof.

It holds the report (JSON, HTML, PDF), every log entry from the nearest checkpoint before the
incident to the nearest one at or after its last entry, those signed checkpoints with their
timestamp tokens, and the deployment's public key. verify_report.py checks it without the
server, against the key's fingerprint its reader got from us by another way.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from functools import cached_property

from ..evidence.log_key import LogKey
from ..store import log

README = """Evidence of incident {incident} at {site_name} (site {site}), made {made}

What is in this file

  report.json, report.html, report.pdf
      the incident report: the same facts as data, as a page and as a PDF
  log.jsonl
      every entry of the site's log from seq {first} to seq {last}, one per line: the
      incident's own entries and those that chain them to the checkpoints around them
  checkpoints/<size>.txt
      the log's head at that size, signed by the deployment's key (C2SP tlog-checkpoint;
      its "root hash" is the hash of entry number <size>, which commits to every one before)
  checkpoints/<size>.tst
      where the deployment used a time-stamping authority: its RFC 3161 token, saying
      that the checkpoint's exact bytes existed at the time it names
  log_public_key.pem
      the deployment's public key (Ed25519)
  SHA256SUMS
      the SHA-256 of each file above but the report; the SHA-256 of SHA256SUMS itself is
      the bundle hash the report prints, {bundle_sha256}

How to check it

  1. Ask the operator of Exit Now for the fingerprint of its log key by another way than
     this file (they print it with `flask --app server log-key`). This file's key has the
     fingerprint
         {fingerprint}
     which proves nothing by itself: only the one you were given does.
  2. With Python 3 and the cryptography package (pip install cryptography), run
         python verify_report.py THIS-FILE.zip --key-fingerprint FINGERPRINT
     verify_report.py is one file of the Exit Now source code; it does not use the server.
  3. It says what it checked and gives a verdict. It names the first thing that does not
     hold, and exits with status 1, when an entry was changed, removed or added after a
     checkpoint was signed, a signature or timestamp does not match, or the report says
     something the log entries do not.
"""


@dataclass(frozen=True)
class Proof:
    entries: list[dict]
    checkpoints: list[dict]  # size, note, timestamp_token
    public_key_pem: bytes
    fingerprint: str

    @cached_property
    def files(self) -> dict[str, bytes]:
        """The bundle's files that prove (all but the report and README.txt)."""
        files = {"log.jsonl": "".join(log.canonical_json(e) + "\n" for e in self.entries).encode()}
        for checkpoint in self.checkpoints:
            files[f"checkpoints/{checkpoint['size']}.txt"] = checkpoint["note"].encode()
            if checkpoint["timestamp_token"]:
                files[f"checkpoints/{checkpoint['size']}.tst"] = checkpoint["timestamp_token"]
        files["log_public_key.pem"] = self.public_key_pem
        return files

    @cached_property
    def sums(self) -> bytes:
        """SHA256SUMS, as sha256sum writes it: the report prints the SHA-256 of this."""
        lines = [
            f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in self.files.items()
        ]
        return "".join(lines).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sums).hexdigest()

    def named(self) -> dict:
        """What the report prints of it: the key's fingerprint and the bundle hash."""
        return {"fingerprint": self.fingerprint, "bundle_sha256": self.sha256}


def seq_range(report: dict) -> tuple[int, int]:
    """The first and last log entry the report speaks of: its events, the incident's start
    and end, the entries its channels' times come from, and those that signed in its visitors
    (a visitor's day at most: the server signs them out at closing time)."""
    incident = report.get("incident") or {}
    seqs = [incident.get("start_seq"), incident.get("end_seq")]
    seqs += [event.get("seq") for event in report.get("events") or []]
    channels = report.get("channels")
    if isinstance(channels, list):
        seqs += [row.get(key) for row in channels for key in ("from_seq", "until_seq")]
    roll_call = report.get("roll_call")
    if isinstance(roll_call, dict):  # the entries that put each visitor on site
        seqs += [row.get("signed_in_seq") for row in roll_call.get("visitors") or []]
    seqs = [seq for seq in seqs if isinstance(seq, int) and not isinstance(seq, bool)]
    return min(seqs), max(seqs)


def read_proof(db, site: str, first: int, last: int, key: LogKey) -> Proof:
    """The entries from the nearest checkpoint before `first` (or the first entry) to the
    nearest at or after `last`, and every checkpoint on the way."""
    before = db.execute(
        "SELECT MAX(size) FROM checkpoints WHERE site = ? AND size < ?", [site, first]
    ).fetchone()[0]
    after = db.execute(
        "SELECT MIN(size) FROM checkpoints WHERE site = ? AND size >= ?", [site, last]
    ).fetchone()[0]
    before, after = before or 0, after or last
    rows = db.query(
        "SELECT * FROM events WHERE site = ? AND seq > ? AND seq <= ? ORDER BY seq",
        [site, before, after],
    )
    checkpoints = db.query(
        """SELECT size, note, timestamp_token FROM checkpoints
           WHERE site = ? AND size BETWEEN ? AND ? ORDER BY size""",
        [site, before, after],
    )
    return Proof(
        [log.row_to_entry(row) for row in rows],
        list(checkpoints),
        key.public_pem(),
        key.fingerprint,
    )


def bundle_zip(report: dict, html: str, pdf: bytes, proof: Proof) -> bytes:
    """The zip file, as report.bundle answers it (the report naming `proof.named()`)."""
    seqs = [entry["seq"] for entry in proof.entries] or [0]
    readme = README.format(
        incident=report["incident"]["id"],
        site_name=report["site"]["name"],
        site=report["site"]["id"],
        made=report.get("generated_at"),
        first=seqs[0],
        last=seqs[-1],
        fingerprint=proof.fingerprint,
        bundle_sha256=proof.sha256,
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zip_:
        zip_.writestr("README.txt", readme)
        zip_.writestr("report.json", json.dumps(report, ensure_ascii=False, indent=1))
        zip_.writestr("report.html", html)
        zip_.writestr("report.pdf", pdf)
        for name, data in proof.files.items():
            zip_.writestr(name, data)
        zip_.writestr("SHA256SUMS", proof.sums)
    return out.getvalue()
