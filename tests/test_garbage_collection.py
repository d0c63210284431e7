"""The server's garbage collection (server/timers.py): Python never starts a full collection by
itself, so that none can hold an alarm's frames back; the young generations still collect
themselves. In this process, as the server's collector sets it up at start."""

from __future__ import annotations

import gc

import pytest

from server.timers import leave_full_collections_to_the_quiet_loop


@pytest.fixture
def collections_started():
    """The generation of each collection Python starts, after a full collection and a freeze
    (as the server leaves things while no alarm is on); this process's settings put back."""
    thresholds = gc.get_threshold()
    started: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    gc.freeze()
    gc.callbacks.append(note)
    try:
        yield started
    finally:
        gc.callbacks.remove(note)
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def connections(count: int) -> list[dict]:
    """Objects that outlive the young generations, as phones' connections do."""
    return [{"sid": str(number), "rooms": [number], "seen": [[number]]} for number in range(count)]


def test_python_starts_no_full_collection_by_itself_with_the_servers_setting(
    collections_started,
):
    leave_full_collections_to_the_quiet_loop()

    kept = connections(400_000)

    assert len(kept) == 400_000
    assert 2 not in collections_started
    assert 0 in collections_started  # the young generation still collects itself


def test_without_the_setting_the_same_objects_start_a_full_collection(collections_started):
    """The test above could fail: Python's own rule starts one for these objects."""
    kept = connections(400_000)

    assert len(kept) == 400_000
    assert 2 in collections_started
