"""The base of everything that follows the event log: the projection runner, the process
managers, the audit chainer, the webhook dispatcher and the notification sender.

A follower keeps a tracked position, takes an advisory lock from ``eventstore.lock_keys`` so
that one process at a time advances it, wakes on the store's commits
(``eventstore/wakeups.py``, one ``LISTEN`` per process; or polls), handles the log in batches,
and never lets one event stall it:

- **Infrastructure errors** (``is_infrastructure``: the database unreachable, a connection
  lost, a lock or pool timeout) are nobody's event's fault: the loop backs off (doubling, up to
  ``max_backoff_s``) and retries the same batch; nothing is ever parked for them.
- **An event that fails** is retried ``attempts`` times with a growing delay (``Attempts``),
  the follower holding its position just before it meanwhile; then it is parked in the
  ``ParkingLot`` (``eventstore/parking.py``) with the later events of its stream behind it,
  and the follower moves on with every other stream.

Subclasses implement ``step`` (one batch or pass; how many events it saw). The loop, the
backoff and the retry bookkeeping live here; where and how a batch is isolated to find the
failing event is the subclass's (savepoints for a view, one trigger at a time for a process
manager, one message for the relay).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from eventstore.wakeups import Wakeups, topic_mask, wakeups_for

log = logging.getLogger(__name__)
EVENTS_TABLE = "stored_events"
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # connection lost or refused, lock timeout, admin shutdown
    psycopg.InterfaceError,  # a closed connection or pool
    PoolTimeout,
    ConnectionError,
    TimeoutError,
)


def is_infrastructure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is the database or the network, not the event."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, INFRASTRUCTURE_ERRORS):
            return True
        if isinstance(seen, psycopg.errors.QueryCanceled):  # statement or lock timeout
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing event is tried before it is parked, and how long between tries."""

    attempts: int = 3
    backoff_s: float = 0.2
    max_backoff_s: float = 5.0

    def delay(self, tries: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * 2 ** max(0, tries - 1))


class Attempts:
    """Failed tries per (follower, position) in this process, and when the next is due."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self._tries: dict[tuple[str, int], int] = {}
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()  # the process managers' loops share one

    def failed(self, follower: str, position: int) -> int:
        """Count one more failure; return the tries so far. Sets the follower's next due time."""
        key = (follower, position)
        with self._lock:
            tries = self._tries.get(key, 0) + 1
            self._tries[key] = tries
            self._due[follower] = time.monotonic() + self.policy.delay(tries)
        return tries

    def exhausted(self, tries: int) -> bool:
        return tries >= self.policy.attempts

    def clear(self, follower: str, position: int | None = None) -> None:
        """Forget the follower's failures at ``position`` (default: all of them)."""
        with self._lock:
            if position is not None:
                self._tries.pop((follower, position), None)
            else:
                for key in [k for k in self._tries if k[0] == follower]:
                    del self._tries[key]
            self._due.pop(follower, None)

    def due(self, follower: str) -> bool:
        return self._due.get(follower, 0.0) <= time.monotonic()

    def waiting(self) -> dict[str, float]:
        """Followers backing off -> monotonic time they are due."""
        with self._lock:
            return dict(self._due)


@dataclass(frozen=True)
class FollowerStatus:
    name: str
    position: int
    head: int
    parked: int = 0

    @property
    def lag(self) -> int:
        return max(0, self.head - self.position)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "position": self.position,
            "head": self.head,
            "lag": self.lag,
            "parked": self.parked,
        }


class Follower(ABC):
    """A background loop over ``step``: wake-up, idle wait, backoff on infrastructure errors."""

    #: Thread name, and what the log says.
    thread_name = "follower"
    #: How long the loop waits when a step saw nothing and it is not woken by commits.
    idle_s = 0.2
    #: How long it may wait when commits wake it (a poll in case a wake-up was lost).
    quiet_s = 5.0
    #: After a step that found work but did not fill its batch, the loop waits until this long
    #: after that step began before the next (0: at once; ``pace_after``). Work that comes
    #: meanwhile is taken in one step: for a follower whose every pass costs the same whatever
    #: it carries, and whose lag nobody waits on, fewer and larger passes.
    pace_s = 0.0
    #: A step that saw this many events filled its batch: the follower is behind and is not
    #: paced (None: no batch limit to tell by).
    full_batch: int | None = None
    max_backoff_s = 5.0

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._wakeup = threading.Event()
        self._thread: threading.Thread | None = None
        self._wakeups: Wakeups | None = None

    @abstractmethod
    def step(self) -> int:
        """One batch (or pass): return how many events it saw (0: nothing to do)."""

    def after_step(self, seen: int, started: float) -> None:
        """Called after each step that did not raise (``started``: its monotonic start)."""
        return None

    def start(self, listen_url: str | None = None, *, idle_s: float | None = None) -> None:
        """Run ``step`` in a thread of its own. With ``listen_url`` the loop is woken by the
        store's commits (``eventstore/wakeups.py``) and, with nothing to do, sleeps up to
        ``quiet_s``; without it, it polls every ``idle_s``."""
        if idle_s is not None:
            self.idle_s = idle_s
        self._stop.clear()
        self._wakeups = None if listen_url is None else wakeups_for(listen_url, EVENTS_TABLE)
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wake_topics(self) -> Iterable[str] | None:
        """The topics whose commits wake this follower (None: every commit). Asked when the
        loop starts and on ``listen_again``."""
        return None

    def hurry_event(self) -> threading.Event | None:
        """Set when a reader elsewhere asks this follower to step now (``wakeups.HURRY``);
        None: it is not asked."""
        return None

    def listen_again(self) -> None:
        """Wake on the topics ``wake_topics`` says now (a follower whose topics changed calls
        this), and take one more step: a commit of a new topic may have come meanwhile."""
        if self._wakeups is not None:
            self._wakeups.subscribe(
                self._wakeup, topic_mask(self.wake_topics()), self.hurry_event()
            )
            self._wakeup.set()

    def pace_after(self, seen: int) -> float:
        """How long after the start of a step that saw ``seen`` events the next may begin:
        ``pace_s``, or 0 after a step that filled its batch (``full_batch``): the follower is
        behind, catching up."""
        full = self.full_batch
        return 0.0 if full is not None and seen >= full else self.pace_s

    def quiet_wait_s(self) -> float:
        """How long the loop may sleep after a step that found nothing, when commits wake it:
        ``quiet_s``, or ``idle_s`` while something of its own is due sooner (a retry after a
        failure). Subclasses with work on a clock of their own shorten it."""
        return self.quiet_s

    @property
    def hinted_head(self) -> int | None:
        """The highest position announced by a commit of this follower's topics (``None`` when
        not listening, or unknown): a follower that has handled up to it has nothing new to
        read, whatever else was committed meanwhile."""
        return None if self._wakeups is None else self._wakeups.head_of(self._wakeup)

    def _loop(self) -> None:
        wakeups = self._wakeups
        if wakeups is not None:
            wakeups.subscribe(self._wakeup, topic_mask(self.wake_topics()), self.hurry_event())
        backoff = 0.1
        try:
            while not self._stop.is_set():
                try:
                    started = time.monotonic()
                    self._wakeup.clear()  # a commit from now on wakes the wait below
                    seen = self.step()
                    backoff = 0.1
                    self.after_step(seen, started)
                    if not seen:
                        quiet = self.idle_s if wakeups is None else self.quiet_wait_s()
                        self._wakeup.wait(quiet)
                    elif self.pace_s > 0:
                        self._stop.wait(self.pace_after(seen) - (time.monotonic() - started))
                except Exception as exc:  # keep following; the next step retries the same range
                    if is_infrastructure(exc):
                        log.warning("%s: %s; retrying in %.1f s", self.thread_name, exc, backoff)
                    else:
                        log.exception("%s failed; retrying in %.1f s", self.thread_name, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            if wakeups is not None:
                wakeups.unsubscribe(self._wakeup)
