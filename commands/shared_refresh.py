"""``SharedRefresh``: one refresh of a write-side directory shared by every caller that needs
one at the same time.

The directories the decisions read (pricing rules, promotions, locations) fold the log's
events of their topics since the position they saw, before each decision: a decision must see
every rule committed before its request began. Done under a lock by each caller in turn,
32 concurrent placements queued behind one another's round trips (most of a placement's wall
time under load). Here a caller returns after a refresh that *began after it asked*: a run
in flight when it arrives is not enough (it may have read before the caller's predecessor
committed), the next one is, and every caller that arrived meanwhile shares it. So at most one
read is in flight per directory, and a burst of callers costs two reads, not one each.

A caller may say instead when its request began (``since``, a ``time.monotonic()`` reading):
then any completed refresh that began after that instant will do, and a decision asking two
directories fed by one read (``commands/directory_feed.py``) pays for one refresh, not two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SharedRefresh:
    def __init__(self, refresh: Callable[[], None]):
        self._refresh = refresh
        self._changed = threading.Condition()
        self._started = 0  # runs begun so far (a run's number is the count when it began)
        self._finished = 0  # the number of the last run that completed without error
        self._running = False
        #: When the last run that completed without error began (``time.monotonic()``).
        self._fresh_since = float("-inf")

    def __call__(self, since: float | None = None) -> None:
        """Return after a refresh that began after this call, or (with ``since``) after
        ``since``: at once when the last completed one did."""
        with self._changed:
            if since is not None and self._fresh_since >= since:
                return
            needed = self._started + 1  # the first run to begin after this call
            while self._finished < needed:
                if not self._running:
                    self._running = True
                    self._started += 1
                    mine = self._started
                    break
                self._changed.wait()
            else:
                return
        done = False
        began = time.monotonic()
        try:
            self._refresh()
            done = True
        finally:
            with self._changed:
                self._running = False
                if done:
                    self._finished = mine
                    self._fresh_since = max(self._fresh_since, began)
                self._changed.notify_all()

    def done(self, began: float) -> None:
        """A refresh that began at ``began`` (``time.monotonic()``) was done by other means (a
        read that also brought what the refresh reads): callers with a ``since`` at or before
        it need no run of their own."""
        with self._changed:
            self._fresh_since = max(self._fresh_since, began)
