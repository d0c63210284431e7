"""Run a server under cProfile that is switched on and off from outside, so that a benchmark
profiles only its rounds: SIGUSR1 starts profiling, SIGUSR2 stops it and writes what was
gathered so far (every round's, added up) to OUT.

    python bench/profiled.py OUT -m server            (Exit Now: python -m server)
    python bench/profiled.py OUT bench/floor_server.py PORT BYTES MODE

cProfile watches the thread that was running when the signal came: the event loop's, where
eventlet and gevent run every green thread and so the fan-out. Its clock is that thread's CPU
time (time.thread_time), not the wall clock: a greenlet switched out (waiting on a queue or the
network) is invisible to cProfile, which would charge the wall time of the wait to the
function that switched out; CPU time does not pass while the thread waits. Greenlet switches
still confuse its call stacks, so cumulative times are rough; the time a function spends in
itself (`tottime`) and the call counts are what to read. bench_delivery.py's `--profile DIR`
uses it.
"""

import cProfile
import runpy
import signal
import sys
import time

OUT = sys.argv[1]
PROFILE = cProfile.Profile(time.thread_time)


def start(_signum, _frame) -> None:
    PROFILE.enable()


def stop(_signum, _frame) -> None:
    PROFILE.disable()
    PROFILE.dump_stats(OUT)


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)

if __name__ == "__main__":
    if sys.argv[2] == "-m":
        sys.argv = [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[2:]
        runpy.run_path(sys.argv[0], run_name="__main__")
