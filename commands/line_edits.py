"""Order line edits before shipment (add, change quantity, remove), carried out like the saga
would: re-reserve the stock first (a new confirmed reservation for what is added, release
and re-reserve for what shrinks), then adjust the authorization to the new total (asking the
gateway when it grows), then record the edit on the order. A step that cannot be done rejects
the edit with its reason and undoes the steps before it; nothing is recorded on the order."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from commands import fulfillment, inventory, orders, payments
from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.location_directory import LocationDirectory
from commands.products import price_for_order
from commands.steps import steps
from commands.write_side import WriteSide
from domain.errors import Conflict, InsufficientStock
from domain.ids import payment_stream
from domain.order import line_edits as decide
from domain.order.state import ORDER
from domain.order.values import OrderLine
from domain.payment import decide as pay_decide
from domain.payment.state import PAYMENT
from eventstore.store import EventStore


def _tax_rate(state) -> Decimal:  # noqa: ANN001
    base = state.subtotal.amount - state.discount.amount
    return state.tax.amount / base if base > 0 else Decimal("0")


def _candidates(locations: LocationDirectory, state, line_id: str) -> list[str]:  # noqa: ANN001
    """Where to reserve for ``line_id``: where the line is held, then where the order is,
    then every active location, preferred first (from the Location streams)."""
    mine = [str(a["location"]) for a in state.allocations if a["line_id"] == line_id]
    order = [str(a["location"]) for a in state.allocations]
    seen: list[str] = []
    for code in [*mine, *order, *locations.by_preference()]:
        if code not in seen:
            seen.append(code)
    return seen


def _reserve(  # noqa: ANN202
    store: EventStore,
    locations: LocationDirectory,
    step,  # noqa: ANN001
    state,  # noqa: ANN001
    order_id: UUID,
    line_id: str,
    sku: str,
    qty: int,
    tag: str,
):
    """Reserve ``qty`` at the first candidate location that has it; the allocation entry."""
    available = inventory.get(store, sku)
    for code in _candidates(locations, state, line_id):
        if available.level(code).available < qty:
            continue
        rid = uuid5(order_id, f"{tag}:{line_id}:{code}")
        try:
            inventory.reserve(
                store, step(f"reserve:{code}"), sku=sku, order_id=order_id,
                line_id=UUID(line_id), location=code, quantity=qty, reservation_id=rid, ttl=None,
            )  # fmt: skip
        except InsufficientStock:
            continue
        return {"line_id": line_id, "sku": sku, "location": code, "quantity": qty,
                "reservation_id": str(rid)}  # fmt: skip
    raise InsufficientStock(
        f"No location has {qty} more units of '{sku}' available.",
        details={"sku": sku, "requested": qty},
    )


def edit(
    w: WriteSide,
    ctx: CommandContext,
    order_id: UUID,
    *,
    edit_id: UUID,
    kind: str,
    reason: str,
    line_id: str | None = None,
    sku: str | None = None,
    quantity: int | None = None,
) -> Outcome:
    store, gateway, locations = w.store, w.gateway, w.locations
    state = decide.require_editable(orders.get(store, order_id), order_id)
    step = steps(ctx, f"edit:{edit_id}", correlation_id=str(order_id))
    lines = decide.current_lines(state)
    allocations: list[dict[str, Any]] = [dict(a) for a in state.allocations]
    release: list[dict[str, Any]] = []
    old_q: int | None = None
    if kind == "add":
        assert sku is not None and quantity is not None
        decide.require_quantity(quantity)
        priced = price_for_order(w, sku, state.currency)
        line_id = str(uuid5(order_id, f"line:edit:{edit_id}"))
        lines.append(
            OrderLine(
                line_id=line_id,
                sku=sku,
                product_id=priced.product_id,
                name=priced.name,
                quantity=quantity,
                unit_price=priced.unit_price,
                total=priced.unit_price.times(quantity),
            )  # fmt: skip
        )
        grow = quantity
        new_q: int | None = quantity
    else:
        assert line_id is not None
        line = decide.require_line(state, line_id)
        old_q = line.quantity
        if kind == "remove":
            if len(lines) == 1:
                raise Conflict(
                    "The last line cannot be removed; cancel the order instead.",
                    code="last_line",
                )
            lines = [x for x in lines if x.line_id != line_id]
            new_q, grow = None, 0
        else:
            assert quantity is not None
            new_q = decide.require_quantity(quantity)
            if new_q == old_q:
                return execute(store, ORDER, order_id, lambda s, _v: [], ctx)
            lines = [
                x.model_copy(update={"quantity": new_q, "total": x.unit_price.times(new_q)})
                if x.line_id == line_id
                else x
                for x in lines
            ]
            grow = max(0, new_q - old_q)
        if kind == "remove" or new_q < old_q:  # type: ignore[operator]
            release = [a for a in allocations if a["line_id"] == line_id]
            allocations = [a for a in allocations if a["line_id"] != line_id]
            grow = 0 if kind == "remove" else new_q  # re-reserve what stays
    assert line_id is not None
    target_sku = sku or state.line(line_id).sku  # type: ignore[union-attr]
    money = decide.totals(state, lines, _tax_rate(state), state.shipping)  # type: ignore[arg-type]
    # 1. stock: release what shrinks, reserve what grows (or stays, after a release)
    for i, a in enumerate(release):
        rid = str(a["reservation_id"])
        inventory.release(
            store, step(f"release:{i}"), sku=str(a["sku"]), reservation_id=rid, reason="edited"
        )
    added = None
    if grow:
        tag = f"edit:{edit_id}"
        added = _reserve(store, locations, step, state, order_id, line_id, target_sku, grow, tag)
        allocations.append(added)
    # 2. payment: hold the new total
    pay = payments.get(store, order_id)
    new_total = money["total"].amount
    try:
        reference = ""
        if new_total > pay.authorized:
            token = state.payment.token if state.payment else ""
            answer = gateway.authorize(f"edit:{edit_id}", token, new_total, state.currency, 2.0)
            if answer.outcome != "approved":
                raise Conflict(
                    "The payment gateway declined the new total.",
                    code="payment_declined",
                    details={"reason": answer.reason},
                )
            reference = answer.reference
        execute(
            store, PAYMENT, payment_stream(order_id),
            lambda s, _v: pay_decide.adjust_authorization(
                s, amount=new_total, gateway_reference=reference, reason="order_edited"),
            step("adjust_authorization"),
        )  # fmt: skip
    except Exception:
        if added is not None:  # undo the reservation this edit made
            rid = added["reservation_id"]
            inventory.release(
                store, step("undo"), sku=target_sku, reservation_id=rid, reason="edit_rejected"
            )
        raise
    # 3. the order, then its plans
    result = execute(
        store,
        ORDER,
        order_id,
        lambda s, _v: (
            decide.revise(
                s,
                order_id,
                kind=kind,
                line_id=line_id,
                old_quantity=old_q,
                new_quantity=new_q,
                lines=lines,
                money=money,
                allocations=allocations,
                reason=reason,
                actor=ctx.actor,
            ),
            {"line_id": line_id},
        ),  # fmt: skip
        ctx,
    )
    previous = {str(a["location"]) for a in state.allocations}
    fulfillment.sync_plans(store, step, order_id, previous)
    return dataclasses.replace(result, position=max(result.position, store.head()))
