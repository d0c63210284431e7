"""The benchmarks: scripts that print figures beside a bare reference, each run from the
repository's root as `python -m bench.bench_<name>` (docs/benchmarks.md). What they share with
the tests is in `harness`."""
