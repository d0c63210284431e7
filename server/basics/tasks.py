"""Running work side by side in background tasks and waiting for all of it, in any async mode.

Not with the tasks' own `join()`: engineio's eventlet task answers `join()` at once for a green
thread that has not started yet (a GreenThread is false until it runs, and `join` tests it),
so a caller went on before the work was done. The tasks count themselves done here instead,
on a semaphore that eventlet's and gevent's monkey-patching make green.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import DiskFull, StoreBusy, StoreUnreachable

logger = logging.getLogger(__name__)


def run_together(start_task: Callable, work: list[Callable[[], None]]) -> None:
    """Start each function in a background task; return once every one has finished (an
    exception is logged, and the others go on)."""
    finished = threading.Semaphore(0)

    def run(function: Callable[[], None]) -> None:
        try:
            function()
        except Exception:
            logger.exception("a background task failed")
        finally:
            finished.release()

    for function in work:
        start_task(run, function)
    for _ in work:
        finished.acquire()


@contextmanager
def kept_alive(store, doing: str) -> Iterator[None]:
    """One round of a background loop: a failure is logged and the loop goes on, its next
    round trying again. A full disk is said once, by server/store/disk.py; a lost database
    (a restart, a failover) is a warning, its connections made anew for the next round, as
    is the writer's answer to a command that met it (unreachable, or busy); anything else is
    a bug, logged with its traceback."""
    try:
        yield
    except DiskFull:
        pass
    except (StoreUnreachable, StoreBusy) as refused:  # said by the writer as it met it
        logger.warning("%s: %s; the next round tries again", doing, refused.detail)
    except Exception as error:
        if store.forget_if_lost(error):
            logger.warning("%s: the database was unreachable; the next round tries again", doing)
        else:
            logger.exception("%s failed", doing)


def real_sleep(seconds: float) -> None:
    """time.sleep as it was before eventlet or gevent patched it: for a loop in a native
    thread (`run_native`), which must not wait on the event loop it watches."""
    if "eventlet.patcher" in sys.modules and sys.modules["eventlet.patcher"].is_monkey_patched(
        "time"
    ):
        sys.modules["eventlet.patcher"].original("time").sleep(seconds)
    elif "gevent.monkey" in sys.modules and sys.modules["gevent.monkey"].is_module_patched("time"):
        sys.modules["gevent.monkey"].get_original("time", "sleep")(seconds)
    else:
        time.sleep(seconds)
