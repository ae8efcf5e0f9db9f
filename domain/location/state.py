"""Location decision state, its evolution and its decisions."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.aggregate import AggregateType
from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.location.events import (
    LOCATION_EVENTS,
    LocationDeactivated,
    LocationRegistered,
    LocationType,
    LocationUpdated,
)


@dataclass(frozen=True, slots=True)
class LocationState:
    exists: bool = False
    code: str = ""
    name: str = ""
    type: str = ""
    priority: int = 0
    active: bool = False


def evolve(state: LocationState, event: DomainEvent) -> LocationState:
    match event:
        case LocationRegistered():
            return LocationState(
                exists=True,
                code=event.code,
                name=event.name,
                type=event.type,
                priority=event.priority,
                active=True,
            )
        case LocationUpdated():
            return replace(
                state,
                name=event.name if event.name is not None else state.name,
                priority=event.priority if event.priority is not None else state.priority,
            )
        case LocationDeactivated():
            return replace(state, active=False)
    return state


LOCATION = AggregateType("location", LocationState, evolve, LOCATION_EVENTS)


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
