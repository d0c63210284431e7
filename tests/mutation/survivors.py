"""What a cosmic-ray session found: each surviving mutant's changed lines (unless -q), then
the counts by outcome.

Usage (cosmic-ray's own Python): python survivors.py [-q] SESSION.sqlite
"""

from __future__ import annotations

import sys
from collections import Counter

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome


def outcome(result) -> str:
    if result.worker_outcome == WorkerOutcome.SKIPPED:
        return f"skipped: {result.output}"
    if result.worker_outcome != WorkerOutcome.NORMAL:
        return str(result.worker_outcome.value)
    return str(result.test_outcome.value)


if __name__ == "__main__":
    quiet = "-q" in sys.argv
    path = next(argument for argument in sys.argv[1:] if argument != "-q")
    with use_db(path, WorkDB.Mode.open) as session:
        counts = Counter()
        for item, result in session.completed_work_items:
            counts[outcome(result)] += 1
            if result.test_outcome == TestOutcome.SURVIVED and not quiet:
                spec = item.mutations[0]
                print(f"--- {item.job_id[:8]} {spec.operator_name} line {spec.start_pos[0]}")
                for line in (result.diff or "").splitlines():
                    if line[:1] in "+-" and line[:3] not in ("+++", "---"):
                        print(line)
        counts["pending"] = sum(1 for _ in session.pending_work_items)
    print(", ".join(f"{name} {count}" for name, count in sorted(counts.items())))
