"""Order decisions about what happens after placement: splits, shipments, deliveries, returns,
partial cancellation and cancellation requests.

Each returns the events to append to the order's stream; an empty list means "already done,
write nothing" (the saga's steps repeat safely)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent
from domain.money import Money, round_money
from domain.order.decide import require_order
from domain.order.events import (
    CancellationCompleted,
    CancellationRequested,
    CancellationReviewed,
    FulfillmentStarted,
    LinesDelivered,
    LinesReturned,
    LinesShipped,
    OrderLinesCancelled,
    OrderPlaced,
    OrderSplit,
    ReturnClosed,
    ReturnOpened,
    ShipmentCancelledOnOrder,
    ShipmentOpened,
)
from domain.order.fulfillment_commands import (
    CancelUnshippedLines,
    CompleteCancellation,
    LineUnits,
    RecordLinesDelivered,
    RecordLinesShipped,
    RequestCancellation,
    ReviewCancellation,
    SplitOrder,
)
from domain.order.state import LineState, OrderState
from domain.order.values import Address, LineQuantity, PaymentRef
from domain.shipment.commands import OpenShipment

CANCELLATION_REASONS = frozenset(
    {
        "customer_request",
        "out_of_stock",
        "payment_declined",
        "fraud_detected",
        "duplicate_order",
        "address_issue",
        "pricing_error",
        "other",
    }
)


def require_live(state: OrderState, order_id: UUID) -> OrderState:
    """The order exists, is not cancelled and was not split (a split parent is frozen)."""
    require_order(state, order_id)
    if state.split:
        raise Conflict("This order was split; act on its children.", code="order_frozen")
    if state.cancelled:
        raise Conflict("This order is cancelled.", code="order_cancelled")
    return state


def _quantities(
    state: OrderState, lines: Sequence[LineQuantity] | Sequence[LineUnits]
) -> dict[str, int]:
    """Per line, the summed quantity; unknown lines and quantities < 1 are invalid."""
    if not lines:
        raise InvalidCommand("Name at least one line.", code="no_lines")
    out: Counter[str] = Counter()
    for x in lines:
        if state.line(x.line_id) is None:
            raise InvalidCommand(
                f"Line '{x.line_id}' is not on this order.",
                code="unknown_line",
                details={"line_id": x.line_id},
            )
        if x.quantity < 1:
            raise InvalidCommand("Quantities are at least 1.", code="invalid_quantity")
        out[x.line_id] += x.quantity
    return dict(out)


def _as_lines(quantities: dict[str, int]) -> list[LineQuantity]:
    return [LineQuantity(line_id=k, quantity=v) for k, v in quantities.items()]


# ---- splits ------------------------------------------------------------------------------


def split_order(
    state: OrderState,
    c: SplitOrder,
    children: Sequence[tuple[UUID, int]],
    placed_by: str,
    now: datetime,
) -> tuple[list[DomainEvent], list[tuple[UUID, OrderPlaced]]]:
    """The parent's ``OrderSplit`` and each child's ``OrderPlaced`` (``children`` gives an id
    and a number per part). Every line's parts sum to its quantity."""
    order_id, reason, parts = c.order_id, c.reason, c.parts
    require_live(state, order_id)
    if state.shipments:
        raise Conflict("A shipment is already open.", code="order_already_shipping")
    if not reason.strip():
        raise InvalidCommand("A split needs a reason.", code="reason_required")
    if len(parts) < 2:
        raise InvalidCommand("A split has at least two parts.", code="split_too_few_parts")
    per_part = []
    for part in parts:
        if not part.lines:
            raise InvalidCommand("Every part names at least one line.", code="split_empty_part")
        per_part.append(_quantities(state, part.lines))
    total: Counter[str] = Counter()
    for q in per_part:
        total.update(q)
    for ln in state.lines:
        if total.get(ln.line_id, 0) != ln.quantity:
            raise InvalidCommand(
                f"Line '{ln.line_id}': the parts sum to {total.get(ln.line_id, 0)}, "
                f"the order has {ln.quantity}.",
                code="split_quantities_mismatch",
                details={"line_id": ln.line_id},
            )
    assert state.subtotal and state.tax and state.shipping and state.total
    currency = state.currency
    zero = Money(amount=Decimal("0"), currency=currency)
    child_events: list[tuple[UUID, OrderPlaced]] = []
    tax_left = state.tax.amount
    for i, (part, q, (child_id, number)) in enumerate(zip(parts, per_part, children, strict=True)):
        lines = []
        for line_id, quantity in q.items():
            ln = state.line(line_id)
            assert ln is not None
            amount = round_money(ln.unit_price.amount * quantity, currency)
            lines.append(
                {
                    "line_id": ln.line_id,
                    "sku": ln.sku,
                    "product_id": ln.product_id,
                    "quantity": quantity,
                    "unit_price": ln.unit_price,
                    "total": Money(amount=amount, currency=currency),
                }
            )
        subtotal = sum((x["total"].amount for x in lines), Decimal("0"))
        last = i == len(parts) - 1
        share = (
            tax_left
            if last
            else round_money(state.tax.amount * subtotal / (state.subtotal.amount or 1), currency)
        )
        tax_left -= share
        shipping = state.shipping if i == 0 else zero
        tax = Money(amount=share, currency=currency)
        child_events.append(
            (
                child_id,
                OrderPlaced(
                    order_number=number,
                    customer_id=state.customer_id,
                    channel=state.channel,
                    currency=currency,
                    lines=lines,
                    shipping_address=state.shipping_address or Address.model_validate({}),
                    billing_address=state.billing_address,
                    payment=state.payment or PaymentRef(token="tok_visa"),
                    priority=state.priority,
                    gift=state.gift,
                    scheduled_delivery=state.scheduled_delivery,
                    subtotal=Money(amount=subtotal, currency=currency),
                    tax=tax,
                    shipping=shipping,
                    discount=zero,
                    total=Money(amount=subtotal + shipping.amount + share, currency=currency),
                    placed_at=now,
                    placed_by=placed_by,
                    parent_order_id=order_id,
                    split_reason=reason,
                    split_location=part.location,
                ),
            )
        )
    split = OrderSplit(
        reason=reason,
        children=[
            {
                "order_id": str(child_id),
                "location": part.location,
                "lines": [x.model_dump() for x in _as_lines(q)],
            }
            for part, q, (child_id, _n) in zip(parts, per_part, children, strict=True)
        ],
    )
    return [split], child_events


# ---- fulfillment and shipments -------------------------------------------------------------


def start_fulfillment(
    state: OrderState, order_id: UUID, *, plan_id: UUID, location: str
) -> list[DomainEvent]:
    require_order(state, order_id)
    if state.processing or state.cancelled:
        return []
    return [FulfillmentStarted(plan_id=plan_id, location=location)]


def _held_at(line: LineState, allocations, location: str) -> int:  # noqa: ANN001
    """Units of ``line`` allocated at ``location``; whole bundles for a bundle's line."""
    held: dict[str, int] = {}
    for a in allocations:
        if a["line_id"] == line.line_id and a["location"] == location:
            held[str(a["sku"])] = held.get(str(a["sku"]), 0) + int(a["quantity"])
    if line.components:
        return min(held.get(sku, 0) // per for sku, per in line.components)
    return sum(held.values())


def open_shipment(
    state: OrderState, c: OpenShipment, shipment_id: UUID, carrier: str
) -> list[DomainEvent]:
    """Numbered 1, 2, … per order; per line never more than ordered − cancelled − already in
    shipments."""
    order_id, location, lines = c.order_id, c.location, c.lines
    require_live(state, order_id)
    if not state.confirmed:
        raise Conflict("The order is not confirmed yet.", code="order_not_confirmed")
    if state.shipment(shipment_id) is not None:
        return []
    q = _quantities(state, lines)
    for line_id, quantity in q.items():
        ln = state.line(line_id)
        assert ln is not None
        room = ln.quantity - ln.cancelled - ln.in_shipments
        if quantity > room:
            raise InvalidCommand(
                f"Line '{line_id}': {quantity} units asked, {room} left to ship.",
                code="over_shipment",
                details={"line_id": line_id, "requested": quantity, "shippable": room},
            )
        if state.allocations:
            here = _held_at(ln, state.allocations, location)
            used = sum(
                q
                for ref in state.shipments
                if ref.location == location and not ref.cancelled
                for i, q in ref.lines
                if i == line_id
            )
            if quantity > here - used:
                raise InvalidCommand(
                    f"Line '{line_id}': {here - used} units are allocated at '{location}' and "
                    "not yet in a shipment.",
                    code="not_allocated_at_location",
                    details={"line_id": line_id, "location": location, "allocated": here - used},
                )
    return [
        ShipmentOpened(
            shipment_id=shipment_id,
            number=len(state.shipments) + 1,
            location=location,
            lines=_as_lines(q),
            carrier=carrier,
        )
    ]


def cancel_shipment(state: OrderState, order_id: UUID, *, shipment_id: UUID):
    require_order(state, order_id)
    ref = state.shipment(shipment_id)
    if ref is None or ref.cancelled:
        return []
    if ref.dispatched:
        raise Conflict("The shipment has left.", code="shipment_dispatched")
    return [ShipmentCancelledOnOrder(shipment_id=shipment_id)]


def record_lines_shipped(state: OrderState, c: RecordLinesShipped) -> list[DomainEvent]:
    """The shipment's units shipped; a repeat (or a cancelled shipment) writes nothing."""
    require_order(state, c.order_id)
    shipment_id = c.shipment_id
    ref = state.shipment(shipment_id)
    if ref is None:
        raise Conflict(f"Shipment {shipment_id} is not on this order.", code="unknown_shipment")
    if ref.dispatched or ref.cancelled:
        return []
    return [
        LinesShipped(
            shipment_id=shipment_id,
            lines=[LineQuantity(line_id=i, quantity=q) for i, q in ref.lines],
        )
    ]


def record_lines_delivered(state: OrderState, c: RecordLinesDelivered) -> list[DomainEvent]:
    """A dispatched shipment's units delivered; a repeat writes nothing."""
    require_order(state, c.order_id)
    shipment_id = c.shipment_id
    ref = state.shipment(shipment_id)
    if ref is None or not ref.dispatched or ref.delivered:
        return []
    return [
        LinesDelivered(
            shipment_id=shipment_id,
            lines=[LineQuantity(line_id=i, quantity=q) for i, q in ref.lines],
            delivered_at=c.delivered_at,
        )
    ]


# ---- returns -------------------------------------------------------------------------------


def open_return(
    state: OrderState,
    order_id: UUID,
    *,
    return_id: UUID,
    lines: Sequence[LineQuantity],
    reason: str,
) -> list[DomainEvent]:
    """Only delivered units: per line, units in returns ≤ delivered."""
    require_order(state, order_id)
    if return_id in state.returns:
        return []
    q = _quantities(state, lines)
    for line_id, quantity in q.items():
        ln = state.line(line_id)
        assert ln is not None
        room = ln.delivered - ln.in_returns
        if quantity > room:
            raise InvalidCommand(
                f"Line '{line_id}': {quantity} units asked back, {room} delivered and not "
                "already returned.",
                code="return_exceeds_delivered",
                details={"line_id": line_id, "requested": quantity, "returnable": room},
            )
    return [ReturnOpened(return_id=return_id, lines=_as_lines(q), reason=reason)]


def close_return(
    state: OrderState, order_id: UUID, *, return_id: UUID, lines: Sequence[LineQuantity]
):
    require_order(state, order_id)
    if return_id in state.returns_closed or return_id in state.returns_done:
        return []
    return [ReturnClosed(return_id=return_id, lines=list(lines))]


def record_lines_returned(
    state: OrderState, order_id: UUID, *, return_id: UUID, lines: Sequence[LineQuantity]
):
    require_order(state, order_id)
    if return_id in state.returns_done:
        return []
    return [LinesReturned(return_id=return_id, lines=list(lines))]


# ---- cancellation --------------------------------------------------------------------------


def fully_shipped(state: OrderState) -> bool:
    f = state.facts()
    return f.open > 0 and f.shipped >= f.open


def request_cancellation(
    state: OrderState, c: RequestCancellation, request_id: UUID, actor: str
) -> list[DomainEvent]:
    order_id, reason = c.order_id, c.reason
    require_order(state, order_id)
    if reason not in CANCELLATION_REASONS:
        raise InvalidCommand(
            f"Unknown reason '{reason}'.",
            code="invalid_cancellation_reason",
            details={"allowed": sorted(CANCELLATION_REASONS)},
        )
    if state.cancelled:
        raise Conflict("This order is already cancelled.", code="order_cancelled")
    if state.split:
        raise Conflict("This order was split; cancel its children.", code="order_frozen")
    if fully_shipped(state):
        raise Conflict("Everything on this order has shipped; use a return.", code="use_a_return")
    if state.open_cancellation is not None:
        raise Conflict(
            "This order already has an open cancellation request.",
            code="cancellation_already_requested",
            details={"request_id": str(state.open_cancellation.request_id)},
        )
    return [
        CancellationRequested(
            request_id=request_id, reason=reason, detail=c.detail, requested_by=actor
        )
    ]


def require_request(state: OrderState, order_id: UUID, request_id: UUID, status: str) -> None:
    """The order's current cancellation request is ``request_id`` and is ``status``."""
    require_order(state, order_id)
    c = state.cancellation
    if c is None or c.request_id != request_id:
        raise Conflict("This request is not the order's current one.", code="request_superseded")
    if c.status != status:
        raise Conflict(
            f"The request is already {c.status}.",
            code="cancellation_already_reviewed",
            details={"status": c.status},
        )


def review_cancellation(
    state: OrderState, c: ReviewCancellation, order_id: UUID, actor: str
) -> list[DomainEvent]:
    """Approve or reject the order's pending request ``c.request_id`` (``order_id``: the
    order the handler found it on)."""
    request_id, approve = c.request_id, c.approve
    require_request(state, order_id, request_id, "pending")
    if approve and fully_shipped(state):
        raise Conflict("Everything has shipped since; use a return.", code="use_a_return")
    return [
        CancellationReviewed(
            request_id=request_id,
            decision="approved" if approve else "rejected",
            note=c.note,
            reviewed_by=actor,
        )
    ]


def cancel_unshipped(state: OrderState, c: CancelUnshippedLines) -> list[DomainEvent]:
    """``OrderLinesCancelled`` for every unit not shipped (open undispatched shipments must
    have been cancelled first)."""
    require_order(state, c.order_id)
    lines = [
        LineQuantity(line_id=ln.line_id, quantity=ln.unshipped)
        for ln in state.lines
        if ln.unshipped > 0
    ]
    if not lines or state.cancelled:
        return []
    return [OrderLinesCancelled(lines=lines, reason=c.reason)]


def complete_cancellation(state: OrderState, c: CompleteCancellation) -> list[DomainEvent]:
    """Only an approved request completes; anything else writes nothing (a repeat)."""
    require_order(state, c.order_id)
    r = state.cancellation
    if r is None or r.request_id != c.request_id or r.status != "approved":
        return []
    return [CancellationCompleted(request_id=c.request_id)]


def unit_value(state: OrderState, quantities: dict[str, int]) -> Decimal:
    """What ``quantities`` of the lines cost the customer: price less discount, plus their
    share of the tax (shipping is not included)."""
    if not state.subtotal or not state.tax or not state.discount:
        return Decimal("0")
    value = sum(
        (ln.unit_price.amount * quantities.get(ln.line_id, 0) for ln in state.lines),
        Decimal("0"),
    )
    base = state.subtotal.amount or Decimal("1")
    net = value - state.discount.amount * value / base
    tax = state.tax.amount * value / base
    return round_money(net + tax, state.currency)


def as_dict(lines: Sequence[Any]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for x in lines:
        if isinstance(x, LineQuantity):
            out[x.line_id] += x.quantity
        else:
            out[str(x[0])] += int(x[1])
    return dict(out)
