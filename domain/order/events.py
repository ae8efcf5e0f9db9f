"""Events of the Order aggregate, and the claim that makes (channel, channel order id) unique."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from pydantic import JsonValue

from domain.events import DomainEvent
from domain.money import CurrencyCode, Money
from domain.order.values import (
    Address,
    Channel,
    GiftOptions,
    ModificationType,
    NoteKind,
    OrderLine,
    PaymentRef,
    Priority,
)


class OrderEvent(DomainEvent):
    stream_type: ClassVar[str] = "order"


class OrderPlaced(OrderEvent):
    # Stored encrypted per customer (eventstore/privacy.py); country stays clear for analytics.
    personal_data_fields: ClassVar[tuple[str, ...]] = tuple(
        f"{address}.{part}"
        for address in ("shipping_address", "billing_address")
        for part in ("name", "line1", "line2", "city", "region", "postal_code")
    ) + ("gift.message", "gift.recipient_name")
    personal_data_subject: ClassVar[str] = "customer_id"

    order_number: int
    customer_id: UUID
    channel: Channel = "direct"
    channel_order_id: str | None = None
    currency: CurrencyCode
    lines: list[OrderLine]
    shipping_address: Address
    billing_address: Address | None = None
    payment: PaymentRef
    priority: Priority = "normal"
    gift: GiftOptions | None = None
    scheduled_delivery: date | None = None
    subtotal: Money
    tax: Money
    shipping: Money
    discount: Money
    total: Money
    placed_at: datetime
    placed_by: str
    parent_order_id: UUID | None = None
    split_reason: str | None = None


class OrderModified(OrderEvent):
    field: str
    modification_type: ModificationType
    old_value: JsonValue
    new_value: JsonValue
    reason: str
    actor: str


class NoteAdded(OrderEvent):
    note_id: UUID
    text: str
    kind: NoteKind = "internal"
    visible_to_customer: bool = False
    author: str


class NoteEdited(OrderEvent):
    note_id: UUID
    text: str
    visible_to_customer: bool
    edited_by: str


class NoteDeleted(OrderEvent):
    """The note is hidden from every view; the stream keeps it."""

    note_id: UUID
    deleted_by: str


class TagAdded(OrderEvent):
    tag: str
    added_by: str


class TagRemoved(OrderEvent):
    tag: str
    removed_by: str


class TimelineEntryAdded(OrderEvent):
    entry_type: str
    description: str
    metadata: dict[str, JsonValue] = {}
    added_by: str


class OrderConfirmed(OrderEvent):
    """Every line reserved and the payment authorized: one allocation per (line, location)."""

    allocations: list[dict[str, JsonValue]]
    confirmed_at: datetime


CancellationReason = str


class OrderCancelled(OrderEvent):
    reason: CancellationReason
    cancelled_at: datetime
    cancelled_by: str


class ChannelOrderClaimed(DomainEvent):
    """First event of the stream ``domain.ids.channel_order_stream(channel, channel_order_id)``."""

    stream_type: ClassVar[str] = "channel_order"

    channel: Channel
    channel_order_id: str
    order_id: UUID


ORDER_STREAM_EVENTS = (
    OrderPlaced,
    OrderModified,
    NoteAdded,
    NoteEdited,
    NoteDeleted,
    TagAdded,
    TagRemoved,
    TimelineEntryAdded,
    OrderConfirmed,
    OrderCancelled,
)
