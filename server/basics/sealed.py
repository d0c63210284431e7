"""The answers kept for Idempotency-Keys, sealed: an answer can hold a secret (an enrollment
link's code), and the database must hold no secret in plain text. The key itself is kept only
as a digest, and the answer is encrypted (AES-GCM) under a key derived from the server's
secret and the Idempotency-Key, so that only the one who sends the same key again can read it,
and only on this deployment."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def key_digest(idempotency_key: str) -> str:
    return hashlib.sha256(b"idempotency-key:" + idempotency_key.encode()).hexdigest()


def seal(secret: str, idempotency_key: str, answer) -> str:
    nonce = os.urandom(12)
    sealed = _cipher(secret, idempotency_key).encrypt(nonce, json.dumps(answer).encode(), None)
    return base64.b64encode(nonce + sealed).decode()


def unseal(secret: str, idempotency_key: str, text: str):
    raw = base64.b64decode(text)
    return json.loads(_cipher(secret, idempotency_key).decrypt(raw[:12], raw[12:], None))


def _cipher(secret: str, idempotency_key: str) -> AESGCM:
    key = hmac.new(secret.encode(), b"answer:" + idempotency_key.encode(), hashlib.sha256)
    return AESGCM(key.digest())
