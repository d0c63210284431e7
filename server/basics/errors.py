"""Rejected commands as data: one exception type, rendered once as RFC 9457 problem+json."""

from __future__ import annotations


class Rejected(Exception):
    """A command or request that was refused; nothing was written."""

    status = 400
    title = "Bad request"
    slug = "bad-request"
    said = ""  # the detail when none is given: a refusal that always says the same

    def __init__(self, detail: str = "", **extra):
        detail = detail or self.said
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict:
        return {
            "type": f"https://exitnow.invalid/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


class Invalid(Rejected):
    status, title, slug = 400, "Invalid request", "invalid"


class Unauthenticated(Rejected):
    status, title, slug = 401, "Not signed in", "unauthenticated"


class Forbidden(Rejected):
    status, title, slug = 403, "Not allowed", "forbidden"


class NotFound(Rejected):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Rejected):
    status, title, slug = 409, "Conflict", "conflict"


class Gone(Rejected):
    status, title, slug = 410, "No longer valid", "gone"


class IdempotencyMismatch(Rejected):
    status, title, slug = 422, "Idempotency-Key reused", "idempotency-key-reused"


class TooManyRequests(Rejected):
    """Too many failures from one address (server/operations/rate_limits.py); `retry_after` in seconds."""

    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class StoreUnreachable(Rejected):
    """The store's server could not be reached for this command (PostgreSQL restarted or
    failed over): it changed nothing, or it committed and a retry with the same idempotency
    key answers as the first time."""

    status, title, slug = 503, "Database unreachable", "database-unreachable"
    said = (
        "the server lost its database for a moment: try again (the same request is applied once)."
    )


class StoreBusy(Rejected):
    """Another process held the store's write lock longer than the busy timeout (a backup, a
    commit waiting for the synchronous standby): this command changed nothing."""

    status, title, slug = 503, "Database busy", "database-busy"
    said = "the server's database is busy: nothing was saved; try again in a moment."


class DiskFull(Rejected):
    """The disk under the database is full (server/store/disk.py): only the alarm's commands are
    written, with the reserve; this one changed nothing."""

    status, title, slug = 503, "Disk full", "disk-full"
    said = (
        "the server's disk is full: nothing was saved. Starting an incident, the "
        "all-clear and the roll call still work; try again once space is freed on the server."
    )


# What a caller gets for a bug: over HTTP a 500 with this body, over the socket this error in
# the acknowledgement. Nothing of the command was written.
INTERNAL_ERROR = {
    "type": "about:blank",
    "title": "Internal error",
    "status": 500,
    "detail": "This is a bug in Exit Now; it has been logged.",
}
