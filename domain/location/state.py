"""Location decision state and its evolution; decisions are in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.location.events import (
    LOCATION_EVENTS,
    LocationDeactivated,
    LocationRegistered,
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
    vendor_id: UUID | None = None


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
                vendor_id=event.vendor_id,
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
