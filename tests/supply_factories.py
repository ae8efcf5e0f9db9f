"""Builders for the supply tests: a location, catalogued SKUs, a supplier of them, and a
purchase order in any status, each under ids and codes of its own."""

from __future__ import annotations

from uuid import UUID, uuid4

from commands.context import CommandContext
from domain.command import MoneyIn
from domain.location.commands import RegisterLocation
from domain.supply.commands import (
    ApprovePurchaseOrder,
    CreatePurchaseOrder,
    DispatchPurchaseOrder,
    LineIn,
    RegisterSupplier,
    SupplierItemIn,
)
from tests.factories import active_product, send


def ctx() -> CommandContext:
    return CommandContext.new("supply-test")


def location(container) -> str:  # noqa: ANN001
    code = f"SUP-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx())
    return code


def skus(container, n: int) -> list[str]:  # noqa: ANN001
    return [active_product(container, price="10.00")[1] for _ in range(n)]


def item(sku: str, cost: str = "2.50", pack: int = 1, minimum: int = 1) -> SupplierItemIn:
    return SupplierItemIn(
        sku=sku,
        cost=MoneyIn(amount=cost, currency="USD"),
        pack_size=pack,
        min_order_quantity=minimum,
    )


def supplier(container, items: list[SupplierItemIn], lead_time_days: int = 5) -> UUID:  # noqa: ANN001
    command = RegisterSupplier(
        name="Acme", email="orders@acme.example", lead_time_days=lead_time_days, items=items
    )
    return UUID(send(container, command, ctx()).extra["id"])


def purchase_order(
    container,  # noqa: ANN001
    supplier_id: UUID,
    code: str,
    lines: dict[str, int],
    status: str = "pending",
) -> UUID:
    """A purchase order moved on to ``status`` (pending, ordered or in_transit)."""
    command = CreatePurchaseOrder(
        supplier_id=supplier_id,
        location=code,
        lines=[LineIn(sku=s, quantity=q) for s, q in lines.items()],
    )
    order_id = UUID(send(container, command, ctx()).extra["id"])
    if status in ("ordered", "in_transit"):
        send(container, ApprovePurchaseOrder(purchase_order_id=order_id), ctx())
    if status == "in_transit":
        send(container, DispatchPurchaseOrder(purchase_order_id=order_id), ctx())
    return order_id
