"""The return window: units come back within 30 days of their delivery.

Pure: the handler passes each line's deliveries (units and their shipment's recorded delivery
time, the carrier's as the delivered event holds it), the units already in returns, and the
command's clock. Returns are counted against the oldest deliveries first, which is the most
the customer may still send back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import InvalidCommand

RETURN_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Delivery:
    """``quantity`` units of one line delivered at ``delivered_at``."""

    line_id: str
    quantity: int
    delivered_at: datetime


def returnable_in_window(
    deliveries: Sequence[Delivery],
    in_returns: int,
    now: datetime,
    window: timedelta = RETURN_WINDOW,
) -> int:
    """Units of one line that may still be asked back at ``now``: those delivered within the
    window, less the returns that the older deliveries cannot account for."""
    recent = sum(d.quantity for d in deliveries if d.delivered_at >= now - window)
    old = sum(d.quantity for d in deliveries) - recent
    return max(0, recent - max(0, in_returns - old))


def require_within_window(
    requested: Mapping[str, int],
    deliveries: Sequence[Delivery],
    in_returns: Mapping[str, int],
    now: datetime,
    window: timedelta = RETURN_WINDOW,
) -> None:
    """Refuse (422 ``return_window_closed``) a line asking back more units than were
    delivered within the window and are not already in a return."""
    for line_id, quantity in requested.items():
        mine = [d for d in deliveries if d.line_id == line_id]
        room = returnable_in_window(mine, in_returns.get(line_id, 0), now, window)
        if quantity > room:
            last = max((d.delivered_at for d in mine), default=None)
            raise InvalidCommand(
                f"Line '{line_id}': the {window.days}-day return window has closed for "
                f"{quantity - room} of the {quantity} units asked back.",
                code="return_window_closed",
                details={
                    "line_id": line_id,
                    "requested": quantity,
                    "returnable_in_window": room,
                    "last_delivered_at": last.isoformat() if last else None,
                    "window_days": window.days,
                },
            )
