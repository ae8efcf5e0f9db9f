"""Test data made through the command layer: unique SKUs and ready-to-sell products."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from weakref import WeakKeyDictionary

from commands import products
from commands.context import CommandContext, Outcome
from commands.dispatcher import Dispatcher
from commands.location_directory import LocationDirectory
from commands.payment_gateway import SandboxGateway
from commands.write_side import WriteSide
from domain.command import Command
from domain.money import Money
from domain.pricing_policy import OrderPricing, ShippingPolicy, TaxPolicy
from eventstore.store import EventStore


def new_sku(prefix: str = "SKU") -> str:
    """A SKU no other call (in any test process) returns."""
    return f"{prefix}-{uuid4().hex[:12]}"


def active_product(
    container, sku: str | None = None, price: str = "19.99", currency: str = "USD"
) -> tuple[UUID, str]:
    """Create a product and move it draft -> pending_approval -> active; return (id, sku)."""
    sku = sku or new_sku()
    product_id = uuid4()
    ctx = CommandContext.new("factory")
    products.create(
        container.store,
        ctx,
        product_id=product_id,
        sku=sku,
        name=f"Product {sku}",
        price=Money.of(Decimal(price), currency),
    )
    products.change_lifecycle(container.store, ctx, product_id, "pending_approval")
    products.change_lifecycle(container.store, ctx, product_id, "active")
    return product_id, sku


_DISPATCHERS: WeakKeyDictionary[EventStore, Dispatcher] = WeakKeyDictionary()


def send(where: Any, command: Command, ctx: CommandContext) -> Outcome:
    """Send ``command`` through the dispatcher of ``where``: the tests' container (its own
    dispatcher), a bare store (a dispatcher over it with the sandbox gateway), or a write side
    (``priced``)."""
    if isinstance(where, WriteSide):
        return Dispatcher(where).handle(command, ctx)
    return _dispatcher(where).handle(command, ctx)


def priced(where: Any, *, tax: TaxPolicy, shipping: ShippingPolicy) -> WriteSide:
    """The write side of ``where`` (as ``send`` finds it) placing orders with these policies."""
    return replace(_dispatcher(where).write, pricing=OrderPricing(tax=tax, shipping=shipping))


def _dispatcher(where: Any) -> Dispatcher:
    dispatcher = getattr(where, "dispatcher", None)
    if dispatcher is None:
        dispatcher = _DISPATCHERS.get(where)
        if dispatcher is None:
            write = WriteSide(
                store=where, gateway=SandboxGateway(), locations=LocationDirectory(where)
            )
            dispatcher = _DISPATCHERS[where] = Dispatcher(write)
    return dispatcher
