"""One writer per process: commands that arrive together share one transaction and one fsync.

A caller hands `submit` its work (a function of the open database that returns the command's
answer and the events it recorded) and waits. The writer takes every piece of work waiting,
runs each in its own savepoint (a rejected one leaves no trace and does not disturb the
others), commits once, hands the events in the order they were recorded to each of its
`subscribers` (the publisher first), and only then wakes the callers, or answers those that
did not wait (`submit_then`): nothing is acknowledged before its commit.

Only the waits go to `run_native` (a native thread under eventlet): COMMIT, which waits for
the fsync or the synchronous standby (`commit`), and the write lock when another process
holds it (`begin_write`); the event loop keeps
serving, and the next batch keeps gathering, meanwhile. The commands themselves run on
the loop: they are short statements on cached pages, and in a native thread they fought the
loop for the GIL at every SQLite call (208 receipts took 606 ms to write that way, under a
crowd's requests; see bench/README.md).

A full disk (SQLITE_FULL) is the one failure the writer answers itself: it gives the disk
reserve back and tries the work marked `vital` again (the alarm's commands), and refuses
the rest with 503 until there is room again (server/store/disk.py). While the disk is fine this
costs one test of each batch's outcome.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..basics.errors import DiskFull, StoreBusy, StoreUnreachable
from .db import Store
from .disk import DiskReserve, is_disk_full

logger = logging.getLogger(__name__)


@dataclass
class BatchMemo:
    """What the writer's open transaction already knows, so that the next command of a batch
    does not ask the database again (a round trip each on PostgreSQL): the sites known to
    exist, and each site's head as the batch's appends moved it on (`log.head`). Set as the
    write connection's `memo` for one transaction; forgotten when a command is rolled back."""

    sites: set[str] = field(default_factory=set)
    heads: dict = field(default_factory=dict)


@dataclass
class Job:
    work: Callable
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    events: list = field(default_factory=list)
    error: BaseException | None = None
    vital: bool = False  # may use the disk reserve (server/store/disk.py)
    answer: Callable[[Job], None] | None = None  # `submit_then`'s: called instead of `done`


def run_here(function: Callable, *args):
    """The default `run_native`: in the calling thread (threading mode, the CLI, unit tests)."""
    return function(*args)


class Writer:
    def __init__(
        self,
        store: Store,
        start_task: Callable,
        run_native: Callable = run_here,
        on_batch: Callable[[int], None] = lambda size: None,
        reserve: DiskReserve | None = None,
    ):
        self.store = store
        self.reserve = reserve or DiskReserve(":memory:", 0)
        self.start_task = start_task
        # What runs after each commit, in order, with the batch's events (server/app.py names
        # them): each before any caller is answered.
        self.subscribers: list[Callable[[list[dict]], None]] = []
        self.run_native = run_native
        self._waiting: deque[Job] = deque()
        self._wake = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self.commands = 0  # run since the process started (GET /healthz shows both)
        self.transactions = 0
        self.on_batch = on_batch  # told each batch's size (the metrics' histogram)

    def submit(self, work: Callable, timeout: float | None = None, vital: bool = False):
        """Run `work(db) -> (answer, events)` in the next batch; return the answer once it
        is committed, or raise what the work raised (then nothing of it was written).
        With a `timeout` (the readiness probe), TimeoutError when the batch is not done.
        On a full disk only `vital` work is written (with the reserve); the rest raises
        DiskFull."""
        job = Job(work, vital=vital)
        self._waiting.append(job)
        self._start_once()
        self._wake.set()
        if not job.done.wait(timeout):
            raise TimeoutError("the writer did not commit in time")
        if job.error is not None:
            raise job.error
        return job.result

    def submit_then(self, work: Callable, answer: Callable[[Job], None], vital=False) -> None:
        """As `submit`, but nobody waits: `answer(job)` is called by the writer once the batch
        is committed (`job.result`), or the work failed (`job.error`). A thousand receipts
        over the phones' sockets are then answered from one loop over the batch, not by a
        thousand waiting green threads woken one by one (bench/README.md, issue 27).
        `answer` runs in the writer: it must never wait for the writer (`submit`), nor block."""
        self._waiting.append(Job(work, vital=vital, answer=answer))
        self._start_once()
        self._wake.set()

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
        self.on_batch(len(batch))
        if self.reserve.is_full and not self.reserve.room_is_back():
            _refuse(job for job in batch if not job.vital)
        self._attempt([job for job in batch if job.error is None])
        short = [job for job in batch if is_disk_full(job.error)]
        if short:
            self._when_disk_full(short)
        self._after_commit([event for job in batch for event in job.events])
        for job in batch:
            if job.answer is None:
                job.done.set()
                continue
            try:
                job.answer(job)
            except Exception:  # one caller's broken answer must not stop the others'
                logger.exception("could not answer a command")

    def _after_commit(self, events: list[dict]) -> None:
        for subscriber in self.subscribers:
            try:
                subscriber(events)
            except Exception:  # the log has them; clients catch up from the gap
                logger.exception("a subscriber failed after a commit")

    def _attempt(self, jobs: list[Job]) -> None:
        """Run the jobs in one transaction; each keeps its answer and events, or its error."""
        if not jobs:
            return
        self.transactions += 1
        try:
            with self.store.writing() as db:
                self._commit(db, jobs)
        except Exception as error:  # BEGIN or COMMIT failed: none of the batch happened
            if self.store.forget_if_lost(error):  # or COMMIT's answer: the key tells on a retry
                logger.warning("the store's connection was lost: %s", type(error).__name__)
                error = StoreUnreachable()
            elif self.store.busy(error):
                logger.warning("the store's write lock was held past the busy timeout")
                error = StoreBusy()
            elif not is_disk_full(error):
                logger.exception("a batch of %s commands could not be committed", len(jobs))
            for job in jobs:
                lost = job.error is not None and self.store.lost(job.error)
                job.error, job.events = (error if lost else job.error or error), []

    def _when_disk_full(self, short: list[Job]) -> None:
        """SQLITE_FULL: give the reserve back to the vital jobs and try them once more; the
        others are refused (and so is every other job until there is room again)."""
        self.reserve.is_full = True
        vital = [job for job in short if job.vital]
        _refuse(job for job in short if not job.vital)
        if not vital:
            return
        self.reserve.give_back()
        for job in vital:
            job.error, job.result, job.events = None, None, []
        self._attempt(vital)
        _refuse(job for job in vital if is_disk_full(job.error))

    def _commit(self, db, batch: list[Job]) -> None:
        """One transaction, one savepoint per command."""
        try:
            self.store.begin_write(db, self.run_native)  # a lock timeout leaves it to roll back
            db.memo = BatchMemo()
            db.execute("SAVEPOINT command")
            for number, job in enumerate(batch, 1):
                self._run_in_savepoint(db, job, another=number < len(batch))
            self.store.commit(db, self.run_native)
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.memo = None

    def _run_in_savepoint(self, db, job: Job, another: bool) -> None:
        """A rejected command leaves no trace and does not disturb the rest of its batch: its
        savepoint `command` is made before it and released after its writes (the store's
        `end_command`, where the last of them are sent on PostgreSQL)."""
        try:
            job.result, job.events = job.work(db)
            self.store.end_command(db, another)
        except Exception as error:
            _undo_command(db, job, error)
            self.store.end_command(db, another)


def _undo_command(db, job: Job, error: Exception) -> None:
    """Back to the command's savepoint; the job keeps its error and nothing else."""
    db.execute("ROLLBACK TO command")
    db.memo = BatchMemo()  # what it appended or made is gone again
    job.result, job.events, job.error = None, [], error


def _refuse(jobs) -> None:
    for job in jobs:
        job.error, job.result, job.events = DiskFull(), None, []
