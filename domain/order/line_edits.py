"""Order line edits before shipment: add a line, change a quantity, remove a line.

The handler re-reserves and adjusts the authorization first; this decision then records the
``OrderModified`` (type ``item_added``, ``quantity_changed`` or ``item_removed``, old value
from state, reason and actor) and the ``LinesRevised`` the state folds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.money import Money
from domain.order.decide import require_order
from domain.order.events import LinesRevised, OrderModified
from domain.order.state import OrderState
from domain.order.values import MAX_QUANTITY, OrderLine

KINDS = {"add": "item_added", "change": "quantity_changed", "remove": "item_removed"}


def require_editable(state: OrderState, order_id: UUID) -> OrderState:
    """Lines change only on a confirmed order nothing has been picked or shipped for."""
    require_order(state, order_id)
    if state.split:
        raise Conflict("This order was split; edit its children.", code="order_frozen")
    if state.cancelled:
        raise Conflict("This order is cancelled.", code="order_cancelled")
    if not state.confirmed:
        raise Conflict("The saga has not confirmed this order yet.", code="order_not_confirmed")
    if state.shipments or state.processing:
        raise Conflict(
            "Lines change only before picking and shipment.", code="order_already_fulfilling"
        )
    if state.open_cancellation is not None:
        raise Conflict("A cancellation request is open.", code="cancellation_pending")
    return state


def require_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidCommand(
            f"A quantity is between 1 and {MAX_QUANTITY}.", code="invalid_quantity"
        )
    return quantity


def require_line(state: OrderState, line_id: str):  # noqa: ANN201
    line = state.line(line_id)
    if line is None:
        raise NotFound(f"Line '{line_id}' is not on this order.", code="line_not_found")
    return line


def current_lines(state: OrderState) -> list[OrderLine]:
    return [
        OrderLine(
            line_id=ln.line_id,
            sku=ln.sku,
            product_id=ln.product_id,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            total=ln.total,
        )
        for ln in state.lines
    ]


def totals(
    state: OrderState, lines: list[OrderLine], tax_rate: Decimal, shipping: Money
) -> dict[str, Money]:
    currency = state.currency
    subtotal = Money.zero(currency)
    for line in lines:
        subtotal = subtotal + line.total
    tax = Money.of(subtotal.amount * tax_rate, currency)
    return {
        "subtotal": subtotal,
        "tax": tax,
        "shipping": shipping,
        "total": subtotal + shipping + tax,
    }


def revise(
    state: OrderState,
    order_id: UUID,
    *,
    kind: str,
    line_id: str,
    old_quantity: int | None,
    new_quantity: int | None,
    lines: list[OrderLine],
    money: dict[str, Money],
    allocations: list[dict[str, Any]],
    reason: str,
    actor: str,
) -> list[DomainEvent]:
    require_editable(state, order_id)
    if not reason.strip():
        raise InvalidCommand("A modification needs a reason.", code="reason_required")
    return [
        OrderModified(
            field="lines",
            modification_type=KINDS[kind],  # type: ignore[arg-type]
            old_value=None
            if old_quantity is None
            else {"line_id": line_id, "quantity": old_quantity},
            new_value=None
            if new_quantity is None
            else {"line_id": line_id, "quantity": new_quantity},
            reason=reason,
            actor=actor,
        ),
        LinesRevised(lines=lines, allocations=allocations, **money),
    ]
