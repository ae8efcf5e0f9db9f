"""Fulfillment plan decisions: create, move, pick and pack, ship, cancel and revise a plan.

States ``planned → picking → packed → shipped``, with ``on_hold`` (back to the state it left)
and ``cancelled``; per line packed ≤ picked ≤ allocated."""

from __future__ import annotations

from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.fulfillment.commands import UpdatePlan
from domain.fulfillment.events import (
    ItemsPacked,
    ItemsPicked,
    PlanCreated,
    PlanLine,
    PlanRevised,
    PlanStatusChanged,
)
from domain.fulfillment.state import PLAN, PlanState

TRANSITIONS = {
    "planned": {"picking", "on_hold", "cancelled"},
    "picking": {"packed", "on_hold", "cancelled"},
    "packed": {"shipped", "on_hold", "cancelled"},
    "on_hold": {"cancelled"},  # plus the status it left
    "shipped": set(),
    "cancelled": set(),
}


def require_plan(state: PlanState, plan_id: UUID) -> PlanState:
    if not state.exists:
        raise NotFound(f"Fulfillment plan {plan_id} does not exist.", code="plan_not_found")
    return state


def create_plan(
    state: PlanState,
    *,
    order_id: UUID,
    location: str,
    lines: list[PlanLine],
    priority: str,
    strategy: str,
) -> list[DomainEvent]:
    if state.exists:
        return []
    return [
        PlanCreated(
            order_id=order_id, location=location, lines=lines, priority=priority, strategy=strategy
        )
    ]


def _move(state: PlanState, status: str) -> list[DomainEvent]:
    if status == state.status:
        return []
    allowed = set(TRANSITIONS[state.status])
    if state.status == "on_hold" and state.held_from:
        allowed.add(state.held_from)
    if status not in allowed:
        raise IllegalTransition("fulfillment_plan", state.status, status)
    assert state.order_id is not None
    return [PlanStatusChanged(order_id=state.order_id, status=status, previous=state.status)]


def update_plan(state: PlanState, c: UpdatePlan) -> list[DomainEvent]:
    """Move the plan and/or record picked and packed counts (absolute, per line)."""
    plan_id, status, picked, packed = c.plan_id, c.status, c.picked, c.packed
    require_plan(state, plan_id)
    if status is None and not picked and not packed:
        raise InvalidCommand("Give a status, picked or packed.", code="nothing_to_update")
    assert state.order_id is not None
    events: list[DomainEvent] = []
    target = status or state.status
    if status is not None and status in ("packed",) and state.status == "planned":
        raise IllegalTransition("fulfillment_plan", state.status, status)
    if (picked or packed) and target not in ("picking", "packed"):
        raise Conflict(
            "Units are picked and packed while the plan is picking or packed.",
            code="plan_not_picking",
        )
    if status is not None:
        events += _move(state, status)
    work = PLAN.fold(events, state)
    _refuse_counts_of_bundle_lines(work, [*(picked or {}), *(packed or {})])
    picks: list[DomainEvent] = []
    for line_id, n in (picked or {}).items():
        line = work.line(line_id)
        if line is None:
            raise InvalidCommand(f"Line '{line_id}' is not in this plan.", code="unknown_line")
        if not 0 <= n <= line.allocated or n < line.packed:
            raise InvalidCommand(
                f"Line '{line_id}': picked must be between packed ({line.packed}) and "
                f"allocated ({line.allocated}).",
                code="picked_exceeds_allocated",
                details={"line_id": line_id, "allocated": line.allocated},
            )
        if n != line.picked:
            picks.append(ItemsPicked(order_id=state.order_id, line_id=line_id, picked=n))
    work = PLAN.fold(picks, work)
    events += picks
    for line_id, n in (packed or {}).items():
        line = work.line(line_id)
        if line is None:
            raise InvalidCommand(f"Line '{line_id}' is not in this plan.", code="unknown_line")
        if not 0 <= n <= line.picked:
            raise InvalidCommand(
                f"Line '{line_id}': packed must be at most picked ({line.picked}).",
                code="packed_exceeds_picked",
                details={"line_id": line_id, "picked": line.picked},
            )
        if n != line.packed:
            events.append(ItemsPacked(order_id=state.order_id, line_id=line_id, packed=n))
    return events


def _refuse_counts_of_bundle_lines(state: PlanState, line_ids) -> None:  # noqa: ANN001
    """A bundle's line is planned component by component (one plan line per component SKU,
    under the order line's id): picked and packed counts of it, which are per line, are
    refused rather than counted in one component's units."""
    for line_id in line_ids:
        if sum(1 for x in state.lines if x.line_id == line_id) > 1:
            raise InvalidCommand(
                f"Line '{line_id}' is a bundle's: picked and packed counts are not supported.",
                code="bundle_line_unsupported",
                details={"line_id": line_id},
            )


def mark_shipped(state: PlanState) -> list[DomainEvent]:
    """Dispatch from a packed plan records ``shipped``; otherwise nothing."""
    if state.status != "packed" or state.order_id is None:
        return []
    return [PlanStatusChanged(order_id=state.order_id, status="shipped", previous="packed")]


def cancel_plan(state: PlanState) -> list[DomainEvent]:
    if not state.exists or state.status in ("shipped", "cancelled") or state.order_id is None:
        return []
    return [PlanStatusChanged(order_id=state.order_id, status="cancelled", previous=state.status)]


def revise_plan(state: PlanState, *, lines: list[PlanLine]) -> list[DomainEvent]:
    """New lines for a plan nothing was picked for yet; the same lines write nothing."""
    if state.order_id is None or state.status in ("shipped", "cancelled"):
        return []
    current = [(x.line_id, x.sku, x.allocated, x.reservation_id) for x in state.lines]
    if current == [(x.line_id, x.sku, x.allocated, x.reservation_id) for x in lines]:
        return []
    if any(x.picked for x in state.lines):
        raise Conflict("Units were picked for this plan already.", code="plan_already_picking")
    return [PlanRevised(order_id=state.order_id, lines=lines)]
