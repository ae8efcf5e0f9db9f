"""Events of the Location aggregate."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from domain.events import DomainEvent

LocationType = Literal[
    "warehouse", "store", "distribution_center", "fulfillment_center", "dropship"
]
CODE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class LocationEvent(DomainEvent):
    stream_type: ClassVar[str] = "location"


class LocationRegistered(LocationEvent):
    code: str = Field(pattern=CODE_PATTERN)
    name: str
    type: LocationType
    priority: int
    #: The vendor who ships a ``dropship`` location's stock (None for every other type).
    vendor_id: UUID | None = None


class LocationUpdated(LocationEvent):
    name: str | None = None
    priority: int | None = None


class LocationDeactivated(LocationEvent):
    reason: str


LOCATION_EVENTS = (LocationRegistered, LocationUpdated, LocationDeactivated)
