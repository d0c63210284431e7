"""Personal data in the log, erasable without breaking the chain (crypto-shredding).

Each field events.PERSONAL_FIELDS names is written to the log sealed: AES-256-GCM under a key
of the person it is about, kept in `person_keys` beside the log but never in it. An entry's
hash covers the sealed text, so deleting the key (erasure) leaves every hash, checkpoint and
evidence bundle as it was, while the field reads as events.ERASED from then on. The log's
actor keeps a person's id and role, not their name: readers take the name from the state.

A sealed value is the text "sealed:<subject>:<base64(nonce || ciphertext)>", the subject
("staff:12", "staff:12/incident:5", "visitor:3") naming the key and bound to the ciphertext.

Only events that carry such fields pay anything when recorded (one key lookup and one AES-GCM
per field); the alarm's receipts carry none.
"""

from __future__ import annotations

import base64
import copy
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .events import ERASED, ERASED_VALUES, PERSONAL_FIELDS
from .log import canonical_json

PREFIX = "sealed:"
SCOPE_IDS = {"incident": "incident_id", "backup": "backup_id", "device": "credential_id"}


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def stored_actor(actor: dict) -> dict:
    """The actor as the log keeps it: a person by id and role (the name is in the state);
    the command line, which is nobody on the staff list, by its name."""
    if actor.get("staff_id") is None:
        return actor
    return {k: v for k, v in actor.items() if k != "name"}


def _person_of(item: dict, payload: dict, actor: dict) -> tuple[str, int] | None:
    for holder in (item, payload):
        if holder.get("visitor_id") is not None:
            return "visitor", holder["visitor_id"]
        if holder.get("staff_id") is not None:
            return "staff", holder["staff_id"]
    return ("staff", actor["staff_id"]) if actor.get("staff_id") is not None else None


def subject(person: tuple[str, int], scope: str, payload: dict) -> str:
    """The key's name: the person's own, or theirs for one incident, backup or device."""
    base = f"{person[0]}:{person[1]}"
    if scope == "person" or payload.get(SCOPE_IDS[scope]) is None:
        return base
    return f"{base}/{scope}:{payload[SCOPE_IDS[scope]]}"


def _places(type_: str, payload: dict):
    """(holder dict, field name, scope) of each personal field present in the payload."""
    for path, scope in PERSONAL_FIELDS.get(type_, {}).items():
        *outer, name = path.split(".")
        holders = [payload]
        for step in outer:
            if step.endswith("[]"):
                holders = [
                    i for h in holders for i in (h.get(step[:-2]) or []) if isinstance(i, dict)
                ]
            else:
                holders = [h[step] for h in holders if isinstance(h.get(step), dict)]
        for holder in holders:
            if holder.get(name) is not None:
                yield holder, name, scope


class Keys:
    """The per-person keys of one database connection, read once per use."""

    def __init__(self, db):
        self.db = db
        self._cache: dict[str, bytes | None] = {}

    def get(self, subject_: str) -> bytes | None:
        if subject_ not in self._cache:
            row = self.db.execute(
                "SELECT key FROM person_keys WHERE subject = ?", [subject_]
            ).fetchone()
            self._cache[subject_] = row[0] if row else None
        return self._cache[subject_]

    def get_or_make(self, subject_: str, site: str, ts: int) -> bytes:
        key = self.get(subject_)
        if key is None:
            key = AESGCM.generate_key(256)
            person, _, scope = subject_.partition("/")
            kind, person_id = person.split(":")
            self.db.execute(
                "INSERT INTO person_keys (subject, site, person, person_id, scope, key, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [subject_, site, kind, int(person_id), scope or None, key, ts],
            )
            self._cache[subject_] = key
        return key


def seal_value(key: bytes, subject_: str, value) -> str:
    nonce = os.urandom(12)
    data = AESGCM(key).encrypt(nonce, canonical_json(value).encode(), subject_.encode())
    return f"{PREFIX}{subject_}:{base64.b64encode(nonce + data).decode()}"


def open_value(keys: Keys, name: str, value):
    """The plaintext of a sealed value, or what an erased field reads."""
    if not is_sealed(value):
        return value
    subject_, _, text = value[len(PREFIX) :].rpartition(":")
    key = keys.get(subject_)
    if key is None:
        return copy.deepcopy(ERASED_VALUES.get(name, ERASED))
    raw = base64.b64decode(text)
    try:
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], subject_.encode()))
    except InvalidTag:  # not what was sealed under this key: say so rather than guess
        return ERASED


def seal(keys: Keys, site: str, ts: int, type_: str, payload: dict, actor: dict) -> dict:
    """The payload as the log stores it: each personal field sealed (a copy; the payload
    itself stays plaintext, for the projector and the subscribers)."""
    if type_ not in PERSONAL_FIELDS:
        return payload
    sealed = copy.deepcopy(payload)
    for holder, name, scope in _places(type_, sealed):
        person = _person_of(holder, sealed, actor)
        if person is None or is_sealed(holder[name]):
            continue
        subject_ = subject(person, scope, sealed)
        holder[name] = seal_value(keys.get_or_make(subject_, site, ts), subject_, holder[name])
    return sealed


def opened(keys: Keys, type_: str, payload: dict) -> dict:
    """The payload with each sealed field read (or erased)."""
    if type_ not in PERSONAL_FIELDS:
        return payload
    plain = copy.deepcopy(payload)
    for holder, name, _ in _places(type_, plain):
        holder[name] = open_value(keys, name, holder[name])
    return plain


def personal_part(keys: Keys, type_: str, payload: dict) -> dict:
    """Only the top-level personal fields, read: what the report shows beside an entry."""
    return {
        name: open_value(keys, name, payload[name])
        for name in PERSONAL_FIELDS.get(type_, {})
        if "." not in name and payload.get(name) is not None
    }


def withheld(type_: str, payload: dict) -> dict:
    """The payload without any personal field, nested ones too: what goes out to those
    who need no names."""
    if type_ not in PERSONAL_FIELDS:
        return payload
    kept = copy.deepcopy(payload)
    for holder, name, _ in list(_places(type_, kept)):
        del holder[name]
    return kept


def without_personal(type_: str, payload: dict) -> dict:
    """The payload without its top-level personal fields."""
    fields = PERSONAL_FIELDS.get(type_)
    return {k: v for k, v in payload.items() if k not in fields} if fields else payload


class Reader:
    """Log entries as people read them: sealed fields opened, actors named from the state."""

    def __init__(self, db):
        self.db = db
        self.keys = Keys(db)
        self._names: dict[int, str] = {}

    def name(self, staff_id: int) -> str:
        if staff_id not in self._names:
            row = self.db.execute("SELECT name FROM staff WHERE id = ?", [staff_id]).fetchone()
            self._names[staff_id] = row[0] if row else ERASED
        return self._names[staff_id]

    def actor(self, actor: dict) -> dict:
        if actor.get("staff_id") is None or "name" in actor:
            return actor
        return {**actor, "name": self.name(actor["staff_id"])}

    def entry(self, entry: dict) -> dict:
        return {
            **entry,
            "actor": self.actor(entry["actor"]),
            "payload": opened(self.keys, entry["type"], entry["payload"]),
        }

    def entries(self, entries: list[dict]) -> list[dict]:
        return [self.entry(entry) for entry in entries]
