"""Location decisions: register, require active, deactivate."""

from __future__ import annotations

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.location.events import (
    LocationDeactivated,
    LocationRegistered,
    LocationType,
)
from domain.location.state import LocationState


def register_location(
    state: LocationState, code: str, name: str, type: LocationType, priority: int
) -> list[DomainEvent]:
    if state.exists:
        raise Conflict(f"Location '{code}' already exists.", code="location_exists")
    if priority < 0:
        raise InvalidCommand("Priority must be zero or more.", code="invalid_priority")
    return [LocationRegistered(code=code, name=name, type=type, priority=priority)]


def require_active(state: LocationState, code: str) -> LocationState:
    if not state.exists:
        raise NotFound(f"Location '{code}' does not exist.", code="location_not_found")
    if not state.active:
        raise Conflict(f"Location '{code}' is not active.", code="location_inactive")
    return state


def deactivate_location(state: LocationState, code: str, reason: str) -> list[DomainEvent]:
    require_active(state, code)
    return [LocationDeactivated(reason=reason)]
