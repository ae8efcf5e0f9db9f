"""Order line edits before shipment: add a line, change a quantity, remove a line.

An edit is decided in three steps, one edit at a time per order:

- ``request_edit``: what the order itself can check when the edit is asked for (it exists,
  is confirmed, nothing picked or shipped, not cancelled or split, the line exists, the
  quantity is valid, no other edit pending) records ``LineEditRequested``;
- ``plan_edit``: what carrying it out means (new lines and totals, which reservations to
  release, how many units to reserve), for the line edit manager, which re-reserves and
  re-authorizes;
- ``apply_edit`` records the ``OrderModified`` (type ``item_added``, ``quantity_changed`` or
  ``item_removed``, old value, reason and actor of the request) and the ``LinesRevised`` the
  state folds; ``reject_edit`` records ``LineEditRejected`` with its reason instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.money import Money
from domain.order.decide import require_order
from domain.order.events import LineEditRejected, LineEditRequested, LinesRevised, OrderModified
from domain.order.line_edit_commands import AddLine, ChangeLine, LineEdit, RemoveLine
from domain.order.state import OrderState
from domain.order.values import MAX_QUANTITY, OrderLine, PricedLine

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
    if state.discount is not None and state.discount.amount > 0:
        # Its discounts were decided over the whole order (conditions, limits, the best
        # non-stackable one): changing its lines would leave them out of step with its totals.
        raise InvalidCommand(
            "The lines of an order that got promotions do not change; cancel it and place "
            "the order again.",
            code="promotion_line_edit_unsupported",
            details={"discount": str(state.discount.amount)},
        )
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


def tax_rate(state: OrderState) -> Decimal:
    """The rate the order was taxed at (tax over subtotal less discount)."""
    assert state.subtotal is not None and state.discount is not None and state.tax is not None
    base = state.subtotal.amount - state.discount.amount
    return state.tax.amount / base if base > 0 else Decimal("0")


def totals(
    state: OrderState, lines: list[OrderLine], rate: Decimal, shipping: Money
) -> dict[str, Money]:
    currency = state.currency
    subtotal = Money.zero(currency)
    for line in lines:
        subtotal = subtotal + line.total
    tax = Money.of(subtotal.amount * rate, currency)
    return {
        "subtotal": subtotal,
        "tax": tax,
        "shipping": shipping,
        "total": subtotal + shipping + tax,
    }


# ---- asking for an edit ------------------------------------------------------------------


def request_edit(
    state: OrderState,
    command: LineEdit,
    now: datetime,
    *,
    edit_id: UUID,
    actor: str,
    new_line_id: str | None = None,
    priced: PricedLine | None = None,
) -> list[DomainEvent]:
    """Record the edit asked for, once the order's own state allows it; a quantity changed
    to what it is records nothing. ``new_line_id`` and ``priced`` (the catalog's price now)
    come with an ``AddLine``."""
    del now  # the event's time is its metadata's
    require_editable(state, command.order_id)
    if state.pending_edit is not None:
        raise Conflict(
            "Another line edit of this order is still being carried out; follow it on the "
            "order (last_edit) and try again once it is applied or rejected.",
            code="edit_in_progress",
            details={"edit_id": str(state.pending_edit.edit_id)},
        )
    if not command.reason.strip():
        raise InvalidCommand("A modification needs a reason.", code="reason_required")
    common = {"edit_id": edit_id, "reason": command.reason, "actor": actor}
    match command:
        case AddLine():
            require_quantity(command.quantity)
            assert new_line_id is not None and priced is not None
            return [
                LineEditRequested(
                    kind="add",
                    line_id=new_line_id,
                    sku=command.sku,
                    quantity=command.quantity,
                    old_quantity=None,
                    product_id=priced.product_id,
                    name=priced.name,
                    unit_price=priced.unit_price,
                    **common,
                )  # fmt: skip
            ]
        case ChangeLine():
            line = require_line(state, command.line_id)
            require_quantity(command.quantity)
            if command.quantity == line.quantity:
                return []
            return [
                LineEditRequested(
                    kind="change",
                    line_id=line.line_id,
                    sku=line.sku,
                    quantity=command.quantity,
                    old_quantity=line.quantity,
                    **common,
                )  # fmt: skip
            ]
        case RemoveLine():
            line = require_line(state, command.line_id)
            if len(state.lines) == 1:
                raise Conflict(
                    "The last line cannot be removed; cancel the order instead.",
                    code="last_line",
                )
            return [
                LineEditRequested(
                    kind="remove",
                    line_id=line.line_id,
                    sku=line.sku,
                    quantity=None,
                    old_quantity=line.quantity,
                    **common,
                )  # fmt: skip
            ]
    raise TypeError(f"not a line edit: {type(command).__name__}")


# ---- carrying it out ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EditPlan:
    """What an edit comes to: the order's lines and totals after it, the allocations it keeps
    and those it releases, and how many units of ``sku`` to reserve for ``line_id``."""

    line_id: str
    sku: str
    lines: list[OrderLine]
    money: dict[str, Money]
    kept: list[dict[str, Any]]
    release: list[dict[str, Any]]
    reserve: int

    @property
    def total(self) -> Decimal:
        return self.money["total"].amount


def plan_edit(state: OrderState, edit: LineEditRequested) -> EditPlan:
    """The steps of ``edit`` on ``state`` (the order it was requested on): a line that grows
    reserves what it adds; one that shrinks releases its reservations and reserves what stays
    (a reservation is never cut in part); a removed line releases its reservations."""
    lines = current_lines(state)
    allocations = [dict(a) for a in state.allocations]
    mine = [a for a in allocations if a["line_id"] == edit.line_id]
    others = [a for a in allocations if a["line_id"] != edit.line_id]
    if edit.kind == "add":
        assert edit.quantity is not None and edit.unit_price is not None
        assert edit.product_id is not None
        lines.append(
            OrderLine(
                line_id=edit.line_id,
                sku=edit.sku,
                product_id=edit.product_id,
                name=edit.name,
                quantity=edit.quantity,
                unit_price=edit.unit_price,
                total=edit.unit_price.times(edit.quantity),
            )  # fmt: skip
        )
        kept, release, reserve = allocations, [], edit.quantity
    elif edit.kind == "remove":
        lines = [x for x in lines if x.line_id != edit.line_id]
        kept, release, reserve = others, mine, 0
    else:
        new, old = edit.quantity, edit.old_quantity
        assert new is not None and old is not None
        lines = [
            x.model_copy(update={"quantity": new, "total": x.unit_price.times(new)})
            if x.line_id == edit.line_id
            else x
            for x in lines
        ]
        if new < old:
            kept, release, reserve = others, mine, new
        else:
            kept, release, reserve = allocations, [], new - old
    assert state.shipping is not None
    money = totals(state, lines, tax_rate(state), state.shipping)
    return EditPlan(edit.line_id, edit.sku, lines, money, kept, release, reserve)


def pending(state: OrderState, edit_id: UUID) -> LineEditRequested | None:
    """The edit, while it waits to be applied or rejected."""
    p = state.pending_edit
    return p if p is not None and p.edit_id == edit_id else None


def apply_edit(
    state: OrderState, order_id: UUID, *, edit_id: UUID, added: dict[str, Any] | None
) -> list[DomainEvent]:
    """Record the pending edit ``edit_id`` as done, with ``added`` the allocation of what it
    reserved (None when it reserved nothing); an edit no longer pending records nothing."""
    edit = pending(state, edit_id)
    if edit is None:
        return []
    require_editable(state, order_id)
    plan = plan_edit(state, edit)
    allocations = [*plan.kept, *([added] if added is not None else [])]
    return [
        OrderModified(
            field="lines",
            modification_type=KINDS[edit.kind],  # type: ignore[arg-type]
            old_value=None
            if edit.old_quantity is None
            else {"line_id": edit.line_id, "quantity": edit.old_quantity},
            new_value=None
            if edit.quantity is None
            else {"line_id": edit.line_id, "quantity": edit.quantity},
            reason=edit.reason,
            actor=edit.actor,
        ),
        LinesRevised(lines=plan.lines, allocations=allocations, edit_id=edit_id, **plan.money),
    ]


def reject_edit(
    state: OrderState, *, edit_id: UUID, reason: str, message: str = ""
) -> list[DomainEvent]:
    """Record why the pending edit ``edit_id`` cannot be done; one no longer pending records
    nothing."""
    if pending(state, edit_id) is None:
        return []
    return [LineEditRejected(edit_id=edit_id, reason=reason, message=message)]
