"""Events of a dropship request."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent


class RequestedLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: str
    sku: str
    quantity: int


class DropshipEvent(DomainEvent):
    stream_type: ClassVar[str] = "dropship_request"


class DropshipRequested(DropshipEvent):
    order_id: UUID
    plan_id: UUID
    vendor_id: UUID
    location: str
    lines: list[RequestedLine]
    requested_by: str


class DropshipShipped(DropshipEvent):
    """One of the vendor's shipments for the request left (its units, by order line)."""

    shipment_id: UUID
    units: int


class DropshipDelivered(DropshipEvent):
    shipment_id: UUID
    units: int


DROPSHIP_EVENTS = (DropshipRequested, DropshipShipped, DropshipDelivered)
