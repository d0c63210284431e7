"""Writing every channel of a site's notice as plain files in $EXITNOW_PUBLIC_DIR/<site>/.

Each file is written to a temporary name and renamed, so a reader (the app, nginx, a CDN)
sees the old bytes or the new, never half. Unchanged files are left alone, so their ETag and
Last-Modified stay valid and conditional requests keep answering 304.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from ..basics.errors import NotFound
from ..basics.names import is_slug
from ..store.state import site_ids
from ..store.writer import run_here
from . import PublicNotice, load_notice
from .atom import archive_files, cap_atom, cap_history
from .banner import banner_js
from .cap import cap_xml
from .phone import phone_ssml, phone_text, phone_twiml
from .status import status_html, status_json
from .texts import site_languages

logger = logging.getLogger(__name__)


def snapshot_files(notice: PublicNotice) -> dict[str, bytes | None]:
    """File name -> bytes for every public channel; None means the file must not exist."""
    files: dict[str, bytes | None] = {"status.json": status_json(notice)}
    for lang in site_languages(notice):
        files[f"status.{lang}.html"] = status_html(notice, lang)
        files[f"phone.{lang}.twiml"] = phone_twiml(notice, lang)
        files[f"phone.{lang}.ssml"] = phone_ssml(notice, lang)
        files[f"phone.{lang}.txt"] = phone_text(notice, lang)
    files["banner.js"] = banner_js(notice)
    files["cap.xml"] = cap_xml(notice)
    return files


class Snapshots:
    """The snapshot directory of this deployment."""

    def __init__(self, public_dir: str, store, run_native=run_here, public_url: str = ""):
        # Absolute: the files are written from the working directory but served by Flask,
        # which would read a relative path from the package's folder.
        self.root = Path(public_dir).resolve()
        self.store = store
        self.public_url = public_url  # CAP's sender and the feed's links say it
        # Writing and fsync run in a native thread under eventlet: the event loop keeps
        # sending the alarm's frames meanwhile.
        self.run_native = run_native
        # flock orders processes; this lock orders the threads (or green threads) of this one,
        # which would otherwise block each other inside flock.
        self._lock = threading.Lock()

    def folder(self, site: str) -> Path:
        """The site's folder; a name that is no site id ("..", "a/b") names none."""
        if not is_slug(site):
            raise NotFound(f"There is no site '{site}'.")
        return self.root / site

    def refresh(self, site: str, force: bool = False) -> PublicNotice:
        """Render the site's notice from the database as it is now and write its files
        (`force`: even when the folder holds a newer version, as at start, where the database
        is the truth even if it was restored from a backup)."""
        with self.store.reading() as db:
            notice = load_notice(db, site, self.public_url)
            history = cap_history(db, notice)
        files = snapshot_files(notice)  # here: templates are not for native threads
        files["cap.atom"] = cap_atom(notice, history)
        # Each CAP message of the feed is kept as it was issued: written once, when missing.
        folder = self.folder(site)
        kept = archive_files(history, missing_in=folder)
        with self._lock:
            self.run_native(_write_snapshot, folder, notice.version, files, force, kept)
        return notice

    def refresh_all(self) -> None:
        """Every site's files, at start. A folder that cannot be written is said (and /readyz
        is red), but the server still starts: the phones' alarm does not need it."""
        with self.store.reading() as db:
            sites = site_ids(db)
        for site in sites:
            try:
                self.refresh(site, force=True)
            except OSError as error:
                logger.error("could not write the public notices of site %s: %s", site, error)


def _write_snapshot(
    folder: Path, version: int, files: dict, force: bool, kept: dict | None = None
) -> None:
    """Write the notice's files unless a newer version is on disk already. The flock makes
    check-then-write one step across processes: without it a slower process could overwrite
    a newer notice with the older one it had read."""
    folder.mkdir(parents=True, exist_ok=True)
    written = folder / ".version"
    with _locked(folder / ".lock"):
        try:
            if int(written.read_text()) > version and not force:
                return
        except (FileNotFoundError, ValueError):
            pass
        for name, content in files.items():
            _write_if_changed(folder / name, content)
        for name, content in (kept or {}).items():
            (folder / name).parent.mkdir(exist_ok=True)
            if not (folder / name).exists():
                _write_if_changed(folder / name, content)
        _write_if_changed(written, str(version).encode())


@contextmanager
def _locked(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_if_changed(path: Path, content: bytes | None) -> None:
    if content is None:
        path.unlink(missing_ok=True)
        return
    try:
        if path.read_bytes() == content:
            return
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o644)  # nginx runs as another user and must be able to read it
    os.replace(temporary, path)
