#!/usr/bin/env python3
"""Check an Exit Now evidence bundle (the report.bundle zip of one incident) without the server.

    python verify_report.py BUNDLE.zip --key-fingerprint FINGERPRINT

Needs Python 3.9+ and the `cryptography` package, nothing of Exit Now. FINGERPRINT is the one
the operator gave you by another way than the bundle (`flask --app server log-key` prints it).

What it checks, in this order, naming the first thing that does not hold:
  1. the bundle's public key is the one with that fingerprint;
  2. every checkpoint in it is signed by that key (C2SP signed note, Ed25519);
  3. every log entry matches its own hash, and each chains to the one before it;
  4. the entries agree with every checkpoint: none was changed, removed or added after it;
  5. every RFC 3161 timestamp token is for its checkpoint's exact bytes and signed by the
     time-stamping authority's certificate inside the token;
  6. the report's timeline, the incident's start and end, each public channel's times, and
     its roll call (everyone on site, who was accounted for how, where, when and by whom, who
     never was, and when the last one was) follow from the entries.
It exits 0 when everything holds, and 1 when something does not (or the file is no bundle).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone  # not datetime.UTC: it runs on Python 3.9 too

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# --- the log's hashes, exactly as the server makes them (server/store/log.py) --------------------

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


class Doubt(Exception):
    """Something in the bundle does not hold; the message says what, in plain words."""


def utc(ms) -> str:
    """An entry's time as a reader reads it: 2025-06-01 10:02:03.512 UTC."""
    if not isinstance(ms, int):
        return repr(ms)
    moment = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)  # noqa: UP017
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d} UTC"


# --- reading the bundle --------------------------------------------------------------------


@dataclass
class Checkpoint:
    """A signed checkpoint (C2SP tlog-checkpoint): its "root hash" is entry `size`'s hash."""

    size: int
    origin: str
    head_hash: str
    signed_at: str
    raw: bytes  # the file's exact bytes, which a timestamp token is over
    token: bytes | None


class Bundle:
    def __init__(self, path: str):
        try:
            with zipfile.ZipFile(path) as zip_:
                files = {name: zip_.read(name) for name in zip_.namelist()}
        except (OSError, zipfile.BadZipFile) as error:
            raise Doubt(f"{path} cannot be read as a zip file ({error}).") from None
        missing = [n for n in ("report.json", "log.jsonl", "log_public_key.pem") if n not in files]
        if missing:
            raise Doubt(f"{path} is not an Exit Now evidence bundle: it has no {missing[0]}.")
        self.files = files
        try:
            self.report = json.loads(files["report.json"])
            self.entries = [json.loads(line) for line in files["log.jsonl"].splitlines()]
        except ValueError as error:
            raise Doubt(f"report.json or log.jsonl is not JSON ({error}).") from None
        if not isinstance(self.report, dict) or not all(isinstance(e, dict) for e in self.entries):
            raise Doubt("report.json or log.jsonl does not hold what a bundle holds.")
        self.public_key_pem = files["log_public_key.pem"]

    def checkpoint_files(self) -> list[tuple[str, bytes, bytes | None]]:
        """(name, note bytes, token bytes or None) of every checkpoint, smallest size first."""
        names = [n for n in self.files if n.startswith("checkpoints/") and n.endswith(".txt")]
        names.sort(key=lambda n: int(n[len("checkpoints/") : -len(".txt")] or 0))
        return [(n, self.files[n], self.files.get(n[: -len(".txt")] + ".tst")) for n in names]


# --- 1. the key ----------------------------------------------------------------------------


def fingerprint_of(key: ed25519.Ed25519PublicKey) -> str:
    """SHA-256 of the key's 32 bytes, in hex, as `flask --app server log-key` prints it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def check_key(bundle: Bundle, fingerprint: str) -> ed25519.Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(bundle.public_key_pem)
    except ValueError as error:
        raise Doubt(f"The bundle's public key cannot be read ({error}).") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise Doubt("The bundle's public key is not an Ed25519 key.")
    found = fingerprint_of(key)
    wanted = fingerprint.lower().removeprefix("sha256:").replace(":", "").replace(" ", "")
    if found != wanted:
        raise Doubt(
            f"The bundle's public key is not the one you were given: its fingerprint is "
            f"{found}, you gave {wanted}. Anyone can sign with a key of their own."
        )
    print(f"[ok] The bundle's public key is the one you were given (fingerprint {found}).")
    return key


# --- 2. the checkpoints' signatures ----------------------------------------------------------


def key_id(name: str, key: ed25519.Ed25519PublicKey) -> bytes:
    """C2SP signed-note: SHA-256(key name || 0x0A || 0x01 (Ed25519) || public key)[:4]."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4]


def read_checkpoint(name: str, raw: bytes, token, key) -> Checkpoint:
    """Parse a signed note and find a valid signature by `key` among its signature lines."""
    try:
        text = raw.decode("utf-8")
        body, blank, signatures = text.rpartition("\n\n")
        lines = (body + "\n").split("\n")[:-1]
        origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
        if str(size) != lines[1] or len(root) != 32 or not blank or not origin:
            raise ValueError("malformed")
        signed_at = next((line[5:] for line in lines[3:] if line.startswith("time ")), "")
    except (UnicodeDecodeError, ValueError, IndexError):
        raise Doubt(f"{name} is not a checkpoint in the C2SP format.") from None
    for line in signatures.splitlines():
        signer, _, encoded = line.removeprefix("— ").rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            continue
        if not line.startswith("— ") or blob[:4] != key_id(signer, key) or len(blob) != 68:
            continue  # signed-note: a signature by an unknown key is ignored
        try:
            key.verify(blob[4:], (body + "\n").encode("utf-8"))
        except InvalidSignature:
            raise Doubt(f"The signature of {name} is wrong: its text was changed.") from None
        return Checkpoint(size, origin, root.hex(), signed_at, raw, token)
    raise Doubt(
        f"Checkpoint {name} (log size {size}) is not signed by the key you were given: "
        f"someone made it with another key."
    )


def check_checkpoints(bundle: Bundle, key) -> dict[int, Checkpoint]:
    found = [read_checkpoint(n, raw, token, key) for n, raw, token in bundle.checkpoint_files()]
    if not found:
        raise Doubt("The bundle holds no signed checkpoint: nothing vouches for its entries.")
    print(f"[ok] {len(found)} checkpoint(s) of the log signed by that key:")
    for checkpoint in found:
        print(f"       up to entry {checkpoint.size}, signed {checkpoint.signed_at or '(no time)'}")
    return {checkpoint.size: checkpoint for checkpoint in found}


# --- 3. and 4. the entries, their chain and the checkpoints ----------------------------------


def check_entries(entries: list[dict], checkpoints: dict[int, Checkpoint]) -> dict[int, dict]:
    if not entries:
        raise Doubt("The bundle holds no log entries.")
    first, site = entries[0].get("seq"), entries[0].get("site")
    if first == 1:
        previous = GENESIS_HASH
    elif first - 1 in checkpoints:
        previous = checkpoints[first - 1].head_hash
    else:
        raise Doubt(f"The first entry, seq {first}, does not follow a checkpoint or the start.")
    for expected, entry in enumerate(entries, start=first):
        if entry.get("site") != site or entry.get("seq") != expected:
            raise Doubt(
                f"Entry seq {expected} of site {site} is missing: the entry in its place is "
                f"seq {entry.get('seq')} of site {entry.get('site')}."
            )
        try:
            computed = entry_hash(previous, entry)
        except (KeyError, TypeError, ValueError):
            raise Doubt(f"Entry seq {expected} is incomplete or unreadable.") from None
        if computed != entry.get("hash"):
            raise Doubt(
                f"Entry seq {expected} ({entry.get('type')}, {utc(entry.get('ts'))}) was changed "
                f"after it was written: its content gives the hash {computed}, not the "
                f"{entry.get('hash')} it carries and the next entry chains to."
            )
        previous = entry["hash"]
    last = entries[-1]["seq"]
    print(
        f"[ok] {len(entries)} log entries of site {site}, seq {first} to {last}: each matches "
        f"its hash and chains to the one before."
    )
    return {entry["seq"]: entry for entry in entries}


def check_agreement(by_seq: dict[int, dict], checkpoints: dict[int, Checkpoint]) -> None:
    first, last = min(by_seq), max(by_seq)
    for size, checkpoint in sorted(checkpoints.items()):
        if size > last:
            raise Doubt(
                f"The checkpoint signed {checkpoint.signed_at} says the log had {size} entries, "
                f"but the bundle's entries end at seq {last}: entries {last + 1} to {size} "
                f"were removed after it was signed."
            )
        if size >= first and by_seq[size]["hash"] != checkpoint.head_hash:
            raise Doubt(
                f"The log was rewritten after it was signed: the checkpoint signed "
                f"{checkpoint.signed_at} says entry {size} has the hash {checkpoint.head_hash}, "
                f"but the entries give {by_seq[size]['hash']}."
            )
    if last not in checkpoints:
        raise Doubt(f"Entries after seq {max(checkpoints)} (to {last}) are in no checkpoint.")
    print(
        "[ok] The entries agree with every checkpoint: none was changed, removed or added after "
        "it was signed."
    )


# --- 5. timestamp tokens (RFC 3161 over CMS SignedData), read with a minimal DER reader -----

OIDS = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
SIGNED_DATA = "1.2.840.113549.1.7.2"
TST_INFO = "1.2.840.113549.1.9.16.1.4"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
RSA_PSS = "1.2.840.113549.1.1.10"
TIME_STAMPING = "1.3.6.1.5.5.7.3.8"


@dataclass
class Der:
    """One DER element: its tag byte, content, and whole encoding (what a signature covers)."""

    tag: int
    content: bytes
    encoding: bytes

    def children(self) -> list[Der]:
        items, at = [], 0
        while at < len(self.content):
            item = read_der(self.content, at)
            items.append(item)
            at += len(item.encoding)
        return items

    def oid(self) -> str:
        numbers, value = [], 0
        for byte in self.content:
            value = value << 7 | byte & 0x7F
            if not byte & 0x80:
                numbers.append(value)
                value = 0
        first = min(numbers[0] // 40, 2)
        return ".".join(str(n) for n in [first, numbers[0] - 40 * first, *numbers[1:]])

    def integer(self) -> int:
        return int.from_bytes(self.content, "big", signed=True)


def read_der(data: bytes, at: int = 0) -> Der:
    tag, length, header = data[at], data[at + 1], 2
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not used here")
    if length & 0x80:
        count = length & 0x7F
        length, header = int.from_bytes(data[at + 2 : at + 2 + count], "big"), 2 + count
    end = at + header + length
    if end > len(data):
        raise ValueError("truncated")
    return Der(tag, data[at + header : end], data[at:end])


def tagged(items: list[Der], tag: int) -> Der | None:
    return next((item for item in items if item.tag == tag), None)


@dataclass
class Timestamp:
    authority: str
    time: str


def read_timestamp(token: bytes, stamped: bytes) -> Timestamp:
    """Check a TimeStampToken over `stamped`; raise ValueError or Doubt naming what is wrong."""
    content_type, explicit = read_der(token).children()[:2]
    if content_type.oid() != SIGNED_DATA:
        raise ValueError("not CMS SignedData")
    signed = explicit.children()[0].children()
    encapsulated = signed[2].children()
    if encapsulated[0].oid() != TST_INFO:
        raise ValueError("not a timestamp")
    tst_info = encapsulated[1].children()[0].content  # [0] EXPLICIT OCTET STRING
    info = read_der(tst_info).children()
    algorithm, hashed = info[2].children()
    hash_type = OIDS.get(algorithm.children()[0].oid())
    if hash_type is None or hashed.content != _digest(hash_type, stamped):
        raise Doubt("it is a timestamp of other bytes than this checkpoint's")
    gen_time = info[4].content.decode("ascii")
    certificate = _signer_certificate(signed)
    _check_signature(signed[-1].children()[0].children(), tst_info, certificate)
    name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    authority = str(name[0].value) if name else certificate.subject.rfc4514_string()
    moment = datetime.strptime(gen_time[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)  # noqa: UP017
    return Timestamp(authority, moment.strftime("%Y-%m-%d %H:%M:%S UTC"))


def _digest(hash_type, data: bytes) -> bytes:
    digest = hashes.Hash(hash_type())
    digest.update(data)
    return digest.finalize()


def _signer_certificate(signed: list[Der]) -> x509.Certificate:
    """The certificate the signer info names among the token's: by issuer and serial number,
    or by [0] subject key identifier (RFC 5652 5.3)."""
    sid = signed[-1].children()[0].children()[1]
    included = tagged(signed[3:-1], 0xA0)
    for item in included.children() if included else []:
        certificate = x509.load_der_x509_certificate(item.encoding)
        if sid.tag == 0x80:
            try:
                extension = certificate.extensions.get_extension_for_class(
                    x509.SubjectKeyIdentifier
                )
            except x509.ExtensionNotFound:
                continue
            if extension.value.digest == sid.content:
                return certificate
        else:
            issuer, serial = sid.children()
            if certificate.serial_number == serial.integer() and (
                certificate.issuer.public_bytes() == issuer.encoding
            ):
                return certificate
    raise Doubt("the token does not carry the authority's certificate to check it with")


def _check_signature(info: list[Der], tst_info: bytes, certificate: x509.Certificate) -> None:
    """The signed attributes' message digest is the TSTInfo's, and the authority signed them."""
    hash_type = OIDS.get(info[2].children()[0].oid())
    attributes = tagged(info[3:], 0xA0)
    if hash_type is None or attributes is None:
        raise ValueError("unknown digest algorithm or no signed attributes")
    values = {a.children()[0].oid(): a.children()[1].children()[0] for a in attributes.children()}
    if values[CONTENT_TYPE].oid() != TST_INFO:
        raise Doubt("its signed attributes are not those of a timestamp")
    if values[MESSAGE_DIGEST].content != _digest(hash_type, tst_info):
        raise Doubt("its time and imprint were changed after the authority signed them")
    algorithm = info[4 if info[3].tag == 0xA0 else 3].children()[0].oid()
    signature = tagged(info[4:], 0x04).content
    signed_bytes = b"\x31" + attributes.encoding[1:]  # signed as a SET OF (RFC 5652 5.4)
    public_key = certificate.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm != RSA_PSS:
            public_key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_type())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed_bytes, ec.ECDSA(hash_type()))
        else:
            raise ValueError("a signature algorithm this verifier does not know")
    except InvalidSignature:
        raise Doubt("the authority's signature does not match it") from None
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if TIME_STAMPING not in [usage.dotted_string for usage in usages]:
        raise Doubt(f"it is signed by {certificate.subject.rfc4514_string()}, not a TSA")


def check_timestamps(checkpoints: dict[int, Checkpoint]) -> None:
    stamped = [c for c in checkpoints.values() if c.token]
    for checkpoint in stamped:
        try:
            stamp = read_timestamp(checkpoint.token, checkpoint.raw)
        except Doubt as doubt:
            raise Doubt(f"The timestamp token of checkpoint {checkpoint.size}: {doubt}.") from None
        except (ValueError, IndexError, KeyError, AttributeError):
            raise Doubt(
                f"The timestamp token of checkpoint {checkpoint.size} is unreadable."
            ) from None
        print(
            f"[ok] Timestamp by {stamp.authority}: checkpoint {checkpoint.size} (signed "
            f"{checkpoint.signed_at}) existed at {stamp.time}."
        )
    if not stamped:
        print("[--] No timestamp tokens: the checkpoints' times rest on the operator's clock.")


# --- 6. the report -------------------------------------------------------------------------


def same_moment(text, ms: int) -> bool:
    """Does the ISO 8601 time `text` name the entry's time (to the precision it is written)?"""
    if not isinstance(text, str):
        return False
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        return False
    shown = round(moment.timestamp() * 1000)
    return shown == ms if "." in text else shown == ms - ms % 1000


def cited(by_seq: dict[int, dict], seq, what: str) -> dict:
    if seq not in by_seq:
        raise Doubt(f"The report's {what} cites log entry seq {seq}, which is not in the bundle.")
    return by_seq[seq]


def check_events(report: dict, by_seq: dict[int, dict]) -> int:
    events = report.get("events") or []
    for event in events:
        seq = event.get("seq")
        entry = cited(by_seq, seq, "timeline")
        for field in ("type", "hash", "actor"):
            if field in event and event[field] != entry[field]:
                raise Doubt(f"The report's timeline gives entry {seq} another {field}.")
        payload = event.get("payload", {})  # the report leaves the digests out
        if not isinstance(payload, dict) or any(
            entry["payload"].get(k, payload) != v for k, v in payload.items()
        ):
            raise Doubt(f"The report's timeline gives entry {seq} other details than the log.")
        if "ts" in event and not same_moment(event["ts"], entry["ts"]):
            raise Doubt(
                f"The report's timeline gives seq {seq} the time {event['ts']}, but the entry "
                f"was written {utc(entry['ts'])}."
            )
    return len(events)


def check_incident(report: dict, by_seq: dict[int, dict]) -> None:
    incident = report.get("incident") or {}
    for seq_key, time_key, type_ in (
        ("start_seq", "started_at", "incident.started"),
        ("end_seq", "ended_at", "incident.ended"),
    ):
        if incident.get(seq_key) is None:
            continue
        entry = cited(by_seq, incident[seq_key], f"incident {seq_key}")
        if entry["type"] != type_ or not same_moment(incident.get(time_key), entry["ts"]):
            raise Doubt(
                f"The report says the incident {type_.split('.')[1]} at "
                f"{incident.get(time_key)}, but entry {incident[seq_key]} is {entry['type']} "
                f"at {utc(entry['ts'])}."
            )


def check_channels(report: dict, by_seq: dict[int, dict]) -> int:
    channels = report.get("channels")
    if not isinstance(channels, list):
        return 0  # a report made before channels' times were in it
    for row in channels:
        for seq_key, time_key in (("from_seq", "from"), ("until_seq", "until")):
            if row.get(seq_key) is None and row.get(time_key) is None:
                continue
            entry = cited(by_seq, row.get(seq_key), f"{row.get('channel')} channel")
            showed = entry["payload"].get("channel", row.get("channel"))
            if not same_moment(row.get(time_key), entry["ts"]) or showed != row.get("channel"):
                raise Doubt(
                    f"The report says the {row.get('channel')} channel showed its "
                    f"{row.get('language')} text {time_key} {row.get(time_key)}, but the entry "
                    f"it cites (seq {row.get(seq_key)}) was written {utc(entry['ts'])}."
                )
            check_mailbox(row, entry, time_key)
    return len(channels)


def check_mailbox(row: dict, entry: dict, time_key: str) -> None:
    """A mailbox's wording cites that mailbox's own entries: from the switch that set our
    reply, until the one that took it off."""
    payload, seq = entry["payload"], entry["seq"]
    named = f"{row.get('mailbox')} ({row.get('provider')})"
    if (payload.get("mailbox"), payload.get("provider")) != (
        row.get("mailbox"),
        row.get("provider"),
    ):
        raise Doubt(
            f"The report says the automatic reply of {named} showed its {row.get('language')} "
            f"text {time_key} {row.get(time_key)}, but the entry it cites (seq {seq}) is of "
            f"{payload.get('mailbox')} ({payload.get('provider')})."
        )
    took_ours = entry["type"] == "notice.switched" and payload.get("reply") == "ours"
    if row.get("mailbox") is not None and time_key == "from" and not took_ours:
        raise Doubt(
            f"The report says the automatic reply of {named} showed its {row.get('language')} "
            f"text from {row.get('from')}, but the entry it cites (seq {seq}) did not set it."
        )


# --- the roll call: everyone on site, and how each was accounted for ------------------------


def first_accounts(entries: list[dict], incident_id) -> dict[tuple, dict]:
    """(person, id) -> the entry that accounted for them in the incident: their phone's or the
    sign's "I am safe", a marshal's mark, or a visitor signing out. The first one counts."""
    found: dict[tuple, dict] = {}
    for entry in entries:
        payload = entry["payload"]
        if payload.get("incident_id") != incident_id or payload.get("incident_id") is None:
            continue
        if entry["type"] == "staff.safe":
            person, how = ("staff", payload.get("staff_id")), payload.get("how", "phone")
        elif entry["type"] == "person.accounted":
            person, how = person_of(payload), payload.get("how")
        elif entry["type"] == "visitor.left":
            person, how = ("visitor", payload.get("visitor_id")), "left"
        else:
            continue
        found.setdefault(person, {"entry": entry, "how": how})
    return found


def person_of(payload: dict) -> tuple:
    if payload.get("staff_id") is not None:
        return ("staff", payload["staff_id"])
    return ("visitor", payload.get("visitor_id"))


def check_accounted(row: dict, account: dict | None) -> None:
    """What the report says of one person's accounting is what the first entry says."""
    claim, name = row.get("accounted"), f"{row.get('name')} ({row.get('person')})"
    if claim is None and account is None:
        return
    if account is None:
        raise Doubt(
            f"The report says {name} was accounted for ({claim.get('how')}) at "
            f"{claim.get('at')}, but no log entry in the bundle accounts for them."
        )
    entry = account["entry"]
    if claim is None:
        raise Doubt(
            f"The report says {name} was never accounted for, but entry {entry['seq']} "
            f"({entry['type']}, {utc(entry['ts'])}) accounts for them."
        )
    says = {
        "how": account["how"],
        "assembly_point": entry["payload"].get("assembly_point"),
        "by": entry["actor"].get("staff_id"),
    }
    claimed = {**claim, "by": (claim.get("by") or {}).get("staff_id")}
    for field, value in says.items():
        if claimed.get(field) != value:
            raise Doubt(
                f"The report says {name} was accounted for with {field} "
                f"{claimed.get(field)!r}, but entry {entry['seq']} says {value!r}."
            )
    if not same_moment(claim.get("at"), entry["ts"]):
        raise Doubt(
            f"The report says {name} was accounted for at {claim.get('at')}, but entry "
            f"{entry['seq']} was written {utc(entry['ts'])}."
        )


def visitors_on_site(entries: list[dict], start_ms: int, end_ms) -> dict:
    """visitor_id -> the entry that signed them in, for every visitor the entries show on site
    at some moment of the incident (signed in before its end, not out before its start)."""
    signed_in, left = {}, {}
    for entry in entries:
        visitor_id = entry["payload"].get("visitor_id")
        if entry["type"] == "visitor.signed_in":
            signed_in[visitor_id] = entry
        elif entry["type"] == "visitor.left":
            left.setdefault(visitor_id, entry["ts"])
    return {
        visitor_id: entry
        for visitor_id, entry in signed_in.items()
        if (end_ms is None or entry["ts"] <= end_ms)
        and (visitor_id not in left or left[visitor_id] >= start_ms)
    }


def signed_in_name(entry: dict) -> str | None:
    """The name a visitor.signed_in entry gives, when the bundle can show it: the server
    seals a person's fields in the log (they can be erased), and then only the report names
    them."""
    person = entry["payload"].get("person")
    return person.get("name") if isinstance(person, dict) else None


def check_visitors(visitors: list, by_seq: dict[int, dict], start_ms: int, end_ms) -> None:
    """Every visitor the entries show on site is on the roll, and each on it was."""
    on_site = visitors_on_site([by_seq[seq] for seq in sorted(by_seq)], start_ms, end_ms)
    listed = {row.get("visitor_id"): row for row in visitors}
    for visitor_id, entry in on_site.items():
        if visitor_id not in listed:
            name = f" ({signed_in_name(entry)})" if signed_in_name(entry) else ""
            raise Doubt(
                f"Entry {entry['seq']} signed in visitor {visitor_id}{name}, who "
                f"was on site during the incident, but the report's roll call leaves them out."
            )
    for visitor_id, row in listed.items():
        entry = cited(by_seq, row.get("signed_in_seq"), f"roll call (visitor {visitor_id})")
        named = signed_in_name(entry)
        if entry["type"] != "visitor.signed_in" or entry["payload"].get("visitor_id") != visitor_id:
            raise Doubt(
                f"The report's roll call cites entry {entry['seq']} for visitor {visitor_id}, "
                f"but it is {entry['type']} of someone else."
            )
        if visitor_id not in on_site:
            raise Doubt(
                f"The report's roll call lists the visitor {row.get('name')}, but the entries "
                f"show them signed out before the alarm."
            )
        if named is not None and row.get("name") != named:
            raise Doubt(
                f"The report's roll call names visitor {visitor_id} {row.get('name')}, entry "
                f"{entry['seq']} signed in {named}."
            )


def check_roll_call(report: dict, by_seq: dict[int, dict]) -> str | None:
    """Recompute who was accounted for and when the last was; None for a report made before
    the roll call counted everyone on site."""
    roll, incident = report.get("roll_call"), report.get("incident") or {}
    if not isinstance(roll, dict) or "visitors" not in roll:
        return None
    start = cited(by_seq, incident.get("start_seq"), "incident start")["ts"]
    end_seq = incident.get("end_seq")
    end = cited(by_seq, end_seq, "incident end")["ts"] if end_seq is not None else None
    check_visitors(roll["visitors"], by_seq, start, end)
    rows = [*roll.get("staff", []), *roll["visitors"]]
    accounts = first_accounts([by_seq[seq] for seq in sorted(by_seq)], incident.get("id"))
    listed = {(row.get("person"), row.get(f"{row.get('person')}_id")) for row in rows}
    for person, account in accounts.items():
        if person not in listed:
            raise Doubt(
                f"Entry {account['entry']['seq']} accounts for {person[0]} {person[1]}, whom "
                f"the report's roll call leaves out."
            )
    for row in rows:
        check_accounted(row, accounts.get((row.get("person"), row.get(f"{row.get('person')}_id"))))
    accounted = len(accounts)
    counts = {"on_site": len(rows), "accounted": accounted, "unaccounted": len(rows) - accounted}
    for field, value in counts.items():
        if roll.get(field) != value:
            raise Doubt(
                f"The report's roll call counts {roll.get(field)} {field.replace('_', ' ')}, "
                f"the entries give {value}."
            )
    return check_accounting(report.get("accounting") or {}, accounts, counts, start)


def check_accounting(accounting: dict, accounts: dict, counts: dict, start: int) -> str:
    """When the last person was accounted for, and the time from the alarm when that was
    everyone: the figure a drill exists to measure."""
    last = max((account["entry"]["ts"] for account in accounts.values()), default=None)
    everyone = counts["unaccounted"] == 0 and counts["on_site"] > 0
    seconds = round((last - start) / 1000, 3) if everyone and last is not None else None
    claimed = accounting.get("last_accounted_at")
    if (claimed is None) != (last is None) or (last is not None and not same_moment(claimed, last)):
        raise Doubt(
            f"The report says the last person was accounted for at {claimed}, but the entries "
            f"give {utc(last) if last is not None else 'nobody accounted for'}."
        )
    if accounting.get("everyone_accounted") != everyone or (
        accounting.get("seconds_to_everyone") != seconds
    ):
        raise Doubt(
            f"The report says everyone was accounted for: {accounting.get('everyone_accounted')}"
            f" ({accounting.get('seconds_to_everyone')} s after the alarm), but the entries "
            f"give {everyone} ({seconds} s)."
        )
    when = utc(last) if last is not None else "nobody"
    return (
        f"its roll call of {counts['on_site']} people on site ({counts['accounted']} accounted "
        f"for, each how, where, when and by whom; the last at {when})"
    )


def bundle_hash(bundle: Bundle) -> str | None:
    """The SHA-256 of SHA256SUMS, once every file it lists matches and every file of the
    proof is listed in it (None for a bundle without SHA256SUMS)."""
    sums = bundle.files.get("SHA256SUMS")
    if sums is None:
        return None
    listed = {}
    for line in sums.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
        if hashlib.sha256(bundle.files.get(name, b"")).hexdigest() != digest:
            raise Doubt(f"{name} is not the file SHA256SUMS lists.")
    report_files = {"README.txt", "report.json", "report.html", "report.pdf", "SHA256SUMS"}
    unlisted = sorted(set(bundle.files) - report_files - set(listed))
    if unlisted:
        raise Doubt(f"{unlisted[0]} is in the bundle but not in its SHA256SUMS.")
    return hashlib.sha256(sums).hexdigest()


def check_names(report: dict, fingerprint: str, sha256: str | None) -> None:
    """The fingerprint and bundle hash the report prints are this bundle's."""
    named = report.get("proof") or {}
    for field, value in (("fingerprint", fingerprint), ("bundle_sha256", sha256)):
        if named.get(field) is not None and named[field] != value:
            raise Doubt(f"The report prints the {field} {named[field]}, this bundle's is {value}.")
    if sha256:
        print(f"[ok] The bundle hash is {sha256}, as the report prints it.")


def check_report(report: dict, by_seq: dict[int, dict]) -> None:
    events = check_events(report, by_seq)
    check_incident(report, by_seq)
    channels = check_channels(report, by_seq)
    roll_call = check_roll_call(report, by_seq)
    print(
        f"[ok] The report follows from the entries: its {events} timeline events, the "
        f"incident's start and end, the times of its {channels} channel wordings"
        + (f", and {roll_call}." if roll_call else ".")
    )
    if roll_call:
        print(
            "[--] Staff on the roll who appear in no entry rest on the server's roster: a "
            "window of the log cannot show who was employed; visitors and everyone accounted "
            "for are checked against the entries."
        )


# --- the verdict ---------------------------------------------------------------------------


def verify(path: str, fingerprint: str) -> bool:
    print(f"Evidence bundle {path}")
    try:
        bundle = Bundle(path)
        incident, site = bundle.report.get("incident") or {}, bundle.report.get("site") or {}
        print(f"  incident {incident.get('id')} at {site.get('name')} (site {site.get('id')})\n")
        key = check_key(bundle, fingerprint)
        checkpoints = check_checkpoints(bundle, key)
        by_seq = check_entries(bundle.entries, checkpoints)
        check_agreement(by_seq, checkpoints)
        check_timestamps(checkpoints)
        check_report(bundle.report, by_seq)
        check_names(bundle.report, fingerprint_of(key), bundle_hash(bundle))
    except Doubt as doubt:
        print(f"[FAILED] {doubt}\n")
        print("VERDICT: the evidence does NOT hold. The first thing that does not hold:")
        print(f"  {doubt}")
        return False
    print("\nVERDICT: the evidence holds. The log entries are as they were when the checkpoints")
    print("were signed with the key you were given, and the report says what they say.")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the evidence bundle (a .zip from report.bundle)")
    parser.add_argument(
        "--key-fingerprint",
        required=True,
        help="the SHA-256 fingerprint of the operator's log key, as they gave it to you",
    )
    arguments = parser.parse_args(argv)
    return 0 if verify(arguments.bundle, arguments.key_fingerprint) else 1


if __name__ == "__main__":
    sys.exit(main())
