"""Test data made through the command layer: unique SKUs and ready-to-sell products."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from weakref import WeakKeyDictionary

from commands.context import CommandContext, Outcome
from commands.dispatcher import Dispatcher
from commands.payment_gateway import SandboxGateway
from commands.write_side import WriteSide
from domain.command import Command
from domain.money import Money
from domain.pricing_policy import OrderPricing, ShippingPolicy, TaxPolicy
from domain.product.commands import ChangeLifecycle, CreateProduct
from eventstore.store import EventStore


def new_sku(prefix: str = "SKU") -> str:
    """A SKU no other call (in any test process) returns."""
    return f"{prefix}-{uuid4().hex[:12]}"


def active_product(
    container, sku: str | None = None, price: str = "19.99", currency: str = "USD"
) -> tuple[UUID, str]:
    """Create a product and move it draft -> pending_approval -> active; return (id, sku)."""
    sku = sku or new_sku()
    ctx = CommandContext.new("factory")
    created = send(
        container,
        CreateProduct(sku=sku, name=f"Product {sku}", price=Money.of(Decimal(price), currency)),
        ctx,
    )
    product_id = created.stream_id
    send(container, ChangeLifecycle(product_id=product_id, status="pending_approval"), ctx)
    send(container, ChangeLifecycle(product_id=product_id, status="active"), ctx)
    return product_id, sku


def _handlers() -> dict:
    """The program's whole table: the core's handlers and every capability's."""
    from composition.bootstrap import CAPABILITIES
    from composition.capabilities import combine

    return combine(CAPABILITIES).handlers


_DISPATCHERS: WeakKeyDictionary[EventStore, Dispatcher] = WeakKeyDictionary()


def dispatcher_of(where: Any) -> Dispatcher:
    """The tests' container's own dispatcher, or for a bare store one over it (with the
    sandbox gateway), the same for every call with that store."""
    dispatcher = getattr(where, "dispatcher", None)
    if dispatcher is None:
        dispatcher = _DISPATCHERS.get(where)
        if dispatcher is None:
            write = WriteSide.over(where, SandboxGateway())
            dispatcher = _DISPATCHERS[where] = Dispatcher(write, _handlers())
    return dispatcher


def write_of(where: Any) -> WriteSide:
    """The write side of ``where`` (a container or a bare store), for the functions that take
    one and are not commands yet."""
    return dispatcher_of(where).write


def send(where: Any, command: Command, ctx: CommandContext) -> Outcome:
    """Send ``command`` through the dispatcher of ``where``: the tests' container (its own
    dispatcher), a bare store (a dispatcher over it with the sandbox gateway), or a write side
    (``priced``)."""
    if isinstance(where, WriteSide):
        return Dispatcher(where, _handlers()).handle(command, ctx)
    return dispatcher_of(where).handle(command, ctx)


def priced(where: Any, *, tax: TaxPolicy, shipping: ShippingPolicy) -> WriteSide:
    """The write side of ``where`` placing orders with these pricing policies."""
    return replace(write_of(where), pricing=OrderPricing(tax=tax, shipping=shipping))
