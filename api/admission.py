"""Admission of new orders: ``POST /orders`` waits while the placement saga, or a view that
follows every order, trails the orders placed by more than ``max_lag_s`` seconds, and answers
``503 overloaded`` with ``Retry-After`` (writing nothing) when that wait would pass
``max_wait_s``.

Why: an acknowledged order is a promise to confirm or cancel it soon. Accepting orders faster
than the saga decides them, or than the views show them, does not sell more; it grows queues
that every later order waits behind (placed → confirmed in seconds, then minutes; a read of
one's own write that gives up after 5 s) and that outlive the load. Holding the door while
the queue is long keeps the acknowledged orders' wait bounded, so that the rate at which
orders are acknowledged is the rate at which the whole system keeps up.

The backlog (``api.order_backlog``: the followers' positions, not a read model's rows) is
read at most once every ``refresh_s``, by one request at a time; the requests arriving
meanwhile use what it read. A read that fails opens the door: the order itself will meet the
same database. ``max_lag_s`` 0 turns admission off; ``max_lag_for`` says what a deployment's
settings ask."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api.errors import ApiError

log = logging.getLogger("ecom.admission")

#: How far the saga or a view may trail before new orders wait, where nothing else is set:
#: orders are then decided and shown within about a second of their acknowledgement even under
#: a load the machine cannot keep up with, and a load of tens of seconds gains little by
#: running ahead.
DEFAULT_MAX_LAG_S = 1.0
WARN_EVERY_S = 60.0  # a backlog that cannot be read is logged at most this often


def max_lag_for(settings: Any) -> float:
    """``ECOM_ADMISSION_MAX_LAG_S`` when set; otherwise the default where this deployment runs
    the process managers (``ecom serve`` sets it for its workers when its own managers' process
    or threads run them), and off where they run elsewhere or nowhere (an API that waited on a
    saga nobody runs would only turn orders away)."""
    if settings.admission_max_lag_s is not None:
        return settings.admission_max_lag_s
    return DEFAULT_MAX_LAG_S if settings.run_processes else 0.0


class Admission:
    """The door: ``enter`` before placing an order. ``read_backlog_s`` reads the backlog."""

    def __init__(
        self,
        read_backlog_s: Callable[[], Awaitable[float]],
        *,
        max_lag_s: float,
        max_wait_s: float,
        refresh_s: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.read_backlog_s = read_backlog_s
        self.max_lag_s, self.max_wait_s, self.refresh_s = max_lag_s, max_wait_s, refresh_s
        self.clock = clock
        self.backlog_s = 0.0
        self._read_at = -math.inf
        self._warned_at = -math.inf
        self._reading: asyncio.Future[None] | None = None
        #: Orders that waited at the door, and orders turned away (``/metrics``).
        self.held = 0
        self.refused = 0

    async def enter(self) -> None:
        """Return once the saga's backlog is within ``max_lag_s``; ``503 overloaded`` if it is
        not within ``max_wait_s``."""
        if self.max_lag_s <= 0 or await self._backlog() <= self.max_lag_s:
            return
        self.held += 1
        deadline = self.clock() + self.max_wait_s
        while await self._backlog() > self.max_lag_s:
            if self.clock() >= deadline:
                self.refused += 1
                raise ApiError(
                    503,
                    "overloaded",
                    f"Orders are arriving faster than they can be confirmed (the oldest "
                    f"unconfirmed was placed {self.backlog_s:.1f} s ago); nothing was written. "
                    "Try again shortly.",
                    details={"backlog_s": round(self.backlog_s, 3)},
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(self.refresh_s)

    async def _backlog(self) -> float:
        if self.clock() - self._read_at >= self.refresh_s:
            if self._reading is None:
                self._reading = asyncio.ensure_future(self._read())
            await asyncio.shield(self._reading)
        return self.backlog_s

    async def _read(self) -> None:
        try:
            self.backlog_s = await self.read_backlog_s()
        except Exception:  # the door opens; the order meets the same database
            if self.clock() - self._warned_at > WARN_EVERY_S:
                self._warned_at = self.clock()
                log.warning("admission: the backlog could not be read", exc_info=True)
            self.backlog_s = 0.0
        finally:
            self._read_at = self.clock()
            self._reading = None
