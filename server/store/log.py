"""The append-only, hash-chained log: append events, verify the chain — nothing else.

Each entry's hash is SHA-256 over a type prefix, the previous entry's hash and the entry as
canonical JSON (sorted keys, compact separators, UTF-8). The first entry of a site chains to
64 zeros. The prefix keeps an entry from ever passing for another kind of hashed thing.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

from .sql import write_later

GENESIS_HASH = "0" * 64
ENTRY_PREFIX = b"exitnow.log.entry.v1\x00"


# One encoder for the process: json.dumps with these options would build one per call, and
# every command encodes four values.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value) -> str:
    return _CANONICAL.encode(value)


@functools.lru_cache(maxsize=4096)
def _word(text: str) -> str:
    """A site id or an event type as canonical JSON: a few hundred of them, met again and again."""
    return canonical_json(text)


def entry_hash(previous_hash: str, entry: dict) -> str:
    return _hash(
        previous_hash, entry, canonical_json(entry["actor"]), canonical_json(entry["payload"])
    )


def _hash(previous_hash: str, entry: dict, actor_json: str, payload_json: str) -> str:
    """The entry's hash, its body written from the actor's and payload's canonical JSON (the
    same text the row stores): the keys in canonical (sorted) order, so it equals
    canonical_json of the whole body, with each part encoded once."""
    body = (
        f'{{"actor":{actor_json},"payload":{payload_json},"seq":{entry["seq"]},'
        f'"site":{_word(entry["site"])},"ts":{entry["ts"]},'
        f'"type":{_word(entry["type"])}}}'
    )
    digest = hashlib.sha256(ENTRY_PREFIX)
    digest.update(previous_hash.encode("ascii"))
    digest.update(body.encode("utf-8"))
    return digest.hexdigest()


@dataclass
class Head:
    """A site's last entry, as the writer's transaction sees it: read once per batch, then
    moved on by each `append` (nothing else writes the site's chain meanwhile)."""

    seq: int
    hash: str
    ts: int


def head(db, site: str) -> Head:
    """In the writer's transaction, the one Head of the site its batch moves on (the
    connection's `memo`, server/store/writer.py): read once per batch, not per command."""
    memo = getattr(db, "memo", None)
    if memo is not None and site in memo.heads:
        return memo.heads[site]
    row = db.execute(
        "SELECT seq, hash, ts FROM events WHERE site = ? ORDER BY seq DESC LIMIT 1", [site]
    ).fetchone()
    found = Head(*row) if row else Head(0, GENESIS_HASH, 0)
    if memo is not None:
        memo.heads[site] = found
    return found


def append(
    db, site: str, ts: int, actor: dict, type_: str, payload: dict, after: Head | None = None
) -> dict:
    """Append one event to the site's chain, after its `head` (read here when not given; it
    is moved on). Call inside the writer's transaction only (server/store/writer.py: a
    command's `Tx.record`)."""
    after = after or head(db, site)
    seq = after.seq + 1
    entry = {"site": site, "seq": seq, "ts": ts, "actor": actor, "type": type_, "payload": payload}
    actor_json, payload_json = canonical_json(actor), canonical_json(payload)
    entry["hash"] = _hash(after.hash, entry, actor_json, payload_json)
    # UNIQUE(site, seq) makes a competing writer fail loudly instead of forking the chain.
    write_later(
        db,
        "INSERT INTO events (site, seq, ts, actor, type, payload, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [site, seq, ts, actor_json, type_, payload_json, entry["hash"]],
    )
    after.seq, after.hash, after.ts = seq, entry["hash"], ts
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
