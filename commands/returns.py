"""Handlers for returns: request (only delivered units, within 30 days of their delivery,
counted on the order's stream in the same transaction), receive (optional restock into a
location, or without one each unit back where it shipped from; ``LinesReturned``, then the
refund for the returned lines), reject and cancel (both free the units on the order's stream
in the same transaction).

A refund that fails (declined, or the gateway kept failing through its retries) leaves the
return ``received`` with ``ReturnRefundFailed``; receiving it again asks for a new refund
(its own id and step keys per attempt). ``extra["refund"]`` says how the refund went:
``succeeded``, ``failed`` or ``none`` (nothing to refund)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from uuid import UUID, uuid5

from commands import inventory, orders, payments
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.payment_gateway import PaymentGateway
from commands.steps import steps
from commands.write_side import WriteSide
from domain.errors import InvalidCommand
from domain.events import DomainEvent
from domain.inventory.commands import ReceiveStock
from domain.order import fulfillment as order_decide
from domain.order.events import LinesDelivered
from domain.order.state import ORDER
from domain.order.values import LineQuantity
from domain.returns import decide
from domain.returns.events import ReturnRequested
from domain.returns.restock import RestockPart, Shipped, restock_to
from domain.returns.state import RETURN, ReturnState
from domain.returns.window import Delivery, require_within_window
from eventstore.store import EventStore, StreamAppend


def request(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    *,
    return_id: UUID,
    lines: Sequence[LineQuantity],
    reason: str,
) -> Outcome:
    if not reason.strip():
        raise InvalidCommand("A return needs a reason.", code="reason_required")
    delivered = deliveries(store, order_id)

    def decision(state, _v):  # noqa: ANN001
        events = order_decide.open_return(
            state, order_id, return_id=return_id, lines=lines, reason=reason
        )
        if events:
            require_within_window(
                order_decide.as_dict(events[0].lines),
                delivered,
                {ln.line_id: ln.in_returns for ln in state.lines},
                ctx.now,
            )
        return events, {"id": str(return_id), "status": "requested"}

    def also(_state, events) -> list[StreamAppend]:  # noqa: ANN001
        opened = events[0]
        requested = ReturnRequested(order_id=order_id, lines=list(opened.lines), reason=reason)
        return [StreamAppend(return_id, 0, [requested])]

    return execute(store, ORDER, order_id, decision, ctx, also=also)


def deliveries(store: EventStore, order_id: UUID) -> list[Delivery]:
    """Every delivered line of the order, with when its ``LinesDelivered`` was recorded."""
    found = []
    for e in store.load(order_id):
        if e.name == LinesDelivered.__name__:
            event = e.to_domain()
            assert isinstance(event, LinesDelivered)
            found += [Delivery(x.line_id, x.quantity, e.meta.occurred_at) for x in event.lines]
    return found


def get(store: EventStore, return_id: UUID) -> tuple[ReturnState, int]:
    loaded = load(store, RETURN, return_id)
    decide.require_return(loaded.state, return_id)
    return loaded.state, loaded.version


def receive(
    store: EventStore,
    gateway: PaymentGateway,
    ctx: CommandContext,
    return_id: UUID,
    *,
    restock: bool,
    location: str | None = None,
) -> Outcome:
    """Receive, restock if asked, record ``LinesReturned``, refund; each step once. Restock
    without ``location``: each unit goes back where it shipped from."""
    parts: list[RestockPart] = []
    if restock and location:
        inventory.require_location(store, location)
    elif restock:
        ret, _ = get(store, return_id)
        if ret.status == "requested":
            parts = _where_shipped_from(store, ret)
    execute(
        store,
        RETURN,
        return_id,
        lambda s, _v: decide.receive(
            s, return_id, restock=restock, location=location, restock_to=parts
        ),
        ctx,
    )
    return settle(store, gateway, ctx, return_id)


def _where_shipped_from(store: EventStore, ret: ReturnState) -> list[RestockPart]:
    """The return's units, each back to the location its delivered shipment left from."""
    assert ret.order_id is not None
    order = orders.get(store, ret.order_id)
    shipped = [
        Shipped(line_id, s.location, quantity)
        for s in order.shipments
        if s.delivered and not s.cancelled
        for line_id, quantity in s.lines
    ]
    returned = {ln.line_id: ln.returned for ln in order.lines}
    return restock_to(shipped, returned, ret.lines)


def _restocks(ret: ReturnState) -> list[tuple[str, str, int, str]]:
    """(line, location, units, step key) for each restock the received return asks for."""
    if not ret.restock:
        return []
    if ret.location:
        return [(x.line_id, ret.location, x.quantity, x.line_id) for x in ret.lines]
    per_line: dict[str, int] = {}
    for p in ret.restock_to:
        per_line[p.line_id] = per_line.get(p.line_id, 0) + 1
    return [
        (p.line_id, p.location, p.quantity,
         p.line_id if per_line[p.line_id] == 1 else f"{p.line_id}:{p.location}")
        for p in ret.restock_to
    ]  # fmt: skip


def settle(
    store: EventStore, gateway: PaymentGateway, ctx: CommandContext, return_id: UUID
) -> Outcome:
    ret, _ = get(store, return_id)
    assert ret.order_id is not None
    order_id = ret.order_id
    step = steps(ctx, f"return:{return_id}", correlation_id=str(order_id))
    order = orders.get(store, order_id)
    write = WriteSide.over(store, gateway)  # fresh caches: this path has no write side yet
    for line_id, location, quantity, key in _restocks(ret):
        line = order.line(line_id)
        assert line is not None
        restocked = ReceiveStock(
            sku=line.sku, location=location, quantity=quantity, reference=f"return:{return_id}"
        )
        inventory.receive(write, restocked, step(f"restock:{key}"))
    execute(
        store,
        ORDER,
        order_id,
        lambda s, _v: order_decide.record_lines_returned(
            s, order_id, return_id=return_id, lines=list(ret.lines)
        ),
        step("lines_returned"),
    )
    amount = order_decide.unit_value(order, order_decide.as_dict(ret.lines))
    amount = min(amount, payments.get(store, order_id).refundable)
    n = ret.refund_attempt
    again = f":{n}" if n else ""
    refund_id = uuid5(return_id, f"refund{again}")
    if ret.status == "received" and amount > Decimal("0"):
        payments.refund(
            store,
            gateway,
            step(f"refund{again}"),
            order_id=order_id,
            refund_id=refund_id,
            amount=amount,
            reason="item_returned",
        )
        if refund_id in payments.get(store, order_id).failed_refunds:
            result = execute(
                store,
                RETURN,
                return_id,
                lambda s, _v: decide.fail_refund(s, return_id, refund_id=refund_id, amount=amount),
                step(f"refund_failed{again}"),
            )
            result.extra["refund"] = "failed"
            return result
    result = execute(
        store,
        RETURN,
        return_id,
        lambda s, _v: decide.mark_refunded(s, return_id, refund_id=refund_id, amount=amount),
        step("refunded"),
    )
    refunded = ret.status == "refunded" or amount > Decimal("0")
    result.extra["refund"] = "succeeded" if refunded else "none"
    return result


def reject(
    store: EventStore, ctx: CommandContext, return_id: UUID, *, note: str | None = None
) -> Outcome:
    return _close(store, ctx, return_id, lambda s: decide.reject(s, return_id, note=note))


def cancel(
    store: EventStore, ctx: CommandContext, return_id: UUID, *, note: str | None = None
) -> Outcome:
    """CancelReturn (``requested → cancelled``): the units may be asked back again."""
    return _close(store, ctx, return_id, lambda s: decide.cancel(s, return_id, note=note))


def _close(
    store: EventStore,
    ctx: CommandContext,
    return_id: UUID,
    decision: Callable[[ReturnState], list[DomainEvent]],
) -> Outcome:
    """Reject or cancel the return, and free its units on the order in the same append."""
    ret, _ = get(store, return_id)
    assert ret.order_id is not None
    order_id = ret.order_id

    def also(_state, _events) -> list[StreamAppend]:  # noqa: ANN001
        loaded = load(store, ORDER, order_id)
        events = order_decide.close_return(
            loaded.state, order_id, return_id=return_id, lines=list(ret.lines)
        )
        return (
            [StreamAppend(order_id, loaded.version, events, not_before=loaded.last_at)]
            if events
            else []
        )

    return execute(store, RETURN, return_id, lambda s, _v: decision(s), ctx, also=also)
