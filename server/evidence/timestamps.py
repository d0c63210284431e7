"""RFC 3161 timestamps: a time-stamping authority (EXITNOW_TSA_URL) signs that it saw the
SHA-256 of some bytes (a signed checkpoint, server/evidence/checkpoints.py) at a time, with its own key.
The token it answers is kept as it came (DER) and goes into evidence bundles, where
verify_report.py checks it against the certificate inside it.

asn1crypto reads and writes the DER; the request goes over plain HTTP(S) (RFC 3161 section
3.4), from a background task, never inside a transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request

from asn1crypto import tsp

TIMEOUT_SECONDS = 10
LARGEST_ANSWER = 1024 * 1024


class TimestampFailed(Exception):
    """The authority could not be reached, refused, or answered something else."""


def request_token(url: str, data: bytes, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The authority's TimeStampToken (DER) over SHA-256(`data`), checked to be for those
    bytes and this request (its nonce); TimestampFailed otherwise."""
    if not url.startswith(("http://", "https://")):
        raise TimestampFailed(f"{url!r} is not an http(s) URL")
    digest, nonce = hashlib.sha256(data).digest(), secrets.randbits(63)
    query = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": nonce,
            "cert_req": True,  # the token carries the authority's certificate to check it with
        }
    )
    answer = _post(url, query.dump(), timeout)
    try:
        response = tsp.TimeStampResp.load(answer)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampFailed(f"the authority answered {status}")
        token = response["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed
        imprint = info["message_imprint"]["hashed_message"].native
        if imprint != digest or info["nonce"].native != nonce:
            raise TimestampFailed("the token is for other bytes or another request")
        return token.dump()
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise TimestampFailed(f"unreadable answer: {error}") from None


def _post(url: str, body: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/timestamp-query"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (http(s) only)
            return answer.read(LARGEST_ANSWER)
    except (urllib.error.URLError, OSError) as error:
        raise TimestampFailed(f"{url}: {error}") from None
