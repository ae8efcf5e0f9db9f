"""The Payment aggregate's handlers (``HANDLERS``): what the process managers ask of a payment
(``AuthorizePayment``, ``CapturePayment``, ``VoidAuthorization``, ``RefundPayment``,
``SettleRefund``, ``AdjustAuthorization``) call the gateway (at most once per key it honours),
then record what it answered; a client's ``RequestRefund`` only records the refund in flight,
which the returns manager settles (``SettleRefund``).

Retries: a handler that calls the gateway takes a keyword ``retry`` (``RetryPolicy``: attempts,
backoff, timeout) besides ``(w, c, ctx)``. The dispatcher calls it without one (the default
policy); a process manager passes the policy it was configured with, so the write side stays
free of any one caller's patience.

Keys: an authorization's and a void's key is made of the context's idempotency key (or the
order and the causation), a capture's and a refund's of their own id, a line edit's raise of
the edit's id; a retry asks under the same key, so the gateway does it once."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

from commands import orders
from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.payment_gateway import (
    GatewayAnswer,
    GatewayTimeout,
    GatewayTransientError,
    PaymentGateway,
)
from commands.write_side import WriteSide
from domain.errors import Conflict
from domain.ids import payment_stream
from domain.payment import decide
from domain.payment.commands import (
    AdjustAuthorization,
    AuthorizePayment,
    CapturePayment,
    RefundPayment,
    RequestRefund,
    SettleRefund,
    VoidAuthorization,
)
from domain.payment.events import RefundRequested
from domain.payment.state import PAYMENT, PaymentState
from eventstore.store import EventStore


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.05  # 2^attempt × base between tries
    timeout_s: float = 2.0


class GatewayUnavailable(Conflict):
    """The gateway kept failing a void or refund through every retry; nothing was recorded
    for the call itself."""

    code = "payment_gateway_unavailable"


def with_retries(call: Callable[[], GatewayAnswer], retry: RetryPolicy) -> GatewayAnswer:
    """``call`` until it answers, at most ``retry.attempts`` times with backoff 2^attempt ×
    base between tries; then ``GatewayUnavailable``. The caller's key makes every try one
    operation at the gateway."""
    for attempt in range(retry.attempts):
        try:
            return call()
        except (GatewayTransientError, GatewayTimeout):
            if attempt + 1 < retry.attempts:
                time.sleep(retry.base_delay_s * 2**attempt)
    raise GatewayUnavailable(
        f"The payment gateway failed {retry.attempts} times in a row.",
        details={"attempts": retry.attempts},
    )


def _gateway_key(ctx: CommandContext, purpose: str, order_id: UUID) -> str:
    if ctx.idempotency is not None:
        return f"{purpose}:{ctx.idempotency.principal}:{ctx.idempotency.key}"
    return f"{purpose}:{order_id}:{ctx.causation_id}"


@dataclass(frozen=True)
class AuthorizationAnswer:
    """What asking the gateway came to: approved or not, why not, its reference."""

    approved: bool
    reason: str
    reference: str


def ask_authorization(
    gateway: PaymentGateway,
    key: str,
    *,
    token: str,
    amount: Decimal,
    currency: str,
    retry: RetryPolicy = RetryPolicy(),
) -> AuthorizationAnswer:
    """Ask the gateway once per key: transient errors retry with the same key and backoff; a
    timeout or exhausted retries count as a decline."""
    answer: GatewayAnswer | None = None
    reason = ""
    for attempt in range(retry.attempts):
        try:
            answer = gateway.authorize(key, token, amount, currency, retry.timeout_s)
            break
        except GatewayTransientError:
            reason = "gateway_unavailable"
            time.sleep(retry.base_delay_s * 2**attempt)
        except GatewayTimeout:
            reason = "gateway_timeout"
            break
    return authorization_answer(answer, reason)


def authorization_answer(answer: GatewayAnswer | None, reason: str = "") -> AuthorizationAnswer:
    """The gateway's answer as the payment records it (None: none came, for ``reason``)."""
    approved = answer is not None and answer.outcome == "approved"
    if answer is not None and not approved:
        reason = answer.reason or "declined"
    return AuthorizationAnswer(approved, reason, answer.reference if answer else "")


def authorization_key(ctx: CommandContext, order_id: UUID) -> str:
    return _gateway_key(ctx, "auth", order_id)


def authorize(
    w: WriteSide, c: AuthorizePayment, ctx: CommandContext, *, retry: RetryPolicy = RetryPolicy()
) -> Outcome:
    """Authorize ``c.amount`` (see ``ask_authorization``) and record the answer.
    ``extra["approved"]`` says which."""
    key = authorization_key(ctx, c.order_id)
    asked = ask_authorization(
        w.gateway, key, token=c.token, amount=c.amount, currency=c.currency, retry=retry
    )

    def step(state: PaymentState, _v: int):
        events = decide.record_authorization(
            state,
            c,
            gateway=w.gateway.name,
            approved=asked.approved,
            gateway_reference=asked.reference,
            reason=asked.reason,
            idempotency_key=key,
        )
        return events, {"approved": asked.approved, "reason": asked.reason}

    return execute(w.store, PAYMENT, payment_stream(c.order_id), step, ctx)


def void(
    w: WriteSide, c: VoidAuthorization, ctx: CommandContext, *, retry: RetryPolicy = RetryPolicy()
) -> Outcome:
    """Release the uncaptured rest; transient gateway errors retry with the same key, and a
    gateway that keeps failing raises ``GatewayUnavailable`` with nothing written."""
    state = get(w.store, c.order_id)
    if state.capturable > 0:
        key = _gateway_key(ctx, "void", c.order_id)
        with_retries(lambda: w.gateway.void(key, state.authorization_ref), retry)
    return execute(
        w.store, PAYMENT, payment_stream(c.order_id), lambda s, _v: decide.void(s, c), ctx
    )


def get(store: EventStore, order_id: UUID) -> PaymentState:
    return load(store, PAYMENT, payment_stream(order_id)).state


def _plain(ctx: CommandContext) -> CommandContext:
    """The same context without its idempotency key: each step below is idempotent by its own
    id (capture id, refund id), so one outer key may drive several appends."""
    return replace(ctx, idempotency=None, expected_version=None)


def _nothing(store: EventStore, order_id: UUID, ctx: CommandContext) -> Outcome:
    """An outcome that writes nothing (a repeat, or nothing to do)."""
    return execute(store, PAYMENT, payment_stream(order_id), lambda s, _v: [], _plain(ctx))


def capture(w: WriteSide, c: CapturePayment, ctx: CommandContext) -> Outcome:
    """Capture up to ``c.amount`` (never above what is still capturable); nothing is written
    when there is nothing to capture. The gateway key is the capture id, so a retry charges
    once."""
    state = get(w.store, c.order_id)
    if c.capture_id in state.capture_ids:
        return _nothing(w.store, c.order_id, ctx)
    amount = min(c.amount, state.capturable)
    if amount <= 0:
        return _nothing(w.store, c.order_id, ctx)
    answer = w.gateway.capture(f"capture:{c.capture_id}", "", amount)

    def step(s: PaymentState, _v: int):
        take = min(amount, s.capturable) if c.capture_id not in s.capture_ids else amount
        return decide.capture(
            s, c.model_copy(update={"amount": take}), gateway_reference=answer.reference
        )

    return execute(w.store, PAYMENT, payment_stream(c.order_id), step, _plain(ctx))


def refund(
    w: WriteSide, c: RefundPayment, ctx: CommandContext, *, retry: RetryPolicy = RetryPolicy()
) -> Outcome:
    """Put the refund in flight (within captured − refunded − in flight), ask the gateway under
    the refund's key, then record what it answered. Every step repeats safely.

    The caller's idempotency key (an HTTP ``Idempotency-Key`` or a step key) is checked and
    recorded with the first append, the refund request: the same key with another request is
    refused (``IdempotencyKeyReused``) before anything is written or sent to the gateway, and
    the same request again carries on from wherever the first one stopped.

    Transient gateway errors retry with the refund's key; a gateway that keeps failing, or
    declines, records ``RefundFailed`` (``refund_id`` is then in ``failed_refunds``)."""
    execute(
        w.store,
        PAYMENT,
        payment_stream(c.order_id),
        lambda s, _v: decide.request_refund(s, c),
        replace(ctx, expected_version=None),
    )
    settle = SettleRefund(order_id=c.order_id, refund_id=c.refund_id, reason=c.reason)
    return settle_refund(w, settle, ctx, retry=retry)


def settle_refund(
    w: WriteSide, c: SettleRefund, ctx: CommandContext, *, retry: RetryPolicy = RetryPolicy()
) -> Outcome:
    """Ask the gateway for a refund already in flight, under the refund's key, and record what
    it answered (``RefundSucceeded`` or ``RefundFailed``); a settled refund writes nothing and
    asks nothing. Transient errors retry with the same key; a gateway that keeps failing is a
    failed refund."""
    state = get(w.store, c.order_id)
    amount = state.in_flight_amount(c.refund_id)
    if amount is None:  # settled before (a repeat), or never asked
        return _nothing(w.store, c.order_id, ctx)
    try:
        answer = with_retries(
            lambda: w.gateway.refund(f"refund:{c.refund_id}", state.authorization_ref, amount),
            retry,
        )
        succeeded, reference = answer.outcome == "approved", answer.reference
    except GatewayUnavailable:
        succeeded, reference = False, ""
    return execute(
        w.store,
        PAYMENT,
        payment_stream(c.order_id),
        lambda s, _v: decide.settle_refund(s, c, succeeded=succeeded, gateway_reference=reference),
        _plain(ctx),
    )


def adjust_authorization(
    w: WriteSide,
    c: AdjustAuthorization,
    ctx: CommandContext,
    *,
    retry: RetryPolicy = RetryPolicy(),
) -> Outcome:
    """Hold ``c.amount`` instead. The same amount writes nothing; an authorization captured
    from or no longer live is ``authorization_not_adjustable``; a raise for a line edit is
    asked of the gateway first (once per edit: its key answers the same), and a decline is
    ``payment_declined`` with nothing written."""
    pay = get(w.store, c.order_id)
    if pay.authorized == c.amount:
        return _nothing(w.store, c.order_id, ctx)
    decide.require_adjustable(pay)
    reference = ""
    if c.edit_id is not None and c.amount > pay.authorized:
        order = orders.get(w.store, c.order_id)
        asked = ask_authorization(
            w.gateway,
            f"line_edit:{c.edit_id}",
            token=order.payment.token if order.payment else "",
            amount=c.amount,
            currency=order.currency,
            retry=retry,
        )
        if not asked.approved:
            raise Conflict(
                f"The payment gateway declined the new total ({asked.reason}).",
                code="payment_declined",
                details={"reason": asked.reason},
            )
        reference = asked.reference
    return execute(
        w.store,
        PAYMENT,
        payment_stream(c.order_id),
        lambda s, _v: decide.adjust_authorization(s, c, gateway_reference=reference),
        ctx,
    )


def requested_amount(store: EventStore, order_id: UUID, refund_id: UUID) -> Decimal | None:
    """What refund ``refund_id`` was asked for, if it was (in flight or settled)."""
    for e in store.load(payment_stream(order_id)):
        if e.name == RefundRequested.__name__ and e.data["refund_id"] == str(refund_id):
            return Decimal(e.data["amount"])
    return None


def refund_id_for(ctx: CommandContext, order_id: UUID) -> UUID:
    """A client's refund id: made of its idempotency key (a repeat is the same refund), else
    new."""
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"refund:{ctx.idempotency.principal}:{ctx.idempotency.key}")


def request_refund(w: WriteSide, c: RequestRefund, ctx: CommandContext) -> Outcome:
    """RequestRefund: record the refund in flight (``RefundRequested``, deferred) and nothing
    else; the returns manager (``commands/returns_manager.py``) asks the gateway.
    ``extra``: ``{id, status: "pending", amount}``."""
    orders.require_exists(w.store, c.order_id)
    order = orders.get(w.store, c.order_id)
    refund_id = refund_id_for(ctx, c.order_id)
    line_ids = {ln.line_id for ln in order.lines}

    def step(state: PaymentState, _v: int):
        events = decide.ask_refund(
            state, c, refund_id=refund_id, currency=order.currency, line_ids=line_ids
        )
        return events, {
            "id": str(refund_id),
            "status": "pending",
            "amount": {"amount": str(c.amount.money().amount), "currency": order.currency},
        }

    return execute(w.store, PAYMENT, payment_stream(c.order_id), step, ctx)


HANDLERS = {
    RequestRefund: request_refund,
    AuthorizePayment: authorize,
    CapturePayment: capture,
    VoidAuthorization: void,
    RefundPayment: refund,
    SettleRefund: settle_refund,
    AdjustAuthorization: adjust_authorization,
}
