"""Times a client reports rather than the server's clock: when a carrier's tracking event or a
delivery attempt happened. The decider takes them as the business time of what it records,
so they must be believable: never before the order they belong to was placed, never later
than now plus a small allowance for a reporter's clock running ahead (``CLOCK_SKEW``, the
default of the setting ``ECOM_CLOCK_SKEW_S``). Pure: the handler passes the bounds, read from
the write side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import InvalidCommand

#: How far ahead of the server's clock a reported time may lie (a reporter's clock is not ours).
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ReportedTimes:
    """The range a reported time must lie in: from ``earliest`` (the order's placement) to
    ``now`` plus ``skew``."""

    earliest: datetime
    now: datetime
    skew: timedelta = CLOCK_SKEW

    @property
    def latest(self) -> datetime:
        return self.now + self.skew

    def require(self, instant: datetime, field: str) -> datetime:
        """``instant`` when it lies in the range; else ``422 <field>_out_of_range``."""
        if self.earliest <= instant <= self.latest:
            return instant
        why = (
            "before the order was placed"
            if instant < self.earliest
            else f"more than {int(self.skew.total_seconds())} s in the future"
        )
        raise InvalidCommand(
            f"'{field}' ({instant.isoformat()}) is {why}.",
            code=f"{field}_out_of_range",
            details={
                "field": field,
                "value": instant.isoformat(),
                "earliest": self.earliest.isoformat(),
                "latest": self.latest.isoformat(),
            },
        )
