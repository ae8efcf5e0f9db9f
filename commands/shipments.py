"""Handlers for shipments: open one (numbered on the order's stream, created on its own in the
same transaction), record tracking events and delivery attempts (on the shipment, with the
order's copy in the same transaction), and nothing more: what follows is the fulfillment
process manager's (``commands/fulfillment_saga.py``), which calls ``complete_dispatch`` and
``complete_delivery`` here.

Dispatch (``ShipmentDispatched``) commits the reservations, records ``LinesShipped`` on the
order, captures the payment for the shipped lines (shipping with the first shipment, everything
left with the last) and marks the plan shipped. Each of those steps has its own idempotency key
scoped by the shipment, so a repeat (a duplicate event, a replay after a crash, a cancellation
finishing the dispatch first) does each exactly once."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4, uuid5

from commands import fulfillment, inventory, orders, payments
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.steps import steps
from commands.write_side import WriteSide
from domain.inventory.commands import CommitReservation
from domain.inventory.state import InventoryState
from domain.order import events as order_events
from domain.order import fulfillment as order_decide
from domain.order.fulfillment_commands import RecordLinesDelivered, RecordLinesShipped
from domain.order.state import ORDER
from domain.payment.commands import CapturePayment
from domain.reported_time import ReportedTimes
from domain.shipment import carriers, decide
from domain.shipment import events as shipment_events
from domain.shipment.commands import OpenShipment, RecordDeliveryAttempt, RecordTracking
from domain.shipment.events import ShipmentCreated
from domain.shipment.state import SHIPMENT, ShipmentState
from eventstore.store import EventStore, StreamAppend


def _new_shipment_id(ctx: CommandContext, order_id: UUID) -> UUID:
    """The new shipment's id: from the idempotency key, so a repeat names the same one."""
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"shipment:{ctx.idempotency.principal}:{ctx.idempotency.key}")


def open_shipment(w: WriteSide, c: OpenShipment, ctx: CommandContext) -> Outcome:
    """``result.extra`` holds ``id``, ``number`` and ``carrier``; without a carrier, the best
    of the carrier table is chosen (``domain.shipment.carriers``)."""
    store, order_id = w.store, c.order_id
    orders.require_exists(store, order_id)
    shipment_id = _new_shipment_id(ctx, order_id)
    chosen = c.carrier or carriers.choose().name

    def decision(state, _v):  # noqa: ANN001
        events = order_decide.open_shipment(state, c, shipment_id, chosen)
        ref = state.shipment(shipment_id)
        number = events[0].number if events else (ref.number if ref else 0)
        return events, {"id": str(shipment_id), "number": number, "carrier": chosen}

    def also(_state, events) -> list[StreamAppend]:  # noqa: ANN001
        opened = events[0]
        created = ShipmentCreated(
            order_id=order_id,
            number=opened.number,
            location=c.location,
            lines=list(opened.lines),
            carrier=chosen,
            tracking_number=c.tracking_number,
        )
        return [StreamAppend(shipment_id, 0, [created])]

    return execute(store, ORDER, order_id, decision, ctx, also=also)


def get(store: EventStore, shipment_id: UUID) -> tuple[ShipmentState, int]:
    loaded = load(store, SHIPMENT, shipment_id)
    decide.require_shipment(loaded.state, shipment_id)
    return loaded.state, loaded.version


def _mirror(store: EventStore, order_id: UUID, events) -> list[StreamAppend]:  # noqa: ANN001
    """The order's copies of tracking events and delivery attempts, in the same transaction."""
    copies = []
    for e in events:
        if isinstance(e, shipment_events.ShipmentTrackingUpdated):
            copies.append(
                order_events.ShipmentTrackingUpdated(
                    shipment_id=e.shipment_id,
                    code=e.code,
                    status=e.status,
                    tracking_number=e.tracking_number,
                    occurred_at=e.occurred_at,
                )
            )
        elif isinstance(e, shipment_events.DeliveryAttemptRecorded):
            copies.append(
                order_events.DeliveryAttemptRecorded(
                    shipment_id=e.shipment_id,
                    attempt=e.attempt,
                    outcome=e.outcome,
                    failure_reason=e.failure_reason,
                    next_attempt_at=e.next_attempt_at,
                    occurred_at=e.occurred_at,
                )
            )
    if not copies:
        return []
    order = load(store, ORDER, order_id)
    return [StreamAppend(order_id, order.version, copies, not_before=order.last_at)]


def reported_times(w: WriteSide, shipment: ShipmentState, ctx: CommandContext) -> ReportedTimes:
    """The range a carrier's reported time must lie in: from the placement of the shipment's
    order (read from the order's stream) to now plus the configured clock skew."""
    assert shipment.order_id is not None
    placed_at = load(w.store, ORDER, shipment.order_id).state.placed_at
    return ReportedTimes(earliest=placed_at or ctx.now, now=ctx.now, skew=w.clock_skew)


def track(w: WriteSide, c: RecordTracking, ctx: CommandContext) -> Outcome:
    """``result.extra["status"]``: the shipment's status after the event. A ``picked_up``
    records ``ShipmentDispatched``; the dispatch itself is the process manager's."""
    times = reported_times(w, get(w.store, c.shipment_id)[0], ctx)

    def decision(state: ShipmentState, _v: int):
        events = decide.record_tracking(state, c, times)
        return events, {"status": SHIPMENT.fold(events, state).status}

    return _record(w.store, c.shipment_id, decision, ctx)


def attempt(w: WriteSide, c: RecordDeliveryAttempt, ctx: CommandContext) -> Outcome:
    """``result.extra``: the ``attempt`` number and the shipment's ``status`` after it. A
    successful attempt records ``ShipmentDelivered``; the order's ``LinesDelivered`` is the
    process manager's."""
    times = reported_times(w, get(w.store, c.shipment_id)[0], ctx)

    def decision(state: ShipmentState, _v: int):
        events = decide.record_attempt(state, c, times)
        return events, {
            "attempt": state.attempts + 1,
            "status": SHIPMENT.fold(events, state).status,
        }

    return _record(w.store, c.shipment_id, decision, ctx)


def _record(store: EventStore, shipment_id: UUID, decision, ctx: CommandContext) -> Outcome:  # noqa: ANN001
    """The shipment's events, with the order's copies in the same transaction."""
    return execute(
        store,
        SHIPMENT,
        shipment_id,
        decision,
        ctx,
        also=lambda s, events: _mirror(store, s.order_id, events),
    )


def complete_dispatch(w: WriteSide, ctx: CommandContext, shipment_id: UUID) -> None:
    """Commit, ``LinesShipped``, capture, plan shipped: each once (the process manager's steps
    for ``ShipmentDispatched``, and a cancellation's for a dispatch it finds unfinished)."""
    store = w.store
    sh = load(store, SHIPMENT, shipment_id).state
    if not sh.dispatched or sh.order_id is None:
        return
    order_id = sh.order_id
    step = steps(ctx, f"dispatch:{shipment_id}")
    order = orders.get(store, order_id)
    for x in sh.lines:
        line = order.line(x.line_id)
        if line is not None and line.components:
            # a bundle's line commits each component: per bundle × the bundles shipped
            for sku, per in line.components:
                _commit_line(w, step, order, sh, shipment_id, x.line_id, sku, per * x.quantity)
        else:
            _commit_line(w, step, order, sh, shipment_id, x.line_id, None, x.quantity)
    execute(
        store,
        ORDER,
        order_id,
        lambda s, _v: order_decide.record_lines_shipped(
            s, RecordLinesShipped(order_id=order_id, shipment_id=shipment_id)
        ),
        step("lines_shipped"),
    )
    order = orders.get(store, order_id)
    amount = order_decide.unit_value(order, order_decide.as_dict(sh.lines))
    earlier = [
        r for r in order.shipments if r.dispatched and r.number < sh.number and not r.cancelled
    ]
    if not earlier and order.shipping is not None:
        amount += order.shipping.amount
    if order_decide.fully_shipped(order):
        amount = payments.get(store, order_id).capturable
    payments.capture(
        w,
        CapturePayment(
            order_id=order_id,
            capture_id=uuid5(shipment_id, "capture"),
            amount=amount,
            shipment_id=shipment_id,
        ),
        step("capture"),
    )
    fulfillment.mark_shipped(store, step("plan_shipped"), order_id, sh.location)


def _commit_line(
    w: WriteSide, step, order, sh, shipment_id: UUID, line_id: str, sku, quantity: int
) -> None:  # noqa: ANN001, E501
    """Commit ``quantity`` units of one line (of its component ``sku``, for a bundle's line)
    from its reservations at the shipment's location."""
    held = [
        a
        for a in order.allocations
        if a["line_id"] == line_id
        and a["location"] == sh.location
        and (sku is None or a["sku"] == sku)
    ]
    if not held:
        return
    stock = inventory.get(w.store, str(held[0]["sku"]))
    first = f"commit:{line_id}" if sku is None else f"commit:{line_id}:{sku}"
    for a, units in spread(stock, shipment_id, held, quantity):
        rid = str(a["reservation_id"])
        # the first reservation keeps the key a line's only commit has always had
        key = first if a is held[0] else f"commit:{line_id}:{rid}"
        commit = CommitReservation(
            sku=str(a["sku"]), reservation_id=rid, shipment_id=shipment_id, quantity=units
        )
        inventory.commit(w, commit, step(key))


def spread(
    stock: InventoryState, shipment_id: UUID, held: list[dict[str, Any]], quantity: int
) -> list[tuple[dict[str, Any], int]]:
    """How ``quantity`` units of a line leave by ``shipment_id``: ``(allocation, units)`` over
    the line's reservations at the shipment's location (``held``, in allocation order), each
    taking what it still holds until none are left; the last takes the rest (its commit then
    says why it cannot). A reservation this shipment already committed from keeps what it
    committed, so a repeat after a crash spreads the units as the first run did."""
    need, plan = quantity, []
    for n, a in enumerate(held):
        rid = UUID(str(a["reservation_id"]))
        r = stock.reservations.get(rid)
        done = stock.committed_to(rid, shipment_id)
        if done:
            need -= done
            plan.append((a, done))
            continue
        last = n == len(held) - 1
        free = r.remaining if r is not None and r.status == "active" else 0
        units = need if last or r is None else min(need, free)
        if units > 0:
            plan.append((a, units))
            need -= units
    return plan


def complete_delivery(w: WriteSide, ctx: CommandContext, shipment_id: UUID) -> None:
    """``LinesDelivered`` on the order, once (the process manager's step for
    ``ShipmentDelivered``)."""
    store = w.store
    sh = load(store, SHIPMENT, shipment_id).state
    if sh.status != "delivered" or sh.order_id is None:
        return
    order_id = sh.order_id
    step = steps(ctx, f"deliver:{shipment_id}")
    execute(
        store,
        ORDER,
        order_id,
        lambda s, _v: order_decide.record_lines_delivered(
            s,
            RecordLinesDelivered(
                order_id=order_id, shipment_id=shipment_id, delivered_at=sh.delivered_at
            ),
        ),
        step("lines_delivered"),
    )


def cancel(store: EventStore, ctx: CommandContext, shipment_id: UUID, *, reason: str) -> None:
    """Cancel an undispatched shipment on both streams (its units may ship again)."""
    sh = load(store, SHIPMENT, shipment_id).state
    if sh.order_id is None:
        return
    order_id = sh.order_id

    def also(_state, _events) -> list[StreamAppend]:  # noqa: ANN001
        loaded = load(store, ORDER, order_id)
        events = order_decide.cancel_shipment(loaded.state, order_id, shipment_id=shipment_id)
        return (
            [StreamAppend(order_id, loaded.version, events, not_before=loaded.last_at)]
            if events
            else []
        )

    execute(
        store,
        SHIPMENT,
        shipment_id,
        lambda s, _v: decide.cancel_shipment(s, shipment_id, reason=reason),
        ctx,
        also=also,
    )


HANDLERS = {
    OpenShipment: open_shipment,
    RecordTracking: track,
    RecordDeliveryAttempt: attempt,
}
