"""Vendor decision state: whether it exists (what a dropship location's registration checks)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.vendor.events import VENDOR_EVENTS, VendorRegistered


@dataclass(frozen=True, slots=True)
class VendorState:
    exists: bool = False
    lead_time_days: int = 0


def evolve(state: VendorState, event: DomainEvent) -> VendorState:
    if isinstance(event, VendorRegistered):
        return VendorState(exists=True, lead_time_days=event.lead_time_days)
    return state


VENDOR = AggregateType("vendor", VendorState, evolve, VENDOR_EVENTS)
