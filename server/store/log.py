"""The append-only, hash-chained log: append events, verify the chain — nothing else.

Each entry's hash is SHA-256 over a type prefix, the previous entry's hash and the entry as
canonical JSON (sorted keys, compact separators, UTF-8). The first entry of a site chains to
64 zeros. The prefix keeps an entry from ever passing for another kind of hashed thing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS_HASH = "0" * 64
ENTRY_PREFIX = b"exitnow.log.entry.v1\x00"


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(previous_hash: str, entry: dict) -> str:
    body = {k: entry[k] for k in ("site", "seq", "ts", "actor", "type", "payload")}
    digest = hashlib.sha256(ENTRY_PREFIX)
    digest.update(previous_hash.encode("ascii"))
    digest.update(canonical_json(body).encode("utf-8"))
    return digest.hexdigest()


def append(db, site: str, ts: int, actor: dict, type_: str, payload: dict) -> dict:
    """Append one event to the site's chain. Call inside the writer's transaction only
    (server/store/writer.py: a command's `Tx.record`)."""
    last = db.execute(
        "SELECT seq, hash FROM events WHERE site = ? ORDER BY seq DESC LIMIT 1", [site]
    ).fetchone()
    seq, previous_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    entry = {"site": site, "seq": seq, "ts": ts, "actor": actor, "type": type_, "payload": payload}
    entry["hash"] = entry_hash(previous_hash, entry)
    # UNIQUE(site, seq) makes a competing writer fail loudly instead of forking the chain.
    db.execute(
        "INSERT INTO events (site, seq, ts, actor, type, payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [site, seq, ts, canonical_json(actor), type_, canonical_json(payload), entry["hash"]],
    )
    return entry


def latest_ts(db, site: str) -> int:
    """The time of the site's last entry (0 for an empty log): no entry is stamped before it."""
    row = db.execute(
        "SELECT ts FROM events WHERE site = ? ORDER BY seq DESC LIMIT 1", [site]
    ).fetchone()
    return row[0] if row else 0


def latest_seq(db, site: str) -> int:
    row = db.execute("SELECT MAX(seq) FROM events WHERE site = ?", [site]).fetchone()
    return row[0] or 0


def events_after(db, site: str, after_seq: int, limit: int) -> list[dict]:
    rows = db.query(
        "SELECT * FROM events WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?",
        [site, after_seq, limit],
    )
    return [row_to_entry(row) for row in rows]


def row_to_entry(row: dict) -> dict:
    return {
        "site": row["site"],
        "seq": row["seq"],
        "ts": row["ts"],
        "actor": json.loads(row["actor"]),
        "type": row["type"],
        "payload": json.loads(row["payload"]),
        "hash": row["hash"],
    }


@dataclass
class Verification:
    ok: bool
    count: int
    last_hash: str
    problem: str | None = None


def verify(db, site: str | None = None) -> Verification:
    """Recompute every chain (or one site's); name the first entry that does not match."""
    sites = [site] if site else [r[0] for r in db.execute("SELECT DISTINCT site FROM events")]
    count, last_hash = 0, GENESIS_HASH
    for name in sorted(sites):
        previous_hash, expected_seq = GENESIS_HASH, 1
        for row in db.query("SELECT * FROM events WHERE site = ? ORDER BY seq", [name]):
            where = f"site {name!r} seq {row['seq']} (row id {row['id']})"
            if row["seq"] != expected_seq:
                return Verification(
                    False, count, last_hash, f"{where}: expected seq {expected_seq}"
                )
            try:
                expected = entry_hash(previous_hash, row_to_entry(row))
            except (ValueError, TypeError) as error:
                return Verification(False, count, last_hash, f"{where}: unreadable entry ({error})")
            if expected != row["hash"]:
                return Verification(
                    False,
                    count,
                    last_hash,
                    f"{where}: expected hash {expected}, found {row['hash']}",
                )
            previous_hash, expected_seq = row["hash"], expected_seq + 1
            count, last_hash = count + 1, row["hash"]
    return Verification(True, count, last_hash)
