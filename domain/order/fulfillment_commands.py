"""The commands that change an order's shape or ask to cancel it, as messages: split it into
child orders, request a cancellation, review (approve or reject) a request; and the order's
steps the fulfillment process manager takes when it carries out an approved cancellation
(cancel the unshipped lines, complete or fail the request) or follows a shipment (its lines
shipped, delivered).

A new request's id and the children's ids and numbers are made by their handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StrictBool

from domain.command import Command, LocationCode, whole

Text = Annotated[str, Field(max_length=2000)]


class LineUnits(Command):
    """Units of one order line (what a shipment carries, what a split part takes)."""

    line_id: Annotated[str, Field(max_length=100)]
    quantity: whole()  # type: ignore[valid-type]


class SplitPart(Command):
    """One child order: the units of some lines, at one location."""

    location: LocationCode
    lines: Annotated[list[LineUnits], Field(max_length=100)]


class SplitOrder(Command):
    order_id: UUID
    reason: Annotated[str, Field(max_length=200)]
    parts: Annotated[list[SplitPart], Field(max_length=50)]


class RequestCancellation(Command):
    order_id: UUID
    reason: Annotated[str, Field(max_length=50)]
    detail: Text | None = None


class ReviewCancellation(Command):
    """Approve or reject a pending request; approving a ``failed`` one retries it."""

    request_id: UUID
    approve: StrictBool
    note: Text | None = None


# ---- the fulfillment process manager's steps on an order --------------------------------------


class CancelUnshippedLines(Command):
    """Cancel every unit not shipped (``OrderLinesCancelled``): an approved cancellation of an
    order something of which has shipped."""

    order_id: UUID
    reason: Annotated[str, Field(max_length=50)]


class CompleteCancellation(Command):
    """The approved request ``request_id`` is carried out (``CancellationCompleted``)."""

    order_id: UUID
    request_id: UUID


class FailCancellation(Command):
    """The approved request ``request_id`` could not unwind the payment: the gateway kept
    failing ``operation`` (``void``, ``refund``) ``attempts`` times (``CancellationFailed``)."""

    order_id: UUID
    request_id: UUID
    operation: str
    reason: str
    attempts: int


class RecordLinesShipped(Command):
    """The shipment ``shipment_id`` was dispatched: its units are shipped (``LinesShipped``)."""

    order_id: UUID
    shipment_id: UUID


class RecordLinesDelivered(Command):
    """The shipment ``shipment_id`` was delivered at ``delivered_at`` (the shipment's recorded
    delivery time): its units are delivered (``LinesDelivered``)."""

    order_id: UUID
    shipment_id: UUID
    delivered_at: datetime | None = None
