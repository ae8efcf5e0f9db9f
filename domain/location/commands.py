"""The commands on a location, as messages: register it, deactivate it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, LocationCode, whole
from domain.location.events import LocationType


class RegisterLocation(Command):
    code: LocationCode
    name: Annotated[str, Field(min_length=1, max_length=200)]
    type: LocationType
    priority: whole(ge=0, le=1_000_000) = 100  # an integer, never ``false``
    #: Required for a ``dropship`` location (its vendor), refused for any other type.
    vendor_id: UUID | None = None


class DeactivateLocation(Command):
    code: LocationCode
    reason: str
