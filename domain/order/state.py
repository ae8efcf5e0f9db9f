"""Order decision state and its evolution. Decisions live in ``domain.order.decisions``."""

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
    NoteAdded,
    NoteDeleted,
    NoteEdited,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    OrderPlaced,
    TagAdded,
    TagRemoved,
)
from domain.order.status import StatusFacts, derive_status
from domain.order.values import Address, GiftOptions


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
    if isinstance(value, Money | Address | GiftOptions):
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
            )
            for line in event.lines
        ),
        shipping_address=event.shipping_address,
        billing_address=event.billing_address,
        priority=event.priority,
        gift=event.gift,
        scheduled_delivery=event.scheduled_delivery,
        subtotal=event.subtotal,
        tax=event.tax,
        shipping=event.shipping,
        discount=event.discount,
        total=event.total,
        placed_at=event.placed_at,
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
            by_line: dict[str, int] = {}
            for a in event.allocations:
                by_line[str(a["line_id"])] = by_line.get(str(a["line_id"]), 0) + int(a["quantity"])
            lines = tuple(replace(ln, reserved=by_line.get(ln.line_id, 0)) for ln in state.lines)
            return replace(state, confirmed=True, lines=lines)
        case OrderCancelled():
            lines = tuple(replace(ln, reserved=0) for ln in state.lines)
            return replace(state, cancelled=True, cancellation_reason=event.reason, lines=lines)
    return state


ORDER = AggregateType("order", OrderState, evolve, ORDER_STREAM_EVENTS)
