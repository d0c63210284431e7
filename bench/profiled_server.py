"""`python -m server` under cProfile, switched on and off by signals, for a benchmark that
wants the server's profile of one phase only (py-spy falls behind on an eventlet server).

    python bench/profiled_server.py STATS_FILE [server arguments]

SIGUSR1 starts profiling, SIGUSR2 stops it and writes the statistics to STATS_FILE (read them
with `python -m pstats STATS_FILE`). Every greenlet runs on the main thread, so one profiler
sees the whole event loop; the native threads (the writer's fsync) are not in it.
"""

import cProfile
import runpy
import signal
import sys

profile = cProfile.Profile()
stats_file = sys.argv[1]


def start(*_):
    profile.enable()


def stop(*_):
    profile.disable()
    profile.dump_stats(stats_file)


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
sys.argv = ["server", *sys.argv[2:]]
runpy.run_module("server", run_name="__main__", alter_sys=True)
