"""Handlers for the Location aggregate."""

from __future__ import annotations

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from domain.ids import location_stream
from domain.location.decide import deactivate_location, register_location
from domain.location.events import LocationType
from domain.location.state import LOCATION, LocationState
from eventstore.store import EventStore


def register(
    store: EventStore,
    ctx: CommandContext,
    *,
    code: str,
    name: str,
    type: LocationType,
    priority: int,
) -> Outcome:
    return execute(
        store,
        LOCATION,
        location_stream(code),
        lambda state, _v: register_location(state, code, name, type, priority),
        ctx,
    )


def deactivate(store: EventStore, ctx: CommandContext, *, code: str, reason: str) -> Outcome:
    return execute(
        store,
        LOCATION,
        location_stream(code),
        lambda state, _v: deactivate_location(state, code, reason),
        ctx,
    )


def get(store: EventStore, code: str) -> LocationState:
    return load(store, LOCATION, location_stream(code)).state
