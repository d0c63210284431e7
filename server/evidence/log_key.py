"""The deployment's log signing key: Ed25519, made on first start and kept beside the database
(mode 0600) like the secret key. It signs the checkpoints of every site's log
(server/evidence/checkpoints.py) as C2SP signed notes (https://c2sp.org/signed-note). A reader checks
them against the key's fingerprint, which they get from us by another way than the report
(verify_report.py --key-fingerprint).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..basics.settings import Settings, kept_beside_database

KEY_FILE = "log_signing_key.pem"
# signed-note: the signature type byte of Ed25519, hashed into the key ID.
ED25519 = b"\x01"


@dataclass(frozen=True)
class LogKey:
    private: Ed25519PrivateKey

    @functools.cached_property
    def public_raw(self) -> bytes:
        """The 32 bytes of the public key (RFC 8032)."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key's 32 bytes, in hex: what a reader is given to check with."""
        return hashlib.sha256(self.public_raw).hexdigest()

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def key_id(self, name: str) -> bytes:
        """signed-note's key ID: SHA-256(key name || 0x0A || signature type || public key)[:4]."""
        return hashlib.sha256(name.encode() + b"\n" + ED25519 + self.public_raw).digest()[:4]

    def verifier_key(self, name: str) -> str:
        """The key as Go's golang.org/x/mod/sumdb/note and other note tools read it."""
        encoded = base64.b64encode(ED25519 + self.public_raw).decode()
        return f"{name}+{self.key_id(name).hex()}+{encoded}"

    def sign_note(self, text: str, name: str) -> str:
        """`text` (lines, each ending in a newline) as a signed note: a blank line, then
        "— <name> <base64(key ID || signature over the text's UTF-8 bytes)>"."""
        signature = self.private.sign(text.encode())
        return f"{text}\n— {name} {base64.b64encode(self.key_id(name) + signature).decode()}\n"


def key_path(settings: Settings) -> Path:
    return Path(settings.db_path).resolve().parent / KEY_FILE


def _new_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@functools.cache
def log_key_for(settings: Settings) -> LogKey:
    """The deployment's key, made once (mode 0600) beside the database when missing; but not
    while the log holds checkpoints signed by a lost one (a CLI run, too), unless asked."""
    from ..store.integrity import (  # integrity reads the log: imported when used
        lost_signing_key,
    )

    lost = lost_signing_key(settings.db_path, settings.new_log_key == "yes", settings.database_url)
    if lost:
        raise SystemExit(f"Exit Now will not start: {lost}.")
    pem = kept_beside_database(settings, KEY_FILE, _new_key)
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise SystemExit(f"{KEY_FILE} beside the database does not hold an Ed25519 key")
    return LogKey(private)
