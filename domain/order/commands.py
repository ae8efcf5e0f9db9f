"""The commands on an order, as messages: place it, modify it, and its notes, tags and custom
timeline entries; and what the placement saga and a cancellation decide of an order, confirm it
(``ConfirmOrder``) or cancel it whole (``CancelOrder``). (Line edits are in
``line_edit_commands.py``.)

The order's id is in every command but PlaceOrder, whose handler makes it up; a new note's id
is made by its handler too. Who asks and when travel in the command's context."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, Field, JsonValue, StrictBool

from domain.command import Command, IsoDate, Sku, json_safe, whole
from domain.order.values import (
    Address,
    Channel,
    GiftOptions,
    NoteKind,
    PaymentRef,
    Priority,
    Value,
)

Reason = Annotated[str, Field(max_length=500)]
NoteText = Annotated[str, Field(max_length=5000)]


class RequestedLine(Value):
    """A line as the client asks for it: a SKU and a quantity (its price is the catalog's).
    Any whole number fitting 64 bits is taken here; the decision names a bad one precisely."""

    sku: Sku
    quantity: whole(ge=-1_000_000_000, le=1_000_000_000)  # type: ignore[valid-type]


class PlaceOrder(Command):
    customer_id: UUID
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    lines: Annotated[list[RequestedLine], Field(max_length=1000)]
    shipping_address: Address
    billing_address: Address | None = None
    payment: PaymentRef
    channel: Channel = "direct"
    channel_order_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    priority: Priority = "normal"
    gift: GiftOptions | None = None
    scheduled_delivery: IsoDate | None = None
    #: Promotion codes the customer names (any case); active code-less promotions apply anyway.
    promotion_codes: (
        Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=10)] | None
    ) = None
    #: Where a guest's order notifications are emailed (a registered customer's go to their
    #: own address, by the channels they consented to).
    contact_email: Annotated[str, Field(max_length=254)] | None = None


class ModifyOrder(Command):
    """Change some of the order's modifiable fields; those left out (None) stay as they are."""

    order_id: UUID
    shipping_address: Address | None = None
    priority: Priority | None = None
    gift: GiftOptions | None = None
    scheduled_delivery: IsoDate | None = None
    reason: Reason | None = None


class AddNote(Command):
    order_id: UUID
    text: NoteText
    visible_to_customer: StrictBool = False
    kind: NoteKind = "internal"


class EditNote(Command):
    """A new text, a new visibility, or both."""

    order_id: UUID
    note_id: UUID
    text: NoteText | None = None
    visible_to_customer: StrictBool | None = None


class DeleteNote(Command):
    order_id: UUID
    note_id: UUID


class AddTag(Command):
    order_id: UUID
    tag: Annotated[str, Field(max_length=100)]


class RemoveTag(Command):
    order_id: UUID
    tag: str  # as the path gives it; the decision checks it as a tag


class AddTimelineEntry(Command):
    order_id: UUID
    type: Annotated[str, Field(max_length=64)]
    description: Annotated[str, Field(max_length=2000)]
    metadata: Annotated[dict[str, JsonValue] | None, AfterValidator(json_safe)] = None


class ConfirmOrder(Command):
    """Every line reserved and the payment authorized: the order is confirmed with where each
    line is held (``allocations``: line id, SKU, location, quantity, reservation id)."""

    order_id: UUID
    allocations: list[dict[str, Any]]


class CancelOrder(Command):
    """Cancel the whole order (out of stock, payment declined, a hold expired, an approved
    cancellation with nothing shipped)."""

    order_id: UUID
    reason: Reason
