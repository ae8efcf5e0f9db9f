"""First-response deadlines: a ticket is due a first agent reply within a time that depends on
its priority (urgent 1 h, high 4 h, normal 24 h, low 72 h), counted from its opening. It is
breached when no agent has replied by then. The clock stops at the first agent reply or at
the first resolution, whichever comes first (a ticket resolved in time is not breached later).
Pure: the reading instant is an argument."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

Priority = Literal["low", "normal", "high", "urgent"]

FIRST_RESPONSE: dict[str, timedelta] = {
    "urgent": timedelta(hours=1),
    "high": timedelta(hours=4),
    "normal": timedelta(hours=24),
    "low": timedelta(hours=72),
}


def first_response_due(opened_at: datetime, priority: str) -> datetime:
    return opened_at + FIRST_RESPONSE[priority]


def sla_breached(due: datetime, responded_at: datetime | None, now: datetime) -> bool:
    """True when no response came by ``due``: none yet and ``now`` is past it, or the first
    one came after it. At ``due`` exactly it is not breached yet."""
    if responded_at is not None:
        return responded_at > due
    return now > due
