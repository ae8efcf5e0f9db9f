"""Events of the Order aggregate, and the claim that makes (channel, channel order id) unique."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import JsonValue

from domain.events import DomainEvent
from domain.money import CurrencyCode, Money
from domain.order.values import (
    Address,
    AppliedPromotion,
    Channel,
    GiftOptions,
    LineQuantity,
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
    ) + ("gift.message", "gift.recipient_name", "contact_email")
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
    split_location: str | None = None
    #: The promotions applied at placement (``discount`` is their sum); none in older events.
    promotions: list[AppliedPromotion] = []
    #: A guest's address for order notifications.
    contact_email: str | None = None


class OrderModified(OrderEvent):
    # An address or gift change carries personal data: encrypted under the key of the order's
    # customer (``@stream_owner``: the customer its OrderPlaced named; eventstore/privacy.py).
    personal_data_fields: ClassVar[tuple[str, ...]] = tuple(
        f"{side}.{part}"
        for side in ("old_value", "new_value")
        for part in (
            *("name", "line1", "line2", "city", "region", "postal_code"),
            *("message", "recipient_name"),
        )
    )
    personal_data_subject: ClassVar[str] = "@stream_owner"

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


class LinesRevised(OrderEvent):
    """The order's lines, totals and allocations after an edit (beside its ``OrderModified``);
    ``edit_id`` names the ``LineEditRequested`` it applies (None in older events)."""

    lines: list[OrderLine]
    subtotal: Money
    tax: Money
    shipping: Money
    total: Money
    allocations: list[dict[str, JsonValue]]
    edit_id: UUID | None = None


class LineEditRequested(OrderEvent):
    """A line edit asked for and checked against the order; the line edit manager carries it
    out (``LinesRevised``) or refuses it (``LineEditRejected``). An added line is priced when
    asked (``product_id``, ``name``, ``unit_price``); ``old_quantity`` is the line's then."""

    edit_id: UUID
    kind: Literal["add", "change", "remove"]
    line_id: str
    sku: str
    quantity: int | None  # the new quantity; None when the line is removed
    old_quantity: int | None  # None for an added line
    reason: str
    actor: str
    product_id: UUID | None = None
    name: str = ""
    unit_price: Money | None = None


class LineEditRejected(OrderEvent):
    """A requested line edit that could not be carried out, and why (a machine code:
    ``insufficient_stock``, ``payment_declined``, ``order_cancelled``, ...)."""

    edit_id: UUID
    reason: str
    message: str = ""


class OrderSplit(OrderEvent):
    """The parent's lines moved to child orders; the parent is frozen from now on."""

    reason: str
    children: list[dict[str, JsonValue]]


class FulfillmentStarted(OrderEvent):
    """A plan of this order started picking: the order is ``processing``."""

    plan_id: UUID
    location: str


class ShipmentOpened(OrderEvent):
    shipment_id: UUID
    number: int
    location: str
    lines: list[LineQuantity]
    carrier: str


class ShipmentTrackingUpdated(OrderEvent):
    """The order's copy of a shipment's tracking event (for its timeline and detail)."""

    shipment_id: UUID
    code: str
    status: str
    tracking_number: str | None = None
    occurred_at: datetime


class DeliveryAttemptRecorded(OrderEvent):
    """The order's copy of a shipment's delivery attempt."""

    shipment_id: UUID
    attempt: int
    outcome: str
    failure_reason: str | None = None
    next_attempt_at: datetime | None = None
    occurred_at: datetime | None = None  # as reported (None: when it was recorded)


class ShipmentCancelledOnOrder(OrderEvent):
    shipment_id: UUID


class LinesShipped(OrderEvent):
    shipment_id: UUID
    lines: list[LineQuantity]


class LinesDelivered(OrderEvent):
    shipment_id: UUID
    lines: list[LineQuantity]
    #: The shipment's delivery time as its ``ShipmentDelivered`` records it (the carrier's
    #: time); the return window counts from it. None in events older than this field.
    delivered_at: datetime | None = None


class ReturnOpened(OrderEvent):
    return_id: UUID
    lines: list[LineQuantity]
    reason: str


class ReturnClosed(OrderEvent):
    """A return rejected or cancelled: its units may be asked back again."""

    return_id: UUID
    lines: list[LineQuantity]


class LinesReturned(OrderEvent):
    return_id: UUID
    lines: list[LineQuantity]


class OrderLinesCancelled(OrderEvent):
    lines: list[LineQuantity]
    reason: str


class CancellationRequested(OrderEvent):
    request_id: UUID
    reason: str
    detail: str | None = None
    requested_by: str


class CancellationReviewed(OrderEvent):
    request_id: UUID
    decision: Literal["approved", "rejected"]
    note: str | None = None
    reviewed_by: str


class CancellationCompleted(OrderEvent):
    request_id: UUID


class CancellationFailed(OrderEvent):
    """An approved cancellation could not unwind the payment (FailCancellation): the gateway
    kept failing the ``operation`` (``void`` or ``refund``) after its retries. The request is
    ``failed`` and an alert is raised; what is reserved and the order itself are left as they
    were. Approving the request again retries it (``CancellationRetried``)."""

    request_id: UUID
    operation: str
    reason: str
    attempts: int


class CancellationRetried(OrderEvent):
    """A ``failed`` cancellation request approved again: it is ``approved`` once more and its
    money steps run again (``failed → approved``, then ``completed`` or ``failed``)."""

    request_id: UUID
    attempt: int  # 1 for the first retry
    note: str | None = None
    retried_by: str


class CancellationRequestFiled(DomainEvent):
    """First event of the stream ``domain.ids.cancellation_request_stream(request_id)``: which
    order a request belongs to."""

    stream_type: ClassVar[str] = "cancellation_request"

    request_id: UUID
    order_id: UUID


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
    OrderSplit,
    LinesRevised,
    LineEditRequested,
    LineEditRejected,
    FulfillmentStarted,
    ShipmentOpened,
    ShipmentCancelledOnOrder,
    ShipmentTrackingUpdated,
    DeliveryAttemptRecorded,
    LinesShipped,
    LinesDelivered,
    ReturnOpened,
    ReturnClosed,
    LinesReturned,
    OrderLinesCancelled,
    CancellationRequested,
    CancellationReviewed,
    CancellationCompleted,
    CancellationFailed,
    CancellationRetried,
)

#: Every event class of the Order aggregate and its claim, for the event registry.
ORDER_EVENTS: tuple = (*ORDER_STREAM_EVENTS, ChannelOrderClaimed)
