"""Location decisions: register, require active, deactivate."""

from __future__ import annotations

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.location.commands import DeactivateLocation, RegisterLocation
from domain.location.events import LocationDeactivated, LocationRegistered
from domain.location.state import LocationState


def register_location(state: LocationState, c: RegisterLocation) -> list[DomainEvent]:
    """A new location (its priority is bounded by the command). A ``dropship`` location names
    its vendor (``422 vendor_required``), no other type does (``422 vendor_not_allowed``);
    that the vendor exists is the handler's check."""
    if c.type == "dropship" and c.vendor_id is None:
        raise InvalidCommand(
            "A dropship location names its vendor.", code="vendor_required",
            details={"field": "vendor_id"},
        )  # fmt: skip
    if c.type != "dropship" and c.vendor_id is not None:
        raise InvalidCommand(
            f"A {c.type} location has no vendor.", code="vendor_not_allowed",
            details={"field": "vendor_id"},
        )  # fmt: skip
    if state.exists:
        raise Conflict(f"Location '{c.code}' already exists.", code="location_exists")
    return [
        LocationRegistered(
            code=c.code, name=c.name, type=c.type, priority=c.priority, vendor_id=c.vendor_id
        )
    ]


def require_active(state: LocationState, code: str) -> LocationState:
    if not state.exists:
        raise NotFound(f"Location '{code}' does not exist.", code="location_not_found")
    if not state.active:
        raise Conflict(f"Location '{code}' is not active.", code="location_inactive")
    return state


def deactivate_location(state: LocationState, c: DeactivateLocation) -> list[DomainEvent]:
    require_active(state, c.code)
    return [LocationDeactivated(reason=c.reason)]
