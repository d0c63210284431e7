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
import pstats
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path


def switch_by_signals(out: str) -> None:
    """This process's profiler: on at SIGUSR1, off at SIGUSR2, which writes it to `out`."""
    profile = cProfile.Profile(time.thread_time)

    def start(_signum, _frame) -> None:
        profile.enable()

    def stop(_signum, _frame) -> None:
        profile.disable()
        profile.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def start_profiled(server, repo: Path, out: Path) -> None:
    """Start `server` (a harness LiveServer of `repo`) as LiveServer.start does, under this
    profiler writing to `out`; SIGUSR1 and SIGUSR2 to `server.process.pid` switch it."""
    from harness.bench import wait_for_health

    with open(server.output, "ab") as output:
        server.process = subprocess.Popen(
            [sys.executable, __file__, str(out), "-m", "server"],
            cwd=repo,
            env=server.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_health(server.url, server.process, "the profiled server")


def waiting(function: str) -> bool:
    """The event loop waiting for the network (epoll, libev/libuv's loop): not work."""
    return "of 'select.epoll' objects" in function or "loop' objects" in function


def print_top(out: Path, name: str, rounds: int, top: int = 25) -> None:
    """The functions of a profile written by this script, by the time spent in themselves
    over its rounds, without the event loop's waits."""
    stats = pstats.Stats(str(out))
    working = [(where, figures) for where, figures in stats.stats.items() if not waiting(where[2])]
    busy = sum(figures[2] for _, figures in working)
    print(
        f"\n  {name}: cProfile of its {rounds} rounds, {stats.total_calls} calls, "
        f"{busy * 1000 / rounds:.1f} ms of the event loop's CPU a round ({out})"
    )
    print(f"  {'ms/round':>9} {'calls/round':>11}  function (by its own time)")
    ordered = sorted(working, key=lambda item: item[1][2], reverse=True)
    for (file, line, function), (_, calls, own, _cumulative, _) in ordered[:top]:
        where = f"{Path(file).name}:{line}" if line else file
        print(f"  {own * 1000 / rounds:>9.2f} {calls / rounds:>11.0f}  {function} ({where})")


if __name__ == "__main__":
    switch_by_signals(sys.argv[1])
    if sys.argv[2] == "-m":
        sys.argv = [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[2:]
        runpy.run_path(sys.argv[0], run_name="__main__")
