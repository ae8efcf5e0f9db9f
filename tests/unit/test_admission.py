"""The door of ``POST /orders`` (``api/admission.py``), on a backlog given as numbers: requests
arriving together share one read of the backlog; a read that fails opens the door; the door
is shut only above the bound and for at most the wait; 0 turns it off; which bound a
deployment's settings ask for."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from api.admission import DEFAULT_MAX_LAG_S, Admission, max_lag_for
from api.errors import ApiError


class Backlog:
    """A backlog that reads as ``values`` in turn (the last one again once they run out), and
    counts its reads."""

    def __init__(self, *values: float | Exception):
        self.values, self.reads = list(values), 0

    async def __call__(self) -> float:
        self.reads += 1
        await asyncio.sleep(0.01)  # a database's round trip
        value = self.values.pop(0) if len(self.values) > 1 else self.values[0]
        if isinstance(value, Exception):
            raise value
        return value


def test_requests_arriving_together_share_one_read():
    backlog = Backlog(0.2)
    door = Admission(backlog, max_lag_s=1.0, max_wait_s=1.0, refresh_s=10.0)

    async def many():
        await asyncio.gather(*(door.enter() for _ in range(32)))

    asyncio.run(many())
    assert backlog.reads == 1
    assert (door.held, door.refused) == (0, 0)


def test_an_order_waits_while_the_backlog_is_above_the_bound_then_goes_in():
    backlog = Backlog(3.0, 2.0, 0.5)
    door = Admission(backlog, max_lag_s=1.0, max_wait_s=5.0, refresh_s=0.0)
    asyncio.run(door.enter())
    assert backlog.reads == 3
    assert (door.held, door.refused) == (1, 0)


def test_an_order_is_turned_away_when_the_wait_runs_out():
    door = Admission(Backlog(4.0), max_lag_s=1.0, max_wait_s=0.1, refresh_s=0.02)
    with pytest.raises(ApiError) as refused:
        asyncio.run(door.enter())
    error = refused.value
    assert (error.status, error.code, error.headers) == (503, "overloaded", {"Retry-After": "1"})
    assert error.details == {"backlog_s": 4.0}
    assert (door.held, door.refused) == (1, 1)


def test_a_backlog_that_cannot_be_read_opens_the_door():
    door = Admission(Backlog(OSError("no database")), max_lag_s=1.0, max_wait_s=0.1)
    asyncio.run(door.enter())
    assert door.backlog_s == 0.0


def test_a_bound_of_zero_never_reads_the_backlog():
    backlog = Backlog(100.0)
    asyncio.run(Admission(backlog, max_lag_s=0.0, max_wait_s=0.1).enter())
    assert backlog.reads == 0


@pytest.mark.parametrize(
    ("asked", "runs_managers", "bound"),
    [(None, True, DEFAULT_MAX_LAG_S), (None, False, 0.0), (2.5, False, 2.5), (0.0, True, 0.0)],
)
def test_the_bound_a_deployment_asks_for(asked, runs_managers, bound):
    settings = SimpleNamespace(admission_max_lag_s=asked, run_processes=runs_managers)
    assert max_lag_for(settings) == bound
