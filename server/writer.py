"""One writer per process: commands that arrive together share one transaction and one fsync.

A caller hands `submit` its work (a function of the open database that returns the command's
answer and the events it recorded) and waits. The writer takes every piece of work waiting,
runs each in its own savepoint (a rejected one leaves no trace and does not disturb the
others), commits once, publishes the events in the order they were recorded, and only then
wakes the callers: nothing is acknowledged before its commit.

Only the waits go to `run_native` (a native thread under eventlet): COMMIT, which waits for
the fsync, and BEGIN IMMEDIATE when another process is writing; the event loop keeps
serving, and the next batch keeps gathering, meanwhile. The commands themselves run on
the loop: they are short statements on cached pages, and in a native thread they fought the
loop for the GIL at every SQLite call (208 receipts took 606 ms to write that way, under a
crowd's requests; see bench/README.md).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .db import BUSY_TIMEOUT_MS, Store

logger = logging.getLogger(__name__)


@dataclass
class Job:
    work: Callable
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    events: list = field(default_factory=list)
    error: BaseException | None = None


def run_here(function: Callable, *args):
    """The default `run_native`: in the calling thread (threading mode, the CLI, unit tests)."""
    return function(*args)


class Writer:
    def __init__(
        self,
        store: Store,
        start_task: Callable,
        publish: Callable[[list[dict]], None],
        run_native: Callable = run_here,
        on_batch: Callable[[int], None] = lambda size: None,
    ):
        self.store = store
        self.start_task = start_task
        self.publish = publish
        self.run_native = run_native
        self._waiting: deque[Job] = deque()
        self._wake = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self.commands = 0  # run since the process started (GET /healthz shows both)
        self.transactions = 0
        self.on_batch = on_batch  # told each batch's size (the metrics' histogram)

    def submit(self, work: Callable, timeout: float | None = None):
        """Run `work(db) -> (answer, events)` in the next batch; return the answer once it
        is committed, or raise what the work raised (then nothing of it was written).
        With a `timeout` (the readiness probe), TimeoutError when the batch is not done."""
        job = Job(work)
        self._waiting.append(job)
        self._start_once()
        self._wake.set()
        if not job.done.wait(timeout):
            raise TimeoutError("the writer did not commit in time")
        if job.error is not None:
            raise job.error
        return job.result

    def _start_once(self) -> None:
        with self._start_lock:
            if not self._started:
                self._started = True
                self.start_task(self._drain_forever)

    def _drain_forever(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = [self._waiting.popleft() for _ in range(len(self._waiting))]
                self._write(batch)

    def _write(self, batch: list[Job]) -> None:
        self.commands += len(batch)
        self.transactions += 1
        self.on_batch(len(batch))
        try:
            with self.store.writing() as db:
                self._commit(db, batch)
        except Exception as error:  # BEGIN or COMMIT failed: none of the batch happened
            logger.exception("a batch of %s commands could not be committed", len(batch))
            for job in batch:
                job.error, job.events = job.error or error, []
        try:
            self.publish([event for job in batch for event in job.events])
        except Exception:  # the log has them; clients catch up from the gap
            logger.exception("could not publish a batch")
        for job in batch:
            job.done.set()

    def _begin(self, db) -> None:
        """BEGIN IMMEDIATE at once when no other process is writing, the usual case; else wait
        for it in a native thread. (A native round trip costs a turn of the event loop, which
        under a crowd's requests is hundreds of ms, so it is paid only when there is a wait.)"""
        db.execute("PRAGMA busy_timeout=0")
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        finally:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self.run_native(db.execute, "BEGIN IMMEDIATE")

    def _commit(self, db, batch: list[Job]) -> None:
        """One transaction, one savepoint per command."""
        self._begin(db)
        try:
            for job in batch:
                _run_in_savepoint(db, job)
            self.run_native(db.execute, "COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise


def _run_in_savepoint(db, job: Job) -> None:
    """A rejected command leaves no trace and does not disturb the rest of its batch."""
    db.execute("SAVEPOINT command")
    try:
        job.result, job.events = job.work(db)
    except Exception as error:
        db.execute("ROLLBACK TO command")
        job.error = error
    db.execute("RELEASE command")
