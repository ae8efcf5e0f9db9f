"""Fulfillment plan decision state and its evolution; decisions are in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.fulfillment.events import (
    PLAN_EVENTS,
    ItemsPacked,
    ItemsPicked,
    PlanCreated,
    PlanRevised,
    PlanStatusChanged,
)


@dataclass(frozen=True, slots=True)
class LineProgress:
    line_id: str
    sku: str
    allocated: int
    reservation_id: UUID
    picked: int = 0
    packed: int = 0


@dataclass(frozen=True, slots=True)
class PlanState:
    exists: bool = False
    order_id: UUID | None = None
    location: str = ""
    status: str = "planned"
    held_from: str | None = None
    lines: tuple[LineProgress, ...] = ()

    def line(self, line_id: str) -> LineProgress | None:
        return next((x for x in self.lines if x.line_id == line_id), None)


def _set_line(state: PlanState, line_id: str, **changes: int) -> PlanState:
    lines = tuple(replace(x, **changes) if x.line_id == line_id else x for x in state.lines)
    return replace(state, lines=lines)


def evolve(state: PlanState, event: DomainEvent) -> PlanState:
    match event:
        case PlanCreated():
            lines = tuple(
                LineProgress(x.line_id, x.sku, x.allocated, x.reservation_id) for x in event.lines
            )
            return PlanState(True, event.order_id, event.location, "planned", None, lines)
        case PlanRevised():
            lines = tuple(
                LineProgress(x.line_id, x.sku, x.allocated, x.reservation_id) for x in event.lines
            )
            return replace(state, lines=lines)
        case PlanStatusChanged():
            held = event.previous if event.status == "on_hold" else None
            return replace(state, status=event.status, held_from=held)
        case ItemsPicked():
            return _set_line(state, event.line_id, picked=event.picked)
        case ItemsPacked():
            return _set_line(state, event.line_id, packed=event.packed)
    return state


PLAN = AggregateType("fulfillment_plan", PlanState, evolve, PLAN_EVENTS)
