"""A paced follower takes the work that comes while it waits in one step, instead of a step
per arrival; an unpaced one steps again at once, and so does a paced one whose step filled its
batch (it is behind, catching up)."""

import threading
import time

from eventstore.follower import Follower


class Drain(Follower):
    """Test-only: each step takes every item queued so far and records how many."""

    thread_name = "test-drain"

    def __init__(self, pace_s: float, batch: int | None = None):
        super().__init__()
        self.pace_s, self.full_batch = pace_s, batch
        self.queued = 0
        self.steps: list[int] = []
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.queued += 1
        self._wakeup.set()

    def step(self) -> int:
        with self._lock:
            taken = min(self.queued, self.full_batch or self.queued)
            self.queued -= taken
        if taken:
            self.steps.append(taken)
        return taken


def _feed(follower: Drain, items: int, every_s: float) -> None:
    follower.start(idle_s=0.01)
    try:
        for _ in range(items):
            follower.add()
            time.sleep(every_s)
        deadline = time.monotonic() + 5
        while sum(follower.steps) < items and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        follower.stop()


def test_a_paced_follower_takes_what_came_meanwhile_in_one_step():
    # Given a follower paced at 0.3 s
    follower = Drain(pace_s=0.3)
    # When 20 items come over about 0.4 s
    _feed(follower, 20, 0.02)
    # Then every item is taken, in a few steps rather than one per item
    assert sum(follower.steps) == 20
    assert len(follower.steps) <= 5


def test_an_unpaced_follower_steps_for_each_arrival():
    follower = Drain(pace_s=0.0)
    _feed(follower, 20, 0.02)
    assert sum(follower.steps) == 20
    assert len(follower.steps) >= 10


def test_a_paced_follower_behind_takes_full_batches_without_waiting():
    # Given a follower paced at 1 s, in batches of 10, with 100 items queued
    follower = Drain(pace_s=1.0, batch=10)
    follower.queued = 100
    # When it runs
    began = time.monotonic()
    follower.start(idle_s=0.01)
    try:
        while sum(follower.steps) < 100 and time.monotonic() - began < 5:
            time.sleep(0.005)
        took = time.monotonic() - began
    finally:
        follower.stop()
    # Then it took the ten full batches one after another, without a pause between them
    assert follower.steps == [10] * 10
    assert took < 0.9
