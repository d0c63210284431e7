"""The disk under the database and the public folder: free space, and a reserve for the alarm.

A full disk must not stop an alarm. A file of EXITNOW_DISK_RESERVE_MB (`disk_reserve`,
beside the database) holds space that only the commands declared with `reserve=True` may
use (starting an incident, the all-clear, the roll call's receipts): when SQLite answers
SQLITE_FULL, the writer deletes the file and tries those commands again (server/store/writer.py),
and refuses every other command with 503 while the disk stays full. Once there is room for
the reserve again, with as much to spare, it is made anew and the server writes as usual.

While the disk is fine nothing here runs on the write path: only a watch, every few
seconds, reads the free space (one statvfs per folder) for /readyz, /metrics and the console.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from ..basics.clock import now_ms

logger = logging.getLogger(__name__)

RESERVE_FILE = "disk_reserve"
MIB = 1024 * 1024
# With no reserve configured, the disk counts as no longer full once this much is free.
SMALLEST_ROOM = MIB


def free_bytes(folder: Path) -> int | None:
    """The bytes an unprivileged process may still write in `folder`'s file system."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def is_disk_full(error: BaseException | None) -> bool:
    """Whether SQLite (SQLITE_FULL), PostgreSQL (53100 disk_full) or the operating system
    (ENOSPC, EDQUOT) said the disk is full."""
    if getattr(error, "sqlstate", None) == "53100":
        return True
    if isinstance(error, sqlite3.Error):
        return (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF == sqlite3.SQLITE_FULL
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT)
    return False


class DiskReserve:
    """The reserve file beside the database, and whether the disk is full now."""

    def __init__(self, db_path: str, size_bytes: int):
        in_memory = db_path == ":memory:" or db_path.startswith("file:")
        self.folder = Path(db_path).resolve().parent
        self.path = self.folder / RESERVE_FILE
        self.size = 0 if in_memory else max(0, size_bytes)
        self.is_full = False  # SQLITE_FULL was met, and the room is not back yet
        self.used_at: int | None = None  # when the reserve was last given back (UTC ms)
        self.times_used = 0
        self._lock = threading.Lock()

    def is_held(self) -> bool:
        """Whether the reserve is in place (always, when none is configured)."""
        if not self.size:
            return True
        try:
            return self.path.stat().st_size >= self.size
        except OSError:
            return False

    def make(self) -> bool:
        """Hold the reserve when it is missing and the disk has room for it twice over (the
        other half stays for ordinary work); whether it is held now."""
        with self._lock:
            if self.is_held():
                return True
            free = free_bytes(self.folder)
            if free is None or free < 2 * self.size:
                return False
            temporary = self.folder / f".{RESERVE_FILE}.{os.getpid()}"
            try:
                _allocate(temporary, self.size)
                os.replace(temporary, self.path)  # another process's reserve goes: one is kept
            except OSError:
                temporary.unlink(missing_ok=True)
                return False
            logger.info("the disk reserve (%s MiB) is in place: %s", self.size // MIB, self.path)
            return True

    def give_back(self) -> int:
        """Delete the reserve so that the writer can try the alarm's commands again; the bytes
        freed (0 when it was gone already, given back by another process, say)."""
        with self._lock:
            try:
                size = self.path.stat().st_size
                self.path.unlink()
            except FileNotFoundError:
                return 0
            self.used_at, self.times_used = now_ms(), self.times_used + 1
        logger.error(
            "the disk beside the database is full: the reserve (%s MiB) was given back to "
            "the alarm's commands; free space on %s now",
            size // MIB,
            self.folder,
        )
        return size

    def room_is_back(self) -> bool:
        """While full: whether there is room again (the reserve held, as much again free).
        Ends the full state when there is."""
        if not self.make():
            return False
        free = free_bytes(self.folder)
        if free is None or free < max(self.size, SMALLEST_ROOM):
            return False
        self.is_full = False
        logger.warning("the disk beside the database has room again: writing as usual")
        return True


def _allocate(path: Path, size: int) -> None:
    """A file of `size` bytes whose blocks are really taken (posix_fallocate; zeros written
    where the file system cannot allocate)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            os.posix_fallocate(descriptor, 0, size)
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                raise
            chunk = bytes(MIB)
            for start in range(0, size, MIB):
                os.write(descriptor, chunk[: min(MIB, size - start)])
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class DiskState:
    """What the watch last read: free bytes per folder (None: unreadable)."""

    database_free: int | None
    public_free: int | None
    min_free: int
    reserve_held: bool
    reserve_used_at: int | None

    @property
    def is_low(self) -> bool:
        """Below EXITNOW_MIN_FREE_MB beside the database or the public folder."""
        return any(free is None or free < self.min_free for free in self.free_space())

    def free_space(self) -> tuple[int | None, int | None]:
        return self.database_free, self.public_free

    def summary(self) -> dict:
        """For /readyz: free MiB beside the database and the public folder, the threshold,
        and whether the reserve is in place."""
        return {
            "database_free_mb": _mib(self.database_free),
            "public_free_mb": _mib(self.public_free),
            "min_free_mb": self.min_free // MIB,
            "reserve_held": self.reserve_held,
        }

    def warning(self) -> dict:
        """The console's `disk` message: a banner for admins and duty managers while the
        free space is low or the reserve was used (both false: no banner)."""
        known = [free for free in self.free_space() if free is not None]
        return {
            "low": self.is_low,
            "reserve_used": not self.reserve_held,
            "free_mb": min(known) // MIB if known else 0,
            "min_free_mb": self.min_free // MIB,
        }

    @property
    def needs_warning(self) -> bool:
        return self.is_low or not self.reserve_held


def _mib(size: int | None) -> int | None:
    return None if size is None else size // MIB


class Disk:
    """Free space beside the database and the public folder, and the reserve."""

    def __init__(self, db_path: str, public_dir: str, reserve_mb: int, min_free_mb: int):
        self.reserve = DiskReserve(db_path, reserve_mb * MIB)
        self.public_dir = Path(public_dir)
        self.min_free = min_free_mb * MIB
        self.state = self.read()

    def watch(self) -> DiskState:
        """Every few seconds (server/timers.py): make the reserve when it is missing and fits
        (ending the full state when there is room), then read the free space."""
        if self.reserve.is_full:
            self.reserve.room_is_back()
        elif not self.reserve.is_held():
            self.reserve.make()
        return self.read()

    def read(self) -> DiskState:
        """Read the free space now (one statvfs per folder); keep and return it."""
        public = next(f for f in (self.public_dir, *self.public_dir.parents) if f.exists())
        self.state = DiskState(
            free_bytes(self.reserve.folder),
            free_bytes(public),
            self.min_free,
            self.reserve.is_held(),
            self.reserve.used_at,
        )
        return self.state
