"""Order decision state and its evolution. Decisions live in ``domain.order.decide``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.money import Money
from domain.order.events import (
    ORDER_STREAM_EVENTS,
    CancellationCompleted,
    CancellationFailed,
    CancellationRequested,
    CancellationRetried,
    CancellationReviewed,
    FulfillmentStarted,
    LineEditRejected,
    LineEditRequested,
    LinesDelivered,
    LinesReturned,
    LinesRevised,
    LinesShipped,
    NoteAdded,
    NoteDeleted,
    NoteEdited,
    OrderCancelled,
    OrderConfirmed,
    OrderLinesCancelled,
    OrderModified,
    OrderPlaced,
    OrderSplit,
    ReturnClosed,
    ReturnOpened,
    ShipmentCancelledOnOrder,
    ShipmentOpened,
    TagAdded,
    TagRemoved,
)
from domain.order.status import StatusFacts, derive_status
from domain.order.values import Address, GiftOptions, LineQuantity, PaymentRef


@dataclass(frozen=True, slots=True)
class LineState:
    line_id: str
    sku: str
    product_id: UUID
    quantity: int
    unit_price: Money
    total: Money
    reserved: int = 0
    cancelled: int = 0
    shipped: int = 0
    delivered: int = 0
    returned: int = 0
    in_shipments: int = 0  # units in open (not cancelled) shipments
    in_returns: int = 0  # units in open or received returns
    #: A bundle's line: (component SKU, quantity per bundle), reserved component by component.
    components: tuple[tuple[str, int], ...] | None = None

    @property
    def open(self) -> int:
        return self.quantity - self.cancelled

    @property
    def unshipped(self) -> int:
        return self.quantity - self.cancelled - self.shipped


@dataclass(frozen=True, slots=True)
class ShipmentRef:
    shipment_id: UUID
    number: int
    location: str
    lines: tuple[tuple[str, int], ...]
    dispatched: bool = False
    delivered: bool = False
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class CancellationState:
    request_id: UUID
    status: str  # pending, approved, rejected, completed, failed
    reason: str
    attempt: int = 0  # how many times a failed request was approved again


@dataclass(frozen=True, slots=True)
class NoteState:
    note_id: UUID
    text: str
    kind: str
    visible_to_customer: bool
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class OrderState:
    exists: bool = False
    number: int = 0
    customer_id: UUID | None = None
    channel: str = "direct"
    channel_order_id: str | None = None
    currency: str = ""
    lines: tuple[LineState, ...] = ()
    shipping_address: Address | None = None
    billing_address: Address | None = None
    payment: PaymentRef | None = None
    priority: str = "normal"
    gift: GiftOptions | None = None
    scheduled_delivery: date | None = None
    subtotal: Money | None = None
    tax: Money | None = None
    shipping: Money | None = None
    discount: Money | None = None
    total: Money | None = None
    placed_at: datetime | None = None
    notes: tuple[NoteState, ...] = ()
    tags: tuple[str, ...] = ()
    confirmed: bool = False
    processing: bool = False
    cancelled: bool = False
    cancellation_reason: str | None = None
    allocations: tuple[dict[str, Any], ...] = ()
    parent_order_id: UUID | None = None
    split_location: str | None = None
    split: bool = False
    children: tuple[UUID, ...] = ()
    shipments: tuple[ShipmentRef, ...] = ()
    cancellation: CancellationState | None = None
    returns: tuple[UUID, ...] = ()
    returns_done: tuple[UUID, ...] = ()
    returns_closed: tuple[UUID, ...] = ()
    #: The line edit asked for and not yet applied or rejected (one at a time).
    pending_edit: LineEditRequested | None = None
    #: The line edits applied (``LinesRevised`` naming them), oldest first.
    applied_edits: tuple[UUID, ...] = ()

    def line(self, line_id: str) -> LineState | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)

    def edit_status(self, edit_id: UUID) -> str | None:
        """``pending``, ``applied`` or None (rejected, or never asked for on this order)."""
        if self.pending_edit is not None and self.pending_edit.edit_id == edit_id:
            return "pending"
        return "applied" if edit_id in self.applied_edits else None

    def shipment(self, shipment_id: UUID) -> ShipmentRef | None:
        return next((x for x in self.shipments if x.shipment_id == shipment_id), None)

    @property
    def open_cancellation(self) -> CancellationState | None:
        c = self.cancellation
        return c if c is not None and c.status in ("pending", "approved") else None

    def facts(self) -> StatusFacts:
        return StatusFacts(
            ordered=sum(line.quantity for line in self.lines),
            cancelled_units=sum(line.cancelled for line in self.lines),
            shipped=sum(line.shipped for line in self.lines),
            delivered=sum(line.delivered for line in self.lines),
            returned=sum(line.returned for line in self.lines),
            confirmed=self.confirmed,
            processing=self.processing,
            cancelled=self.cancelled,
        )

    @property
    def status(self) -> str:
        return derive_status(self.facts())

    def note(self, note_id: UUID) -> NoteState | None:
        return next((n for n in self.notes if n.note_id == note_id and not n.deleted), None)

    def has_tag(self, tag: str) -> bool:
        key = tag.casefold()
        return any(t.casefold() == key for t in self.tags)

    def as_json(self) -> dict[str, Any]:
        """The decision state as JSON-ready data (for ``GET /orders/{id}/state``)."""
        return _jsonable({**asdict(self), "status": self.status})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Money | Address | GiftOptions | PaymentRef | LineEditRequested):
        return value.model_dump(mode="json")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _placed(event: OrderPlaced) -> OrderState:
    return OrderState(
        exists=True,
        number=event.order_number,
        customer_id=event.customer_id,
        channel=event.channel,
        channel_order_id=event.channel_order_id,
        currency=event.currency,
        lines=tuple(
            LineState(
                line_id=line.line_id,
                sku=line.sku,
                product_id=line.product_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total=line.total,
                components=None
                if line.components is None
                else tuple((x.sku, x.quantity) for x in line.components),
            )
            for line in event.lines
        ),
        shipping_address=event.shipping_address,
        billing_address=event.billing_address,
        payment=event.payment,
        priority=event.priority,
        gift=event.gift,
        scheduled_delivery=event.scheduled_delivery,
        subtotal=event.subtotal,
        tax=event.tax,
        shipping=event.shipping,
        discount=event.discount,
        total=event.total,
        placed_at=event.placed_at,
        parent_order_id=event.parent_order_id,
        split_location=event.split_location,
    )


def _modified(state: OrderState, event: OrderModified) -> OrderState:
    new = event.new_value
    match event.field:
        case "shipping_address":
            return replace(state, shipping_address=Address.model_validate(new))
        case "priority":
            return replace(state, priority=str(new))
        case "gift":
            return replace(state, gift=None if new is None else GiftOptions.model_validate(new))
        case "scheduled_delivery":
            when = None if new is None else date.fromisoformat(str(new))
            return replace(state, scheduled_delivery=when)
    return state


def _with_note(state: OrderState, note_id: UUID, **changes: Any) -> OrderState:
    notes = tuple(replace(n, **changes) if n.note_id == note_id else n for n in state.notes)
    return replace(state, notes=notes)


def evolve(state: OrderState, event: DomainEvent) -> OrderState:
    match event:
        case OrderPlaced():
            return _placed(event)
        case OrderModified():
            return _modified(state, event)
        case NoteAdded():
            note = NoteState(event.note_id, event.text, event.kind, event.visible_to_customer)
            return replace(state, notes=(*state.notes, note))
        case NoteEdited():
            return _with_note(
                state, event.note_id, text=event.text, visible_to_customer=event.visible_to_customer
            )
        case NoteDeleted():
            return _with_note(state, event.note_id, deleted=True)
        case TagAdded():
            return replace(state, tags=(*state.tags, event.tag))
        case TagRemoved():
            key = event.tag.casefold()
            return replace(state, tags=tuple(t for t in state.tags if t.casefold() != key))
        case OrderConfirmed():
            lines = _reserved(state.lines, event.allocations)
            allocations = tuple(dict(a) for a in event.allocations)
            return replace(state, confirmed=True, lines=lines, allocations=allocations)
        case OrderCancelled():
            lines = tuple(replace(ln, reserved=0) for ln in state.lines)
            return replace(state, cancelled=True, cancellation_reason=event.reason, lines=lines)
    return evolve_fulfillment(state, event)


def _reserved(lines, allocations) -> tuple[LineState, ...]:  # noqa: ANN001
    """Each line's ``reserved`` from the allocations: its units held; for a bundle's line, the
    whole bundles its components' holds make up."""
    by_line: dict[str, int] = {}
    held: dict[tuple[str, str], int] = {}
    for a in allocations:
        line_id, key = str(a["line_id"]), (str(a["line_id"]), str(a["sku"]))
        by_line[line_id] = by_line.get(line_id, 0) + int(a["quantity"])
        held[key] = held.get(key, 0) + int(a["quantity"])
    out = []
    for ln in lines:
        if ln.components:
            n = min(held.get((ln.line_id, sku), 0) // q for sku, q in ln.components)
        else:
            n = by_line.get(ln.line_id, 0)
        out.append(replace(ln, reserved=n))
    return tuple(out)


def _add(state: OrderState, lines: list[LineQuantity], **fields: int) -> tuple[LineState, ...]:
    """Lines with each named counter moved by the given quantities (sign in ``fields``)."""
    by_line = {x.line_id: x.quantity for x in lines}
    out = []
    for ln in state.lines:
        q = by_line.get(ln.line_id, 0)
        if q:
            ln = replace(ln, **{k: getattr(ln, k) + sign * q for k, sign in fields.items()})
        out.append(ln)
    return tuple(out)


def _with_shipment(state: OrderState, shipment_id: UUID, **changes: Any) -> OrderState:
    shipments = tuple(
        replace(x, **changes) if x.shipment_id == shipment_id else x for x in state.shipments
    )
    return replace(state, shipments=shipments)


def evolve_fulfillment(state: OrderState, event: DomainEvent) -> OrderState:
    """Splits, shipments, deliveries, returns and cancellation requests."""
    match event:
        case LinesRevised():
            old = {ln.line_id: ln for ln in state.lines}
            lines = []
            for x in event.lines:
                kept = old.get(x.line_id)
                lines.append(
                    replace(kept, quantity=x.quantity, total=x.total)
                    if kept
                    else LineState(
                        x.line_id, x.sku, x.product_id, x.quantity, x.unit_price, x.total
                    )
                )
            lines = list(_reserved(lines, event.allocations))
            applied = state.applied_edits
            if event.edit_id is not None:
                applied = (*applied, event.edit_id)
            return replace(
                state,
                lines=tuple(lines),
                subtotal=event.subtotal,
                tax=event.tax,
                shipping=event.shipping,
                total=event.total,
                allocations=tuple(dict(a) for a in event.allocations),
                pending_edit=None,
                applied_edits=applied,
            )
        case LineEditRequested():
            return replace(state, pending_edit=event)
        case LineEditRejected():
            pending = state.pending_edit
            if pending is None or pending.edit_id != event.edit_id:
                return state
            return replace(state, pending_edit=None)
        case OrderSplit():
            children = tuple(UUID(str(c["order_id"])) for c in event.children)
            return replace(state, split=True, children=children)
        case FulfillmentStarted():
            return replace(state, processing=True)
        case ShipmentOpened():
            ref = ShipmentRef(
                event.shipment_id,
                event.number,
                event.location,
                tuple((x.line_id, x.quantity) for x in event.lines),
            )
            lines = _add(state, event.lines, in_shipments=1)
            return replace(state, shipments=(*state.shipments, ref), lines=lines)
        case ShipmentCancelledOnOrder():
            ref = state.shipment(event.shipment_id)
            if ref is None:
                return state
            back = [LineQuantity(line_id=i, quantity=q) for i, q in ref.lines]
            state = replace(state, lines=_add(state, back, in_shipments=-1))
            return _with_shipment(state, event.shipment_id, cancelled=True)
        case LinesShipped():
            lines = _add(state, event.lines, shipped=1, reserved=-1)
            state = replace(state, lines=lines)
            return _with_shipment(state, event.shipment_id, dispatched=True)
        case LinesDelivered():
            state = replace(state, lines=_add(state, event.lines, delivered=1))
            return _with_shipment(state, event.shipment_id, delivered=True)
        case ReturnOpened():
            lines = _add(state, event.lines, in_returns=1)
            return replace(state, lines=lines, returns=(*state.returns, event.return_id))
        case ReturnClosed():
            lines = _add(state, event.lines, in_returns=-1)
            return replace(
                state, lines=lines, returns_closed=(*state.returns_closed, event.return_id)
            )
        case LinesReturned():
            lines = _add(state, event.lines, returned=1)
            return replace(state, lines=lines, returns_done=(*state.returns_done, event.return_id))
        case OrderLinesCancelled():
            lines = _add(state, event.lines, cancelled=1)
            by_line = {x.line_id for x in event.lines}
            lines = tuple(replace(ln, reserved=0) if ln.line_id in by_line else ln for ln in lines)
            return replace(state, lines=lines)
        case CancellationRequested():
            c = CancellationState(event.request_id, "pending", event.reason)
            return replace(state, cancellation=c)
        case CancellationReviewed():
            if state.cancellation is None:
                return state
            return replace(state, cancellation=replace(state.cancellation, status=event.decision))
        case CancellationCompleted():
            if state.cancellation is None:
                return state
            return replace(state, cancellation=replace(state.cancellation, status="completed"))
        case CancellationFailed():
            c = state.cancellation
            if c is None or c.request_id != event.request_id:
                return state
            return replace(state, cancellation=replace(c, status="failed"))
        case CancellationRetried():
            c = state.cancellation
            if c is None or c.request_id != event.request_id:
                return state
            return replace(state, cancellation=replace(c, status="approved", attempt=event.attempt))
    return state


ORDER = AggregateType("order", OrderState, evolve, ORDER_STREAM_EVENTS)
