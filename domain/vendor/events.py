"""Events of the Vendor aggregate."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent


class VendorEvent(DomainEvent):
    stream_type: ClassVar[str] = "vendor"


class VendorRegistered(VendorEvent):
    vendor_id: UUID
    name: str
    email: str
    lead_time_days: int
    registered_by: str


VENDOR_EVENTS = (VendorRegistered,)
