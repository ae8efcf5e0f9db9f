"""What every inventory decision does around its own events: expire due reservations first,
validate quantities, and raise or resolve alerts for the locations the events touched."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from domain.errors import InvalidCommand
from domain.events import DomainEvent
from domain.inventory.events import (
    ReservationExpired,
    StockAlertRaised,
    StockAlertResolved,
    StockTransferred,
)
from domain.inventory.state import INVENTORY, InventoryState, levels_after

SEVERITY = {"out_of_stock": "critical", "low_stock": "medium"}


def require_positive(quantity: object, name: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidCommand(
            f"The {name} must be a whole number above zero.",
            code="invalid_quantity",
            details={name: quantity},
        )
    return quantity


def expire_due(state: InventoryState, now: datetime) -> list[DomainEvent]:
    """Expired-but-unrecorded reservations hold nothing: record that before anything else,
    the earliest expiry first."""
    due = sorted((at, rid) for rid, at in state.expiring.items() if now > at)
    return [
        ReservationExpired(
            sku=state.sku,
            reservation_id=r.id,
            location=r.location,
            quantity=r.remaining,
            expired_at=r.expires_at,
        )
        for r in (state.reservations[rid] for _, rid in due)
        if r.is_due(now)
    ]


def wanted_alert(state: InventoryState, location: str) -> str | None:
    if location not in state.levels and location not in state.thresholds:
        return None
    available = state.level(location).available
    if available <= 0:
        return "out_of_stock"
    limits = state.thresholds.get(location)
    if limits is not None and available <= limits.reorder_point:
        return "low_stock"
    return None


def _locations(events: Sequence[DomainEvent]) -> list[str]:
    seen: dict[str, None] = {}
    for e in events:
        if isinstance(e, StockTransferred):
            seen[e.from_location] = seen[e.to_location] = None
        elif hasattr(e, "location"):
            seen[e.location] = None
    return list(seen)


def alert_changes(state: InventoryState, locations: Sequence[str]) -> list[DomainEvent]:
    """Resolve open alerts that no longer hold and raise the one that now does (one per kind)."""
    events: list[DomainEvent] = []
    for location in locations:
        want = wanted_alert(state, location)
        available = state.level(location).available
        open_kinds = sorted(kind for loc, kind in state.alerts if loc == location)
        for kind in open_kinds:
            if kind != want:
                events.append(
                    StockAlertResolved(
                        sku=state.sku, location=location, kind=kind, available=available
                    )
                )
        if want is not None and want not in open_kinds:
            events.append(
                StockAlertRaised(
                    sku=state.sku,
                    location=location,
                    kind=want,
                    severity=SEVERITY[want],
                    available=available,
                )
            )
    return events


def decide(
    state: InventoryState,
    sku: str,
    now: datetime,
    command: Callable[[InventoryState], list[DomainEvent]],
) -> list[DomainEvent]:
    """Run ``command`` on the state as of ``now`` and add the expiries and alerts around it."""
    if not state.sku:
        state = replace(state, sku=sku)
    expired = expire_due(state, now)
    current = INVENTORY.fold(expired, state) if expired else state
    events = expired + command(current)
    if not events:
        return []
    after = levels_after(state, events)  # the alerts read levels only
    return events + alert_changes(after, _locations(events))
