"""Handlers for the Location aggregate (one stream per location code)."""

from __future__ import annotations

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.write_side import WriteSide
from domain.errors import InvalidCommand
from domain.ids import location_stream
from domain.location.commands import DeactivateLocation, RegisterLocation
from domain.location.decide import deactivate_location, register_location
from domain.location.state import LOCATION, LocationState
from domain.vendor.state import VENDOR
from eventstore.store import EventStore


def register(w: WriteSide, c: RegisterLocation, ctx: CommandContext) -> Outcome:
    """A dropship location's vendor must exist (``422 unknown_vendor``)."""
    dropship = c.type == "dropship" and c.vendor_id is not None  # the decision refuses others
    if dropship and not load(w.store, VENDOR, c.vendor_id).state.exists:
        raise InvalidCommand(
            f"Vendor {c.vendor_id} does not exist.", code="unknown_vendor",
            details={"field": "vendor_id"},
        )  # fmt: skip
    return execute(
        w.store,
        LOCATION,
        location_stream(c.code),
        lambda state, _v: register_location(state, c),
        ctx,
    )


def deactivate(w: WriteSide, c: DeactivateLocation, ctx: CommandContext) -> Outcome:
    return execute(
        w.store,
        LOCATION,
        location_stream(c.code),
        lambda state, _v: deactivate_location(state, c),
        ctx,
    )


HANDLERS = {RegisterLocation: register, DeactivateLocation: deactivate}


def get(store: EventStore, code: str) -> LocationState:
    return load(store, LOCATION, location_stream(code)).state
