"""Every EXITNOW_* setting, read once from the environment, with its default and meaning.

This module imports only the standard library: `python -m server` reads the async mode
from here before it may monkey-patch anything.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

ASYNC_MODES = ("eventlet", "gevent", "threading")
DATABASE_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one server process."""

    db_path: str = "var/exitnow.db"
    # postgresql://...: the store is PostgreSQL, not db_path; never printed (a password)
    database_url: str | None = field(default=None, repr=False)
    database_stuck_seconds: float = 15.0
    public_dir: str = "var/public"
    host: str = "127.0.0.1"
    port: int = 5000
    async_mode: str = "eventlet"
    message_queue: str | None = None
    secret_key: str | None = None
    public_url: str | None = None
    enrollment_ttl_hours: int = 72
    replay_limit: int = 5000
    vapid_subject: str = "mailto:exitnow@example.invalid"
    push_ttl_seconds: int = 3600
    webhook_retry_seconds: float = 10.0
    webhook_retry_max_seconds: float = 600.0
    webhook_give_up_hours: float = 24.0
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"

    listen_backlog: int = 2048
    max_connections: int = 10000
    metrics_allow: str = "127.0.0.1/32,::1/128"
    trusted_proxies: int = 0
    tsa_url: str | None = None
    disk_reserve_mb: int = 32
    new_log_key: str | None = None
    min_free_mb: int = 256
    # The customer-service mailboxes' automatic replies (server/channels/mailboxes/): credentials
    # stay here, in the environment, never in the database, the log or a site file.
    ms_login_url: str = "https://login.microsoftonline.com"
    ms_graph_url: str = "https://graph.microsoft.com"
    ms_tenant_id: str | None = None
    ms_client_id: str | None = None
    ms_client_secret: str | None = None
    gmail_key_file: str | None = None
    gmail_api_url: str = "https://gmail.googleapis.com"
    sieve_host: str | None = None
    sieve_port: int = 4190
    sieve_user: str | None = None
    sieve_password: str | None = None
    email_retry_seconds: float = 5.0
    email_retry_max_seconds: float = 300.0
    email_check_seconds: float = 300.0
    ms_unlisted_mailbox: str | None = None
    testing: bool = False

    @property
    def base_url(self) -> str:
        """The address people's phones use to reach this server (for enrollment links)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def with_changes(self, **changes) -> Settings:
        return replace(self, **changes)


# (environment variable, field, converter, one-line meaning) — docs/operations.md lists the same table.
ENVIRONMENT = (
    ("EXITNOW_DB", "db_path", str, "SQLite database file (created with WAL on first start)"),
    (
        "EXITNOW_DATABASE_URL",
        "database_url",
        str,
        "postgresql://... (libpq; several hosts with target_session_attrs=read-write): "
        "PostgreSQL instead of the SQLite file; the key files stay beside EXITNOW_DB",
    ),
    (
        "EXITNOW_DATABASE_STUCK_SECONDS",
        "database_stuck_seconds",
        float,
        "PostgreSQL: a statement on the event loop unanswered this long (a hung server) has "
        "its connection cut, the command answered 503; above the longest report's read",
    ),
    ("EXITNOW_PUBLIC_DIR", "public_dir", str, "where the public notice snapshots are written"),
    ("HOST", "host", str, "address to listen on"),
    ("PORT", "port", int, "port to listen on"),
    ("EXITNOW_ASYNC_MODE", "async_mode", str, "eventlet (default), gevent or threading"),
    ("EXITNOW_MESSAGE_QUEUE", "message_queue", str, "redis:// URL shared by all server processes"),
    (
        "EXITNOW_SECRET_KEY",
        "secret_key",
        str,
        "signs sessions; generated beside the database if unset",
    ),
    ("EXITNOW_PUBLIC_URL", "public_url", str, "base URL printed in enrollment links"),
    (
        "EXITNOW_ENROLLMENT_TTL_HOURS",
        "enrollment_ttl_hours",
        int,
        "how long an enrollment link works",
    ),
    (
        "EXITNOW_VAPID_SUBJECT",
        "vapid_subject",
        str,
        "contact push services see (mailto: or https:)",
    ),
    ("EXITNOW_PUSH_TTL_SECONDS", "push_ttl_seconds", int, "how long a push service keeps an alarm"),
    (
        "EXITNOW_WEBHOOK_RETRY_SECONDS",
        "webhook_retry_seconds",
        float,
        "first retry of a failed webhook delivery; doubles each time",
    ),
    (
        "EXITNOW_WEBHOOK_RETRY_MAX_SECONDS",
        "webhook_retry_max_seconds",
        float,
        "longest wait between two tries of a webhook delivery",
    ),
    (
        "EXITNOW_WEBHOOK_GIVE_UP_HOURS",
        "webhook_give_up_hours",
        float,
        "a webhook delivery still failing this long after its event is given up",
    ),
    ("EXITNOW_TWILIO_ACCOUNT_SID", "twilio_account_sid", str, "Twilio account for escalation SMS"),
    ("EXITNOW_TWILIO_AUTH_TOKEN", "twilio_auth_token", str, "Twilio auth token (a secret)"),
    ("EXITNOW_TWILIO_FROM", "twilio_from", str, "the SMS sender: a Twilio number or MG... service"),
    ("EXITNOW_TWILIO_API_URL", "twilio_api_url", str, "Twilio's API base URL (tests: a stand-in)"),
    ("EXITNOW_REPLAY_LIMIT", "replay_limit", int, "most missed events replayed on reconnect"),
    (
        "EXITNOW_LISTEN_BACKLOG",
        "listen_backlog",
        int,
        "TCP listen backlog (phones connect at once)",
    ),
    (
        "EXITNOW_MAX_CONNECTIONS",
        "max_connections",
        int,
        "most simultaneous connections per process",
    ),
    (
        "EXITNOW_TRUSTED_PROXIES",
        "trusted_proxies",
        int,
        "reverse proxies in front (their X-Forwarded-For names the client)",
    ),
    (
        "EXITNOW_METRICS_ALLOW",
        "metrics_allow",
        str,
        "client networks that may read /metrics (comma-separated)",
    ),
    (
        "EXITNOW_TSA_URL",
        "tsa_url",
        str,
        "RFC 3161 time-stamping authority that timestamps each log checkpoint",
    ),
    (
        "EXITNOW_DISK_RESERVE_MB",
        "disk_reserve_mb",
        int,
        "space held beside the database for the alarm's commands when the disk fills (0: none)",
    ),
    (
        "EXITNOW_NEW_LOG_KEY",
        "new_log_key",
        str,
        "yes: make a new log signing key although the log has checkpoints signed by a lost one",
    ),
    (
        "EXITNOW_MIN_FREE_MB",
        "min_free_mb",
        int,
        "below this much free space (database or public folder) /readyz is red and admins warned",
    ),
    ("EXITNOW_MS_LOGIN_URL", "ms_login_url", str, "Microsoft identity platform (token) base URL"),
    ("EXITNOW_MS_GRAPH_URL", "ms_graph_url", str, "Microsoft Graph base URL"),
    ("EXITNOW_MS_TENANT_ID", "ms_tenant_id", str, "the Microsoft 365 tenant of the mailboxes"),
    ("EXITNOW_MS_CLIENT_ID", "ms_client_id", str, "the app registration's client id"),
    ("EXITNOW_MS_CLIENT_SECRET", "ms_client_secret", str, "its client secret (a secret)"),
    ("EXITNOW_GMAIL_KEY_FILE", "gmail_key_file", str, "Google service account key file (JSON)"),
    ("EXITNOW_GMAIL_API_URL", "gmail_api_url", str, "Gmail API base URL"),
    ("EXITNOW_SIEVE_HOST", "sieve_host", str, "ManageSieve server of self-hosted mailboxes"),
    ("EXITNOW_SIEVE_PORT", "sieve_port", int, "its port"),
    ("EXITNOW_SIEVE_USER", "sieve_user", str, "a ManageSieve login acting for each mailbox"),
    ("EXITNOW_SIEVE_PASSWORD", "sieve_password", str, "its password (a secret)"),
    (
        "EXITNOW_EMAIL_RETRY_SECONDS",
        "email_retry_seconds",
        float,
        "first retry of a failed mailbox switch; doubles each time",
    ),
    (
        "EXITNOW_EMAIL_RETRY_MAX_SECONDS",
        "email_retry_max_seconds",
        float,
        "longest wait between two tries of a mailbox switch",
    ),
    (
        "EXITNOW_EMAIL_CHECK_SECONDS",
        "email_check_seconds",
        float,
        "how often each mailbox's credentials are tried in the background (readiness)",
    ),
    (
        "EXITNOW_MS_UNLISTED_MAILBOX",
        "ms_unlisted_mailbox",
        str,
        "a Microsoft 365 mailbox no site lists: readiness warns if the app can read it",
    ),
)


def load_settings(environ: dict | None = None, **overrides) -> Settings:
    """Read the settings from the environment; keyword overrides win."""
    environ = os.environ if environ is None else environ
    values = {}
    for variable, name, convert, _meaning in ENVIRONMENT:
        raw = environ.get(variable)
        if raw not in (None, ""):
            try:
                values[name] = convert(raw)
            except ValueError:
                raise SystemExit(f"{variable}={raw!r} is not a valid {convert.__name__}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    if settings.async_mode not in ASYNC_MODES:
        raise SystemExit(f"EXITNOW_ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}")
    if settings.database_url and not settings.database_url.startswith(DATABASE_SCHEMES):
        raise SystemExit(
            "EXITNOW_DATABASE_URL must be a PostgreSQL URL (postgresql://user@host/database); "
            "leave it unset for the SQLite file EXITNOW_DB"
        )
    if not settings.database_stuck_seconds >= 1:  # the watch looks once a second
        raise SystemExit("EXITNOW_DATABASE_STUCK_SECONDS must be 1 or more")
    if settings.trusted_proxies < 0:
        raise SystemExit("EXITNOW_TRUSTED_PROXIES must be 0 or more")
    if settings.disk_reserve_mb < 0 or settings.min_free_mb < 0:
        raise SystemExit("EXITNOW_DISK_RESERVE_MB and EXITNOW_MIN_FREE_MB must be 0 or more")
    return settings


@functools.cache
def secret_key_for(settings: Settings) -> str:
    """The configured secret, or one generated once and kept (mode 0600) beside the database."""
    if settings.secret_key:
        return settings.secret_key
    made = kept_beside_database(settings, "secret_key", lambda: os.urandom(32).hex().encode())
    return made.decode().strip()


def kept_beside_database(settings: Settings, name: str, make: Callable[[], bytes]) -> bytes:
    """The file `name` beside the database, made once by `make()` when missing. It is written
    under a temporary name (O_EXCL, mode 0600) and linked to its name, which fails when the
    name exists: a process starting at the same moment reads a whole file, never half of one,
    and the first to link wins."""
    folder = Path(settings.db_path).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(make())
            file.flush()
            os.fsync(file.fileno())
        # A process that started at the same moment may have linked its own first: it won.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_bytes()


# The running server writes the address it listens on beside the database, so that the
# command line, which is started without the server's --host and --port, makes links to it.
ADDRESS_FILE = "server_address"


def record_address(settings: Settings) -> None:
    """Called by `python -m server` as it starts to listen."""
    path = Path(settings.db_path).resolve().parent / ADDRESS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{ADDRESS_FILE}.{os.getpid()}")
    temporary.write_text(f"http://{settings.host}:{settings.port}\n")
    os.replace(temporary, path)


def link_base(settings: Settings) -> tuple[str, str | None]:
    """The base URL of the links the command line prints, and a warning when it is a guess:
    EXITNOW_PUBLIC_URL; else the address the server recorded when it started (it listens
    there, but a phone may know it by another name); else HOST and PORT as the server would
    read them."""
    if settings.public_url:
        return settings.base_url, None
    advice = "set EXITNOW_PUBLIC_URL to the address phones reach the server at"
    try:
        recorded = (Path(settings.db_path).resolve().parent / ADDRESS_FILE).read_text().strip()
    except OSError:
        recorded = ""
    if recorded:
        return recorded, (
            f"EXITNOW_PUBLIC_URL is not set: the link uses the address the server said it "
            f"listens on when it last started ({recorded}); {advice}."
        )
    return settings.base_url, (
        f"EXITNOW_PUBLIC_URL is not set and no server has started on this database: the link "
        f"guesses {settings.base_url} from HOST and PORT; {advice}."
    )


def sms_configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from)
