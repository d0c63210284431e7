"""Skip the mutants of a cosmic-ray session that would only cost time, before `exec`:

- inside an annotation: every module of server/ has `from __future__ import annotations`, so
  an annotation is never evaluated and its mutant cannot matter;
- all but two of the variants of one binary or comparison operator at one place (cosmic-ray
  makes up to eleven): its twin (`<` for `<=`, `+` for `-`, ...) and one other, chosen by a
  stable hash so that a run can be repeated.

Usage (cosmic-ray's own Python): python prune.py SESSION.sqlite [--at-most N]

With `--at-most N`, of the mutants still to run only N are kept, chosen by a stable hash (for a
large module on a tight clock: the counts then say how many were sampled out).
"""

from __future__ import annotations

import ast
import hashlib
import sys
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import WorkerOutcome, WorkResult

TWINS = {
    "Add": "Sub", "Sub": "Add", "Mul": "Div", "Div": "Mul", "FloorDiv": "Div", "Mod": "FloorDiv",
    "Pow": "Mul", "LShift": "RShift", "RShift": "LShift", "BitOr": "BitAnd", "BitAnd": "BitOr",
    "BitXor": "BitOr", "Lt": "LtE", "LtE": "Lt", "Gt": "GtE", "GtE": "Gt", "Eq": "NotEq",
    "NotEq": "Eq", "Is": "IsNot", "IsNot": "Is", "In": "NotIn", "NotIn": "In",
}  # fmt: skip
FAMILIES = ("ReplaceBinaryOperator_", "ReplaceComparisonOperator_")


def annotation_spans(path: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans = []
    for node in ast.walk(ast.parse(Path(path).read_text())):
        annotations = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
            every += [arguments.vararg, arguments.kwarg]
            annotations = [node.returns] + [a.annotation for a in every if a is not None]
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        spans += [
            ((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset))
            for a in annotations
            if a is not None
        ]
    return spans


def pruned(db: WorkDB) -> dict[str, str]:
    """The job ids to skip, each with why."""
    spans: dict[str, list] = {}
    variants: dict[tuple, list[tuple[str, str]]] = {}
    skip = {}
    for item in list(db.pending_work_items):
        spec = item.mutations[0]
        path = str(spec.module_path)
        if path not in spans:
            spans[path] = annotation_spans(path)
        start, end = tuple(spec.start_pos), tuple(spec.end_pos)
        if any(first <= start and end <= last for first, last in spans[path]):
            skip[item.job_id] = "annotation"
            continue
        for family in FAMILIES:
            if family in spec.operator_name:
                source, _, target = spec.operator_name.partition(family)[2].partition("_")
                variants.setdefault((path, start, source), []).append((item.job_id, target))
    for (path, start, source), jobs in variants.items():
        kept = {job for job, target in jobs if target == TWINS.get(source)}
        others = sorted(
            (hashlib.sha1(f"{path}{start}{target}".encode()).hexdigest(), job)
            for job, target in jobs
            if job not in kept
        )
        kept |= {job for _, job in others[: 2 - len(kept)]}
        skip |= {job: "not sampled" for job, _ in jobs if job not in kept}
    return skip


def beyond(db: WorkDB, skipped: dict[str, str], at_most: int) -> dict[str, str]:
    """The mutants left to run past the first `at_most` of them, by a hash of what each one
    changes (its module, operator and occurrence; not its job id, which `init` draws anew), so
    that a second session of the same code samples the same ones."""
    left = sorted(
        (hashlib.sha1(_what(item.mutations[0]).encode()).hexdigest(), item.job_id)
        for item in db.pending_work_items
        if item.job_id not in skipped
    )
    return {job: "not sampled (time)" for _, job in left[at_most:]}


def _what(spec) -> str:
    return f"{spec.module_path}:{spec.operator_name}:{spec.occurrence}"


if __name__ == "__main__":
    at_most = int(sys.argv[sys.argv.index("--at-most") + 1]) if "--at-most" in sys.argv else None
    with use_db(sys.argv[1], WorkDB.Mode.open) as session:
        skipped = pruned(session)
        if at_most is not None:
            skipped |= beyond(session, skipped, at_most)
        for job, why in skipped.items():
            session.set_result(job, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=why))
        left = sum(1 for _ in session.pending_work_items)
    counts = {
        why: sum(1 for each in skipped.values() if each == why) for why in set(skipped.values())
    }
    print(", ".join(f"{why} {count}" for why, count in sorted(counts.items())), f"; {left} to run")
