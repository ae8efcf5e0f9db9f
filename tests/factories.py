"""Test data made through the command layer: unique SKUs and ready-to-sell products."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

from commands import products
from commands.context import CommandContext
from domain.money import Money


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
