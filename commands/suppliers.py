"""Handlers for suppliers: registering one lists it on each of its SKUs' supplier streams in the
same transaction (``domain/supply/suppliers.py``), each at the version it was read at."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.inventory import require_known_sku
from commands.write_side import WriteSide
from domain.events import DomainEvent
from domain.supply import suppliers as d
from domain.supply.commands import RegisterSupplier
from domain.supply.events import SupplierRegistered
from eventstore.store import EventStore, StreamAppend


def _listings(store: EventStore, supplier_id: UUID, events: Sequence[DomainEvent]):
    registered = next(e for e in events if isinstance(e, SupplierRegistered))
    appends = []
    for item in registered.items:
        stream = d.supplier_sku_stream(item.sku)
        loaded = load(store, d.SUPPLIER_SKU, stream)
        event = d.listed(supplier_id, registered, item)
        appends.append(StreamAppend(stream, loaded.version, [event], not_before=loaded.last_at))
    return appends


def register(w: WriteSide, c: RegisterSupplier, ctx: CommandContext) -> Outcome:
    """A new supplier under a new id (``extra["id"]``); every SKU must be in the catalog."""
    for item in c.items:
        require_known_sku(w.skus, item.sku)
    supplier_id = uuid4()

    def decide(state: d.SupplierState, _version: int):
        return d.register_supplier(state, c), {"id": str(supplier_id)}

    return execute(
        w.store,
        d.SUPPLIER,
        supplier_id,
        decide,
        ctx,
        also=lambda _s, events: _listings(w.store, supplier_id, events),
    )


HANDLERS = {RegisterSupplier: register}
