"""The collector's settings of a long-running process (``api.heap``): with a large, long-lived
cache and request-like churn (each request's objects alive while others run), Python's
defaults run full passes over the whole heap again and again; after ``settle`` none runs."""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator

import pytest

from api import heap


@pytest.fixture
def collector() -> Iterator[None]:
    """The test's changes to the collector undone after it."""
    before = gc.get_threshold()
    gc.collect()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        gc.collect()


def _cache(entries: int) -> dict[int, dict]:
    """Answers as the search cache keeps them: dicts of lists of dicts."""
    return {i: {"items": [{"id": i, "tags": [j]} for j in range(20)]} for i in range(entries)}


def _full_passes_during_requests(requests: int, in_flight: int = 32) -> int:
    """Full passes while ``requests`` requests run, ``in_flight`` of them alive at a time."""
    before = gc.get_stats()[2]["collections"]
    running: deque[list] = deque()
    for r in range(requests):
        rows = [{"request": r, "row": [k]} for k in range(30)]
        rows.append(rows)  # a cycle, as a future and its callbacks make: only a pass frees it
        running.append(rows)
        if len(running) > in_flight:
            running.popleft()
    return gc.get_stats()[2]["collections"] - before


def test_a_settled_process_runs_no_full_pass_under_request_churn(collector):
    cache = _cache(5_000)
    # given Python's defaults: the requests in flight, promoted and dying old, bring full passes
    gc.set_threshold(700, 10, 10)
    assert _full_passes_during_requests(40_000) > 0
    # given the process settled with its cache
    heap.settle()
    assert gc.get_threshold() == (heap.YOUNG, heap.MIDDLE, heap.OLD)
    assert gc.get_freeze_count() >= len(cache)
    # when the same requests run, then no full pass walks the heap
    assert _full_passes_during_requests(40_000) == 0
