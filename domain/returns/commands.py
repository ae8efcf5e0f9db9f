"""The commands of a return, as messages: request one (on the order's delivered units),
receive it (which also asks again for a refund that failed), reject it, cancel it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from domain.command import Command, LocationCode, whole


class ReturnLine(BaseModel):
    """``quantity`` units of the order line ``line_id``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: Annotated[str, Field(max_length=100)]
    quantity: whole()  # type: ignore[valid-type]


class RequestReturn(Command):
    order_id: UUID
    lines: Annotated[list[ReturnLine], Field(max_length=100)]
    reason: Annotated[str, Field(max_length=500)]


class ReceiveReturn(Command):
    """Receive the parcel, restocking into ``location`` or, without one, each unit back where
    it shipped from. On a received return whose refund failed: ask for the refund again."""

    return_id: UUID
    restock: StrictBool = False
    location: LocationCode | None = None


class RejectReturn(Command):
    return_id: UUID
    note: Annotated[str, Field(max_length=2000)] | None = None


class CancelReturn(Command):
    return_id: UUID
    note: Annotated[str, Field(max_length=2000)] | None = None
