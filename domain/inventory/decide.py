"""Decisions that move stock: receive, adjust, transfer, and set a location's thresholds.

Each takes the state, the command (``commands.py``) and the clock, and returns the events to
record."""

from __future__ import annotations

from datetime import datetime

from domain.errors import InsufficientStock, InvalidCommand
from domain.events import DomainEvent
from domain.inventory.commands import AdjustStock, ReceiveStock, SetThresholds, TransferStock
from domain.inventory.events import StockAdjusted, StockReceived, StockTransferred, ThresholdsSet
from domain.inventory.rules import decide, require_positive
from domain.inventory.state import InventoryState, Thresholds

#: Adjustment reasons that name their own movement type, with the sign they require.
REASON_TYPES = {"damage": -1, "loss": -1, "return": 1, "count_correction": 0}


def _shortfall(location: str, requested: int, available: int, what: str) -> InsufficientStock:
    return InsufficientStock(
        f"Only {available} units are available at '{location}'; {what} needs {requested}.",
        details={"location": location, "requested": requested, "available": available},
    )


def receive_stock(state: InventoryState, c: ReceiveStock, now: datetime) -> list[DomainEvent]:
    require_positive(c.quantity)
    received = StockReceived(
        sku=c.sku, location=c.location, quantity=c.quantity, reference=c.reference
    )
    return decide(state, c.sku, now, lambda s: [received])


def movement_type(delta: int, reason: str) -> str:
    sign = REASON_TYPES.get(reason.strip().lower())
    if sign is None or (sign and sign * delta < 0):
        return "adjustment"
    return reason.strip().lower()


def adjust_stock(state: InventoryState, c: AdjustStock, now: datetime) -> list[DomainEvent]:
    sku, location, delta, reason = c.sku, c.location, c.delta, c.reason
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidCommand("The delta must be a non-zero whole number.", code="invalid_delta")
    if not reason or not reason.strip():
        raise InvalidCommand("An adjustment needs a reason.", code="reason_required")

    def command(s: InventoryState) -> list[DomainEvent]:
        level = s.level(location)
        if level.on_hand + delta < level.reserved:
            raise InsufficientStock(
                f"Adjusting '{location}' by {delta} would leave {level.on_hand + delta} on hand, "
                f"below the {level.reserved} reserved.",
                details={
                    "location": location,
                    "on_hand": level.on_hand,
                    "delta": delta,
                    "reserved": level.reserved,
                },
            )
        kind = movement_type(delta, reason)
        return [
            StockAdjusted(
                sku=sku, location=location, delta=delta, reason=reason, movement_type=kind
            )
        ]

    return decide(state, sku, now, command)


def transfer_stock(state: InventoryState, c: TransferStock, now: datetime) -> list[DomainEvent]:
    sku, from_location, to_location, quantity = c.sku, c.from_location, c.to_location, c.quantity
    require_positive(quantity)
    if from_location == to_location:
        raise InvalidCommand("A transfer needs two different locations.", code="same_location")

    def command(s: InventoryState) -> list[DomainEvent]:
        available = s.level(from_location).available
        if quantity > available:
            raise _shortfall(from_location, quantity, available, "the transfer")
        return [
            StockTransferred(
                sku=sku, from_location=from_location, to_location=to_location, quantity=quantity
            )
        ]

    return decide(state, sku, now, command)


def set_thresholds(state: InventoryState, c: SetThresholds, now: datetime) -> list[DomainEvent]:
    sku, location = c.sku, c.location
    reorder_point, reorder_quantity, max_stock = c.reorder_point, c.reorder_quantity, c.max_stock
    if isinstance(reorder_point, bool) or not isinstance(reorder_point, int) or reorder_point < 0:
        raise InvalidCommand("The reorder point must be zero or more.", code="invalid_thresholds")
    if reorder_quantity is not None:
        require_positive(reorder_quantity, "reorder_quantity")
    if max_stock is not None and (require_positive(max_stock, "max_stock") < reorder_point):
        raise InvalidCommand(
            "The maximum stock cannot be below the reorder point.", code="invalid_thresholds"
        )
    wanted = Thresholds(reorder_point, reorder_quantity, max_stock)

    def command(s: InventoryState) -> list[DomainEvent]:
        if s.thresholds.get(location) == wanted:
            return []
        return [
            ThresholdsSet(
                sku=sku,
                location=location,
                reorder_point=reorder_point,
                reorder_quantity=reorder_quantity,
                max_stock=max_stock,
            )
        ]

    return decide(state, sku, now, command)
