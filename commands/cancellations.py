"""Cancellation requests: ``pending → approved → completed`` or ``rejected``; one open request
per order; a fully shipped order is refused (use a return).

A request records only the decision (``CancellationRequested``, ``CancellationReviewed``,
``CancellationRetried``); the fulfillment process manager then completes an approved one
(``complete``), each step once (keys scoped by the request):
cancel undispatched shipments, finish any dispatch in progress, refund captures beyond what
shipped, void the uncaptured rest, release what is still reserved, cancel the order
(``OrderCancelled`` when nothing shipped, else ``OrderLinesCancelled`` for the unshipped rest),
cancel the plans and record ``CancellationCompleted``. The steps on the payment and the order
are command messages with their handlers (``RefundPayment``, ``VoidAuthorization``,
``CancelOrder``; ``CancelUnshippedLines``, ``CompleteCancellation``, ``FailCancellation``
here).

A void or refund the gateway keeps failing is retried (``payments.RetryPolicy``, bounded), then
``CancellationFailed`` is recorded on the order (the request ends ``failed``) and an alert is
logged on ``ecom.alerts``; the money steps come before the release, so the order is then left
as it was (still reserved, not cancelled) for someone to look at. Approving the failed request
again retries it (``CancellationRetried``, then the same steps; the refund and the steps that
may fail get keys of their own per attempt)."""

from __future__ import annotations

import logging
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

from commands import fulfillment, inventory, orders, payments, shipments
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.steps import steps
from commands.write_side import WriteSide
from domain.errors import NotFound
from domain.ids import cancellation_request_stream
from domain.inventory.commands import ReleaseReservation
from domain.order import cancellation_failure as failure
from domain.order import fulfillment as decide
from domain.order.commands import CancelOrder
from domain.order.events import CancellationRequestFiled
from domain.order.fulfillment_commands import (
    CancelUnshippedLines,
    CompleteCancellation,
    FailCancellation,
    RequestCancellation,
    ReviewCancellation,
)
from domain.order.state import ORDER
from domain.payment.commands import RefundPayment, VoidAuthorization
from eventstore.store import EventStore, StreamAppend

alerts = logging.getLogger("ecom.alerts")


def _new_request_id(ctx: CommandContext, order_id: UUID) -> UUID:
    """The new request's id: from the idempotency key, so a repeat names the same one."""
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"cancellation:{ctx.idempotency.principal}:{ctx.idempotency.key}")


def request(w: WriteSide, c: RequestCancellation, ctx: CommandContext) -> Outcome:
    """Open a request (``pending``). ``result.extra``: ``id``, ``order_id``, ``status``."""
    store, order_id = w.store, c.order_id
    orders.require_exists(store, order_id)
    request_id = _new_request_id(ctx, order_id)

    def decision(state, _v):  # noqa: ANN001
        events = decide.request_cancellation(state, c, request_id, ctx.actor)
        return events, {"id": str(request_id), "order_id": str(order_id), "status": "pending"}

    def also(_state, _events) -> list[StreamAppend]:  # noqa: ANN001
        filed = CancellationRequestFiled(request_id=request_id, order_id=order_id)
        return [StreamAppend(cancellation_request_stream(request_id), 0, [filed])]

    return execute(store, ORDER, order_id, decision, ctx, also=also)


def order_of(store: EventStore, request_id: UUID) -> UUID:
    events = store.load(cancellation_request_stream(request_id), up_to_version=1)
    if not events:
        raise NotFound(
            f"Cancellation request {request_id} does not exist.", code="cancellation_not_found"
        )
    return events[0].to_domain().order_id  # type: ignore[attr-defined]


def review(w: WriteSide, c: ReviewCancellation, ctx: CommandContext) -> Outcome:
    """Approve or reject a pending request (``CancellationReviewed``); approving a ``failed``
    one retries it (``CancellationRetried``). Only the decision is recorded here: the
    fulfillment process manager carries out an approval (``complete``). ``result.extra``:
    ``id``, ``order_id`` and the ``status`` recorded (``approved``, ``rejected``)."""
    order_id = order_of(w.store, c.request_id)

    def decision(state, _v):  # noqa: ANN001
        r = state.cancellation
        if c.approve and r is not None and r.request_id == c.request_id and r.status == "failed":
            events = failure.retry_cancellation(state, c, order_id, ctx.actor)
        else:
            events = decide.review_cancellation(state, c, order_id, ctx.actor)
        status = "approved" if c.approve else "rejected"
        return events, {"id": str(c.request_id), "order_id": str(order_id), "status": status}

    return execute(w.store, ORDER, order_id, decision, ctx)


def complete(
    w: WriteSide,
    ctx: CommandContext,
    order_id: UUID,
    request_id: UUID,
    retry: payments.RetryPolicy = payments.RetryPolicy(),
) -> str:
    """Carry out an approved cancellation; repeats write nothing. Returns the request's status
    afterwards: ``completed``, or ``failed`` when the gateway kept failing a void or refund."""
    store = w.store
    state = orders.get(store, order_id)
    c = state.cancellation
    if c is None or c.request_id != request_id or c.status != "approved":
        return c.status if c is not None and c.request_id == request_id else "approved"
    step = steps(ctx, f"cancel:{request_id}")
    # a retry asks for a new refund (the failed one is settled) under keys of its own
    again = f":{c.attempt}" if c.attempt else ""
    for ref in state.shipments:
        if not ref.cancelled and not ref.dispatched:
            sh = load(store, shipments.SHIPMENT, ref.shipment_id).state
            if not sh.dispatched:
                shipments.cancel(
                    store, step(f"shipment:{ref.shipment_id}"), ref.shipment_id, reason=c.reason
                )
    state = orders.get(store, order_id)
    for ref in state.shipments:
        if not ref.cancelled:
            shipments.complete_dispatch(w, ctx, ref.shipment_id)
    state = orders.get(store, order_id)
    pay = payments.get(store, order_id)
    shipped = {ln.line_id: ln.shipped for ln in state.lines}
    kept = decide.unit_value(state, shipped)
    if any(shipped.values()) and state.shipping is not None:
        kept += state.shipping.amount  # shipping is kept once anything shipped
    over = pay.captured - pay.refunded - kept
    refund_id = uuid5(request_id, f"refund{again}")
    if over > Decimal("0") and refund_id not in pay.refund_ids:
        payments.refund(
            w,
            RefundPayment(
                order_id=order_id,
                refund_id=refund_id,
                amount=min(over, pay.refundable),
                reason="order_cancelled",
            ),
            step(f"refund{again}"),
            retry=retry,
        )
    if refund_id in payments.get(store, order_id).failed_refunds:
        return _fail(w, step(f"failed{again}"), order_id, request_id, "refund", retry.attempts)
    try:
        payments.void(
            w,
            VoidAuthorization(order_id=order_id, reason="order_cancelled"),
            step("void"),
            retry=retry,
        )
    except payments.GatewayUnavailable:
        return _fail(w, step(f"failed{again}"), order_id, request_id, "void", retry.attempts)
    for i, a in enumerate(state.allocations):
        release = ReleaseReservation(
            sku=str(a["sku"]), reservation_id=str(a["reservation_id"]), reason="order_cancelled"
        )
        inventory.release(w, release, step(f"release:{i}"))
    if all(ln.shipped == 0 for ln in state.lines):
        orders.cancel(w, CancelOrder(order_id=order_id, reason=c.reason), step("cancel_order"))
    else:
        cancel_unshipped(
            w, CancelUnshippedLines(order_id=order_id, reason=c.reason), step("cancel_order")
        )
    fulfillment.cancel_plans(store, step, order_id)  # after the order: none is made later
    complete_cancellation(
        w, CompleteCancellation(order_id=order_id, request_id=request_id), step("complete")
    )
    return "completed"


def cancel_unshipped(w: WriteSide, c: CancelUnshippedLines, ctx: CommandContext) -> Outcome:
    """The unshipped rest of the order cancelled (``OrderLinesCancelled``), once."""
    return execute(w.store, ORDER, c.order_id, lambda s, _v: decide.cancel_unshipped(s, c), ctx)


def complete_cancellation(w: WriteSide, c: CompleteCancellation, ctx: CommandContext) -> Outcome:
    """``CancellationCompleted`` for an approved request, once."""
    return execute(
        w.store, ORDER, c.order_id, lambda s, _v: decide.complete_cancellation(s, c), ctx
    )


def _fail(
    w: WriteSide,
    ctx: CommandContext,
    order_id: UUID,
    request_id: UUID,
    operation: str,
    attempts: int,
) -> str:
    """``CancellationFailed`` on the order (``fail``); the request's status, ``failed``."""
    c = FailCancellation(
        order_id=order_id,
        request_id=request_id,
        operation=operation,
        reason="gateway_unavailable",
        attempts=attempts,
    )
    fail(w, c, ctx)
    return "failed"


def fail(w: WriteSide, c: FailCancellation, ctx: CommandContext) -> Outcome:
    """``CancellationFailed`` on the order once per attempt, and an alert when it is written."""
    written: list[bool] = []

    def decision(state, _v):  # noqa: ANN001
        events = failure.fail_cancellation(state, c)
        written[:] = [bool(events)]  # the last decision is the one appended
        return events

    result = execute(w.store, ORDER, c.order_id, decision, ctx)
    if result.replayed or not any(written):
        return result
    alerts.error(
        "ALERT cancellation_failed: order %s, request %s: the gateway kept failing the %s "
        "after %d attempts",
        c.order_id,
        c.request_id,
        c.operation,
        c.attempts,
    )
    return result


HANDLERS = {
    RequestCancellation: request,
    ReviewCancellation: review,
    CancelUnshippedLines: cancel_unshipped,
    CompleteCancellation: complete_cancellation,
    FailCancellation: fail,
}
