"""Handlers for returns, and the steps the returns manager takes for them.

Handlers (``HANDLERS``, each records one decision and calls no gateway):

- ``RequestReturn``: only delivered units, within 30 days of their delivery, counted on the
  order's stream in the same transaction;
- ``ReceiveReturn``: ``ReturnReceived`` with its restock plan (into a location or, without one,
  each unit back where it shipped from); received again after its refund failed,
  ``ReturnRefundRetried``;
- ``RejectReturn``, ``CancelReturn``: both free the units on the order's stream in the same
  transaction.

Steps (``settle``), run by the returns manager (``commands/returns_manager.py``) on
``ReturnReceived`` and ``ReturnRefundRetried``: restock (each part once), ``LinesReturned`` on
the order, then the refund for the returned lines. A refund that fails (declined, or the
gateway kept failing through its retries) leaves the return ``received`` with
``ReturnRefundFailed``; each attempt has its own refund id. Every step is keyed by the return
id, so a replay writes nothing twice. Steps that keep failing (parked) end the same way
(``give_up``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

from commands import inventory, orders, payments
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.steps import StepContext, steps
from commands.write_side import WriteSide
from domain.errors import InvalidCommand
from domain.events import DomainEvent
from domain.inventory.commands import ReceiveStock
from domain.order import fulfillment as order_decide
from domain.order.events import LinesDelivered
from domain.order.state import ORDER
from domain.order.values import LineQuantity
from domain.payment.commands import RefundPayment
from domain.returns import decide
from domain.returns.commands import CancelReturn, ReceiveReturn, RejectReturn, RequestReturn
from domain.returns.events import ReturnRequested
from domain.returns.restock import RestockPart, Shipped, restock_to
from domain.returns.state import RETURN, ReturnState
from domain.returns.window import Delivery, require_within_window
from domain.shipment.state import SHIPMENT
from eventstore.store import EventStore, StreamAppend


def return_id_for(ctx: CommandContext, order_id: UUID) -> UUID:
    """A new return's id: made of the caller's idempotency key (a repeat is the same return),
    else new."""
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"return:{ctx.idempotency.principal}:{ctx.idempotency.key}")


def request(w: WriteSide, c: RequestReturn, ctx: CommandContext) -> Outcome:
    """RequestReturn. ``extra``: ``{id, status: "requested"}``."""
    if not c.reason.strip():
        raise InvalidCommand("A return needs a reason.", code="reason_required")
    store, order_id = w.store, c.order_id
    orders.require_exists(store, order_id)
    return_id = return_id_for(ctx, order_id)
    lines = [LineQuantity(line_id=x.line_id, quantity=x.quantity) for x in c.lines]
    delivered = deliveries(store, order_id)

    def decision(state, _v):  # noqa: ANN001
        events = order_decide.open_return(
            state, order_id, return_id=return_id, lines=lines, reason=c.reason
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
        requested = ReturnRequested(order_id=order_id, lines=list(opened.lines), reason=c.reason)
        return [StreamAppend(return_id, 0, [requested])]

    return execute(store, ORDER, order_id, decision, ctx, also=also)


def deliveries(store: EventStore, order_id: UUID) -> list[Delivery]:
    """Every delivered line of the order, with its shipment's recorded delivery time: the
    ``delivered_at`` its ``LinesDelivered`` carries (the carrier's time, as the shipment's
    ``ShipmentDelivered`` recorded it and the views show it), or, in events older than that
    field, the shipment stream's own."""
    found = []
    for e in store.load(order_id):
        if e.name == LinesDelivered.__name__:
            event = e.to_domain()
            assert isinstance(event, LinesDelivered)
            at = event.delivered_at or _delivered_at(store, event.shipment_id) or e.meta.occurred_at
            found += [Delivery(x.line_id, x.quantity, at) for x in event.lines]
    return found


def _delivered_at(store: EventStore, shipment_id: UUID):  # noqa: ANN202 - datetime | None
    return load(store, SHIPMENT, shipment_id).state.delivered_at


def get(store: EventStore, return_id: UUID) -> tuple[ReturnState, int]:
    loaded = load(store, RETURN, return_id)
    decide.require_return(loaded.state, return_id)
    return loaded.state, loaded.version


def _answer(return_id: UUID, state: ReturnState, events: list[DomainEvent]) -> dict:
    after = RETURN.fold(events, state)
    return {"id": str(return_id), "status": after.status, "refund": after.refund}


def receive(w: WriteSide, c: ReceiveReturn, ctx: CommandContext) -> Outcome:
    """ReceiveReturn: records the receipt (or, after a failed refund, a retry) and nothing
    else; the returns manager restocks and refunds. ``extra``: ``{id, status, refund}``, the
    refund ``pending`` while the manager is on it."""
    store = w.store
    ret, _ = get(store, c.return_id)
    parts: list[RestockPart] = []
    if c.restock and c.location:
        inventory.require_location(store, c.location)
    elif c.restock and ret.status == "requested":
        parts = _where_shipped_from(store, ret)

    def decision(state: ReturnState, _v: int):
        events = decide.receive(state, c, restock_to=parts)
        return events, _answer(c.return_id, state, events)

    return execute(store, RETURN, c.return_id, decision, ctx)


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
    w: WriteSide,
    ctx: CommandContext,
    return_id: UUID,
    attempt: int = 0,
    retry: payments.RetryPolicy = payments.RetryPolicy(),
) -> Outcome:
    """The returns manager's steps for a received return (``attempt`` 0) or a retried refund
    (its attempt number): restock each part (not once the order counts the return's lines
    returned: they were restocked then), record ``LinesReturned``, then refund number
    ``attempt``. The steps before the refund are keyed by the return alone, so a retry redoes
    only those that never happened."""
    store = w.store
    ret, _ = get(store, return_id)
    assert ret.order_id is not None
    order_id = ret.order_id
    step = steps(ctx, f"return:{return_id}")
    order = orders.get(store, order_id)
    if return_id not in order.returns_done:
        for line_id, location, quantity, key in _restocks(ret):
            line = order.line(line_id)
            assert line is not None
            if line.components:  # a bundle's line: each component back, per bundle × units
                parts = [(sku, per * quantity, f"{key}:{sku}") for sku, per in line.components]
            else:
                parts = [(line.sku, quantity, key)]
            for sku, units, part_key in parts:
                restocked = ReceiveStock(
                    sku=sku, location=location, quantity=units, reference=f"return:{return_id}"
                )
                inventory.receive(w, restocked, step(f"restock:{part_key}"))
        execute(
            store,
            ORDER,
            order_id,
            lambda s, _v: order_decide.record_lines_returned(
                s, order_id, return_id=return_id, lines=list(ret.lines)
            ),
            step("lines_returned"),
        )
    return _refund(w, step, return_id, attempt, retry)


def give_up(w: WriteSide, ctx: CommandContext, return_id: UUID, attempt: int) -> Outcome | None:
    """The manager's steps for refund ``attempt`` kept failing (they were parked): record how
    that refund ended, so the return does not show ``refund: "pending"`` for ever. Never asked
    of the gateway, or failed there: ``ReturnRefundFailed`` (receiving the return again retries
    every step not yet done); went through: ``ReturnRefunded``. Still in flight (the gateway may
    be moving the money): nothing, the parked record says so (None)."""
    ret, _ = get(w.store, return_id)
    assert ret.order_id is not None
    refund_id = _refund_id(return_id, attempt)
    pay = payments.get(w.store, ret.order_id)
    if pay.in_flight_amount(refund_id) is not None:
        return None
    amount = payments.requested_amount(w.store, ret.order_id, refund_id) or Decimal("0")
    step = steps(ctx, f"return:{return_id}")
    if refund_id in pay.refund_ids and refund_id not in pay.failed_refunds:
        return execute(
            w.store,
            RETURN,
            return_id,
            lambda s, _v: decide.mark_refunded(s, return_id, refund_id=refund_id, amount=amount),
            step("refunded"),
        )
    return execute(
        w.store,
        RETURN,
        return_id,
        lambda s, _v: decide.fail_refund(s, return_id, refund_id=refund_id, amount=amount),
        step(f"refund_failed{_again(attempt)}"),
    )


def _again(attempt: int) -> str:
    return f":{attempt}" if attempt else ""


def _refund_id(return_id: UUID, attempt: int) -> UUID:
    """Refund attempt ``attempt``'s id: its own, made of the return's."""
    return uuid5(return_id, f"refund{_again(attempt)}")


def _refund(
    w: WriteSide, step: StepContext, return_id: UUID, attempt: int, retry: payments.RetryPolicy
) -> Outcome:
    """Refund attempt ``attempt`` of a received return (its own refund id and step keys), then
    ``ReturnRefunded`` or ``ReturnRefundFailed``. Nothing to refund: refunded with nothing."""
    store = w.store
    ret, _ = get(store, return_id)
    assert ret.order_id is not None
    order_id = ret.order_id
    again = _again(attempt)
    refund_id = _refund_id(return_id, attempt)
    amount = _amount(store, order_id, ret, refund_id)
    if ret.status == "received" and amount > Decimal("0"):
        payments.refund(
            w,
            RefundPayment(
                order_id=order_id, refund_id=refund_id, amount=amount, reason="item_returned"
            ),
            step(f"refund{again}"),
            retry=retry,
        )
        if refund_id in payments.get(store, order_id).failed_refunds:
            return execute(
                store,
                RETURN,
                return_id,
                lambda s, _v: decide.fail_refund(s, return_id, refund_id=refund_id, amount=amount),
                step(f"refund_failed{again}"),
            )
    return execute(
        store,
        RETURN,
        return_id,
        lambda s, _v: decide.mark_refunded(s, return_id, refund_id=refund_id, amount=amount),
        step("refunded"),
    )


def _amount(store: EventStore, order_id: UUID, ret: ReturnState, refund_id: UUID) -> Decimal:
    """What refund ``refund_id`` gives back: what it was asked for, if it was; else the
    returned units' value, within what can still be refunded."""
    asked = payments.requested_amount(store, order_id, refund_id)
    if asked is not None:
        return asked
    value = order_decide.unit_value(orders.get(store, order_id), order_decide.as_dict(ret.lines))
    return min(value, payments.get(store, order_id).refundable)


def reject(w: WriteSide, c: RejectReturn, ctx: CommandContext) -> Outcome:
    return _close(w.store, ctx, c.return_id, lambda s: decide.reject(s, c))


def cancel(w: WriteSide, c: CancelReturn, ctx: CommandContext) -> Outcome:
    """CancelReturn (``requested → cancelled``): the units may be asked back again."""
    return _close(w.store, ctx, c.return_id, lambda s: decide.cancel(s, c))


def _close(
    store: EventStore,
    ctx: CommandContext,
    return_id: UUID,
    decision: Callable[[ReturnState], list[DomainEvent]],
) -> Outcome:
    """Reject or cancel the return, and free its units on the order in the same append.
    ``extra``: ``{id, status, refund}``."""
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

    def decided(state: ReturnState, _v: int):
        events = decision(state)
        return events, _answer(return_id, state, events)

    return execute(store, RETURN, return_id, decided, ctx, also=also)


HANDLERS = {
    RequestReturn: request,
    ReceiveReturn: receive,
    RejectReturn: reject,
    CancelReturn: cancel,
}
