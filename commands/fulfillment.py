"""Handlers for fulfillment plans: one per (order, location), created from the confirmed
order's allocations; picking moves the order to ``processing`` in the same transaction."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from commands import orders
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.write_side import WriteSide
from domain.errors import NotFound
from domain.fulfillment import decide as plans
from domain.fulfillment.commands import UpdatePlan
from domain.fulfillment.events import PlanLine
from domain.fulfillment.state import PLAN, PlanState
from domain.ids import plan_stream
from domain.order import fulfillment as order_decide
from domain.order.state import ORDER
from eventstore.store import EventStore, StreamAppend


def locations_of(allocations) -> list[str]:  # noqa: ANN001
    return sorted({str(a["location"]) for a in allocations})


def _plan_lines(allocations, location: str) -> list[PlanLine]:  # noqa: ANN001
    """One plan line per order line held at ``location`` (per component for a bundle's line):
    a line grown by an edit holds a second reservation there, and the plan counts both (under
    the line's first reservation)."""
    lines: dict[tuple[str, str], PlanLine] = {}
    for a in allocations:
        if a["location"] != location:
            continue
        line_id = str(a["line_id"])
        held = lines.get((line_id, str(a["sku"])))
        lines[(line_id, str(a["sku"]))] = (
            PlanLine(
                line_id=line_id,
                sku=str(a["sku"]),
                allocated=int(a["quantity"]),
                reservation_id=UUID(str(a["reservation_id"])),
            )
            if held is None
            else held.model_copy(update={"allocated": held.allocated + int(a["quantity"])})
        )
    return list(lines.values())


def plans_for(
    order_id: UUID,
    allocations,  # noqa: ANN001
    dropship: Collection[str] = (),
) -> list[tuple[UUID, str, list[PlanLine], str]]:
    """The plans an order's allocations call for: (plan id, location, lines, strategy). A plan
    at one of the ``dropship`` locations has strategy ``dropship`` (its vendor ships it)."""
    locations = locations_of(allocations)
    strategy = "single_warehouse" if len(locations) == 1 else "split_shipment"
    return [
        (
            plan_stream(order_id, loc),
            loc,
            _plan_lines(allocations, loc),
            "dropship" if loc in dropship else strategy,
        )
        for loc in locations
    ]


def sync_plans(store: EventStore, step, order_id: UUID, previous_locations, dropship=()) -> None:  # noqa: ANN001
    """After a line edit: revise each plan to the new allocations, create the plan of a new
    location (``dropship``: the dropship locations' codes), cancel the plan of a location no
    longer used."""
    state = orders.get(store, order_id)
    locations = locations_of(state.allocations)
    create_plans(store, step, order_id, dropship)
    for location in locations:
        lines = _plan_lines(state.allocations, location)
        execute(
            store,
            PLAN,
            plan_stream(order_id, location),
            lambda s, _v, lines=lines: plans.revise_plan(s, lines=lines),
            step(f"revise_plan:{location}"),
        )
    for location in set(previous_locations) - set(locations):
        execute(
            store,
            PLAN,
            plan_stream(order_id, location),
            lambda s, _v: plans.cancel_plan(s),
            step(f"cancel_plan:{location}"),
        )


def create_plans(store: EventStore, step, order_id: UUID, dropship=()) -> list[UUID]:  # noqa: ANN001
    """One plan per location of the order's allocations (a repeat writes nothing; a cancelled
    or split order, whose holds are released, gets none)."""
    state = orders.get(store, order_id)
    if state.cancelled or state.split:
        return []
    ids = []
    for plan_id, location, lines, strategy in plans_for(order_id, state.allocations, dropship):
        execute(
            store,
            PLAN,
            plan_id,
            lambda s, _v, lines=lines, location=location, strategy=strategy: plans.create_plan(
                s,
                order_id=order_id,
                location=location,
                lines=lines,
                priority=state.priority,
                strategy=strategy,
            ),
            step(f"plan:{location}"),
        )
        ids.append(plan_id)
    return ids


def update(w: WriteSide, c: UpdatePlan, ctx: CommandContext) -> Outcome:
    """``result.extra["status"]``: the plan's status after the command; picking moves the order
    to ``processing`` in the same transaction."""
    store, plan_id = w.store, c.plan_id
    require_plan(store, plan_id)

    def also(state: PlanState, events) -> list[StreamAppend]:  # noqa: ANN001
        if not any(getattr(e, "status", None) == "picking" for e in events):
            return []
        assert state.order_id is not None
        order = load(store, ORDER, state.order_id)
        started = order_decide.start_fulfillment(
            order.state, state.order_id, plan_id=plan_id, location=state.location
        )
        return (
            [StreamAppend(state.order_id, order.version, started, not_before=order.last_at)]
            if started
            else []
        )

    def decision(state: PlanState, _v: int):
        events = plans.update_plan(state, c)
        return events, {"status": PLAN.fold(events, state).status}

    return execute(store, PLAN, plan_id, decision, ctx, also=also)


def mark_shipped(store: EventStore, ctx: CommandContext, order_id: UUID, location: str) -> None:
    execute(store, PLAN, plan_stream(order_id, location), lambda s, _v: plans.mark_shipped(s), ctx)


def cancel_plans(store: EventStore, step, order_id: UUID) -> None:  # noqa: ANN001
    state = orders.get(store, order_id)
    for location in locations_of(state.allocations):
        execute(
            store,
            PLAN,
            plan_stream(order_id, location),
            lambda s, _v: plans.cancel_plan(s),
            step(f"cancel_plan:{location}"),
        )


def get(store: EventStore, plan_id: UUID) -> tuple[PlanState, int]:
    loaded = load(store, PLAN, plan_id)
    plans.require_plan(loaded.state, plan_id)
    return loaded.state, loaded.version


def require_plan(store: EventStore, plan_id: UUID) -> None:
    if not load(store, PLAN, plan_id).state.exists:
        raise NotFound(f"Fulfillment plan {plan_id} does not exist.", code="plan_not_found")


HANDLERS = {UpdatePlan: update}
