"""The order's derived status (``derive_status``) and the table of its legal moves.

No command sets a status: it follows from what the stream recorded (line counts, confirmation,
cancellation, picking). Decisions that record such facts check the move with
``require_transition`` so an order never reaches a status by an illegal step.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import IllegalTransition

STATUSES = (
    "pending",
    "confirmed",
    "processing",
    "partially_shipped",
    "shipped",
    "delivered",
    "returned",
    "cancelled",
)

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"processing", "partially_shipped", "shipped", "cancelled"}),
    "processing": frozenset({"partially_shipped", "shipped", "cancelled"}),
    "partially_shipped": frozenset({"shipped", "delivered"}),
    "shipped": frozenset({"delivered"}),
    "delivered": frozenset({"returned"}),
    "returned": frozenset(),
    "cancelled": frozenset(),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """Unit sums over the lines, and the flags the status table reads."""

    ordered: int = 0
    cancelled_units: int = 0
    shipped: int = 0
    delivered: int = 0
    returned: int = 0
    confirmed: bool = False
    processing: bool = False
    cancelled: bool = False

    @property
    def open(self) -> int:
        return self.ordered - self.cancelled_units


def derive_status(f: StatusFacts) -> str:
    """The first row of the status table that holds."""
    if f.cancelled:
        return "cancelled"
    if f.open > 0 and f.returned == f.open:
        return "returned"
    if f.open > 0 and f.delivered == f.open:
        return "delivered"
    if f.open > 0 and f.shipped == f.open:
        return "shipped"
    if f.shipped > 0:
        return "partially_shipped"
    if f.processing:
        return "processing"
    if f.confirmed:
        return "confirmed"
    return "pending"


def fulfillment_status(f: StatusFacts) -> str:
    if f.open > 0 and f.returned == f.open:
        return "returned"
    if f.returned > 0:
        return "partially_returned"
    if f.open > 0 and f.shipped == f.open:
        return "fulfilled"
    if f.shipped > 0:
        return "partially_fulfilled"
    return "unfulfilled"


def can_move(current: str, requested: str) -> bool:
    return current == requested or requested in TRANSITIONS[current]


def require_transition(current: str, requested: str) -> None:
    if not can_move(current, requested):
        raise IllegalTransition("order", current, requested)
