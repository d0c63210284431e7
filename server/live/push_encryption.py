"""The body of one Web Push message: RFC 8291 (Message Encryption for Web Push) over RFC 8188's
aes128gcm content coding, in one record.

Written against the RFCs with `cryptography`'s primitives, because pywebpush's layers (its
subscription parsing, http_ece's general record loop) cost more than the cryptography itself
when a thousand phones are pushed at once. Every message gets its own ECDH key pair and salt,
as RFC 8291 requires; the phones' tests decrypt it with http_ece, an independent
implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from base64 import urlsafe_b64decode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# RFC 8291 section 4: the message is one record; RFC 8030 section 7.2: a push service need not
# take a body over 4096 bytes, and the header (salt, record size, key) takes 86 of them.
RECORD_SIZE = 4096
MAX_PLAINTEXT = 4096 - 86 - 16 - 1  # less the AES-GCM tag and the last-record delimiter


def encrypt(plaintext: bytes, p256dh: str, auth: str) -> bytes:
    """The aes128gcm body for the browser whose subscription keys are `p256dh` (its P-256
    public key) and `auth` (its 16-byte secret), both base64url as the browser gave them."""
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValueError(f"a push message holds at most {MAX_PLAINTEXT} bytes")
    auth_secret = _unbase64(auth)
    if len(auth_secret) != 16:  # a push the browser could never decrypt
        raise ValueError("the auth secret is not 16 bytes")
    browser_public = _unbase64(p256dh)
    browser_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), browser_public)
    own_key = ec.generate_private_key(ec.SECP256R1())
    own_public = own_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    shared = own_key.exchange(ec.ECDH(), browser_key)

    # RFC 8291 section 3.4: the input keying material, from the shared secret and auth secret.
    key_info = b"WebPush: info\x00" + browser_public + own_public
    ikm = _hkdf(salt=auth_secret, secret=shared, info=key_info, length=32)
    # RFC 8188 section 2.2: the content-encryption key and nonce, from a fresh salt.
    salt = os.urandom(16)
    key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    record = AESGCM(key).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(own_public)) + own_public
    return header + record


def _hkdf(salt: bytes, secret: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256 (RFC 5869) for at most one block of output, all these keys need."""
    pseudo_random_key = hmac.new(salt, secret, hashlib.sha256).digest()
    return hmac.new(pseudo_random_key, info + b"\x01", hashlib.sha256).digest()[:length]


def _unbase64(text: str) -> bytes:
    """base64url with or without its padding, as browsers differ."""
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))
