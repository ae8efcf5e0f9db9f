"""Vendor decisions: registration (a valid name and email, ``invalid_name``/``invalid_email``)."""

from __future__ import annotations

from uuid import UUID

from domain.customer.contact import valid_email, valid_name
from domain.errors import Conflict
from domain.events import DomainEvent
from domain.vendor.commands import RegisterVendor
from domain.vendor.events import VendorRegistered
from domain.vendor.state import VendorState


def register(
    state: VendorState, c: RegisterVendor, *, vendor_id: UUID, by: str
) -> list[DomainEvent]:
    name, email = valid_name(c.name), valid_email(c.email)
    if state.exists:
        raise Conflict(f"Vendor {vendor_id} exists already.", code="vendor_exists")
    return [
        VendorRegistered(
            vendor_id=vendor_id,
            name=name,
            email=email,
            lead_time_days=c.lead_time_days,
            registered_by=by,
        )
    ]
