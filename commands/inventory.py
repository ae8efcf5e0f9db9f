"""Handlers for the Inventory aggregate (one stream per SKU).

Each checks what the aggregate cannot see (the SKU is known, the locations exist and are active),
then decides on the stream with the clock from the context. Every result's ``extra`` holds the
SKU's totals after the command: ``{sku, on_hand, reserved, available}``.
"""

from __future__ import annotations

from collections.abc import Callable

from commands import locations
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.sku_lookup import SkuOwners
from commands.write_side import WriteSide
from domain.errors import InvalidCommand
from domain.events import DomainEvent
from domain.ids import inventory_stream
from domain.inventory import decide as stock
from domain.inventory import reservations as rsv
from domain.inventory.commands import (
    AdjustStock,
    CommitReservation,
    ConfirmReservation,
    ExpireDueReservations,
    ExpireReservation,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    SetThresholds,
    TransferStock,
)
from domain.inventory.state import INVENTORY, InventoryState
from domain.location.decide import require_active
from eventstore.store import EventStore


def require_known_sku(skus: SkuOwners, sku: str) -> None:
    """``skus`` is the write side's (``WriteSide.skus``)."""
    if skus.owner_of(sku) is None:
        raise InvalidCommand(f"SKU '{sku}' is not in the catalog.", code="unknown_sku")


def require_location(store: EventStore, code: str) -> None:
    state = locations.get(store, code)
    if not state.exists:
        raise InvalidCommand(f"Location '{code}' does not exist.", code="unknown_location")
    require_active(state, code)


def _run(
    store: EventStore,
    ctx: CommandContext,
    sku: str,
    decision: Callable[[InventoryState], list[DomainEvent]],
    **extra: object,
) -> Outcome:
    def step(state: InventoryState, _version: int):
        events = decision(state)
        return events, {"sku": sku, **INVENTORY.fold(events, state).totals(), **extra}

    return execute(store, INVENTORY, inventory_stream(sku), step, ctx)


def receive(w: WriteSide, c: ReceiveStock, ctx: CommandContext) -> Outcome:
    require_known_sku(w.skus, c.sku)
    require_location(w.store, c.location)
    return _run(w.store, ctx, c.sku, lambda s: stock.receive_stock(s, c, ctx.now))


def adjust(w: WriteSide, c: AdjustStock, ctx: CommandContext) -> Outcome:
    require_known_sku(w.skus, c.sku)
    require_location(w.store, c.location)
    return _run(w.store, ctx, c.sku, lambda s: stock.adjust_stock(s, c, ctx.now))


def transfer(w: WriteSide, c: TransferStock, ctx: CommandContext) -> Outcome:
    require_known_sku(w.skus, c.sku)
    require_location(w.store, c.from_location)
    require_location(w.store, c.to_location)
    return _run(w.store, ctx, c.sku, lambda s: stock.transfer_stock(s, c, ctx.now))


def set_thresholds(w: WriteSide, c: SetThresholds, ctx: CommandContext) -> Outcome:
    require_known_sku(w.skus, c.sku)
    require_location(w.store, c.location)
    return _run(w.store, ctx, c.sku, lambda s: stock.set_thresholds(s, c, ctx.now))


def reserve(w: WriteSide, c: ReserveStock, ctx: CommandContext) -> Outcome:
    """Hold units for an order line (the sender names the reservation and its expiry);
    ``result.extra["reservation_id"]`` is its id."""
    require_known_sku(w.skus, c.sku)
    require_location(w.store, c.location)
    return _run(
        w.store,
        ctx,
        c.sku,
        lambda s: rsv.reserve_stock(s, c, ctx.now),
        reservation_id=str(c.reservation_id),
    )


def confirm(w: WriteSide, c: ConfirmReservation, ctx: CommandContext) -> Outcome:
    return _run(w.store, ctx, c.sku, lambda s: rsv.confirm_reservation(s, c, ctx.now))


def release(w: WriteSide, c: ReleaseReservation, ctx: CommandContext) -> Outcome:
    return _run(w.store, ctx, c.sku, lambda s: rsv.release_reservation(s, c, ctx.now))


def expire(w: WriteSide, c: ExpireReservation, ctx: CommandContext) -> Outcome:
    return _run(w.store, ctx, c.sku, lambda s: rsv.expire_reservation(s, c, ctx.now))


def expire_due(w: WriteSide, c: ExpireDueReservations, ctx: CommandContext) -> Outcome:
    """The sweep's command: record every reservation of the SKU that is past its expiry."""
    return _run(w.store, ctx, c.sku, lambda s: rsv.expire_due_reservations(s, c, ctx.now))


def commit(w: WriteSide, c: CommitReservation, ctx: CommandContext) -> Outcome:
    return _run(w.store, ctx, c.sku, lambda s: rsv.commit_reservation(s, c, ctx.now))


HANDLERS = {
    ReceiveStock: receive,
    AdjustStock: adjust,
    TransferStock: transfer,
    SetThresholds: set_thresholds,
    ReserveStock: reserve,
    ConfirmReservation: confirm,
    ReleaseReservation: release,
    ExpireReservation: expire,
    ExpireDueReservations: expire_due,
    CommitReservation: commit,
}


def get(store: EventStore, sku: str) -> InventoryState:
    """The SKU's decision state as of now (its stream folded)."""
    return load(store, INVENTORY, inventory_stream(sku)).state
