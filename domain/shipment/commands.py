"""The shipment commands, as messages: open a shipment on an order, record a carrier's tracking
event, record a delivery attempt. (What follows a dispatch or a delivery on the other
aggregates is the fulfillment process manager's, not a command's.)

A new shipment's id is made by its handler (from the idempotency key, so a repeat names the
same shipment); the carrier, when left out, is chosen by it too."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BeforeValidator, Field

from domain.command import Command, LocationCode
from domain.order.fulfillment_commands import LineUnits
from domain.shipment.events import AttemptOutcome, TrackingStatus

_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:
    """Text in RFC 3339 form only (pydantic's lax mode would take ``0`` for the epoch)."""
    if isinstance(value, str) and not _ISO_DATETIME.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with its offset")
    return value


#: An instant as RFC 3339 with its offset (``format: date-time``), nothing else.
IsoDateTime = Annotated[datetime, BeforeValidator(_rfc3339)]
Text = Annotated[str, Field(max_length=500)]
TrackingNumber = Annotated[str, Field(min_length=1, max_length=100)]


class OpenShipment(Command):
    order_id: UUID
    location: LocationCode
    lines: Annotated[list[LineUnits], Field(max_length=100)]
    carrier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    tracking_number: TrackingNumber | None = None


class RecordTracking(Command):
    shipment_id: UUID
    status: TrackingStatus
    occurred_at: IsoDateTime | None = None
    location: Text | None = None
    note: Text | None = None
    tracking_number: TrackingNumber | None = None


class RecordDeliveryAttempt(Command):
    shipment_id: UUID
    outcome: AttemptOutcome
    failure_reason: Text | None = None
    next_attempt_at: IsoDateTime | None = None
