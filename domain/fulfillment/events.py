"""Events of the Fulfillment plan aggregate (stream type ``fulfillment_plan``, one stream
per plan)."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.events import DomainEvent


class PlanEvent(DomainEvent):
    stream_type: ClassVar[str] = "fulfillment_plan"


class PlanLine(BaseModel):
    """A plan line inside ``PlanCreated``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: str
    sku: str
    allocated: int
    reservation_id: UUID


class PlanCreated(PlanEvent):
    order_id: UUID
    location: str
    lines: list[PlanLine]
    priority: str
    strategy: str


class PlanRevised(PlanEvent):
    """The plan's lines after an order edit (only before picking)."""

    order_id: UUID
    lines: list[PlanLine]


class PlanStatusChanged(PlanEvent):
    order_id: UUID
    status: str
    previous: str


class ItemsPicked(PlanEvent):
    order_id: UUID
    line_id: str
    picked: int  # the line's picked count after this event


class ItemsPacked(PlanEvent):
    order_id: UUID
    line_id: str
    packed: int


PLAN_EVENTS = (PlanCreated, PlanStatusChanged, ItemsPicked, ItemsPacked, PlanRevised)
