"""Payment decisions.

Invariants: one live authorization per order; Σ captures ≤ authorized; a void releases only the
uncaptured rest; Σ refunds ≤ Σ captures. Each decision takes its command
(``domain/payment/commands.py``); gateway outcomes arrive beside it, so the decisions stay
pure: the handler calls the gateway, then decides with the command and what it answered.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand
from domain.events import DomainEvent
from domain.order.values import LineQuantity
from domain.payment.commands import (
    AdjustAuthorization,
    AuthorizePayment,
    CapturePayment,
    RefundPayment,
    RequestRefund,
    SettleRefund,
    VoidAuthorization,
)
from domain.payment.events import (
    AuthorizationAdjusted,
    AuthorizationExpired,
    AuthorizationVoided,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentDeclined,
    RefundFailed,
    RefundRequested,
    RefundSucceeded,
)
from domain.payment.state import ZERO, PaymentState


def _positive(amount: Decimal) -> None:
    if amount <= ZERO:
        raise InvalidCommand("Amounts must be greater than zero.", code="invalid_amount")


def record_authorization(
    state: PaymentState,
    c: AuthorizePayment,
    *,
    gateway: str,
    approved: bool,
    gateway_reference: str,
    reason: str,
    idempotency_key: str,
) -> list[DomainEvent]:
    """Record what the gateway (named ``gateway``) answered to ``c``, asked under
    ``idempotency_key``: approved with its reference, or declined for ``reason``."""
    _positive(c.amount)
    if state.status != "pending":
        if state.status in ("authorized", "partially_captured", "captured"):
            raise Conflict(
                "This order already has a live authorization.", code="already_authorized"
            )
        raise IllegalTransition("payment", state.status, "authorized")
    if approved:
        return [
            PaymentAuthorized(
                order_id=c.order_id,
                amount=c.amount,
                currency=c.currency,
                gateway=gateway,
                gateway_reference=gateway_reference,
                idempotency_key=idempotency_key,
            )
        ]
    return [
        PaymentDeclined(
            order_id=c.order_id,
            amount=c.amount,
            currency=c.currency,
            gateway=gateway,
            reason=reason,
            idempotency_key=idempotency_key,
        )
    ]


def capture(state: PaymentState, c: CapturePayment, *, gateway_reference: str) -> list[DomainEvent]:
    """Record the capture the gateway made (``gateway_reference``); a repeat writes nothing."""
    if c.capture_id in state.capture_ids:
        return []
    _positive(c.amount)
    if state.status not in ("authorized", "partially_captured"):
        raise IllegalTransition("payment", state.status, "captured")
    if c.amount > state.capturable:
        raise Conflict(
            f"Only {state.capturable} can still be captured.", code="capture_exceeds_authorization"
        )
    return [
        PaymentCaptured(
            order_id=c.order_id,
            capture_id=c.capture_id,
            amount=c.amount,
            shipment_id=c.shipment_id,
            gateway_reference=gateway_reference,
        )
    ]


def void(state: PaymentState, c: VoidAuthorization) -> list[DomainEvent]:
    """Release the uncaptured rest. Nothing left to release writes nothing."""
    if state.status in ("pending", "declined", "voided", "expired"):
        return []
    rest = state.capturable
    if rest <= ZERO:
        return []
    return [AuthorizationVoided(amount=rest, reason=c.reason)]


def expire(state: PaymentState) -> list[DomainEvent]:
    if state.status != "authorized":
        return []
    return [AuthorizationExpired(amount=state.authorized)]


def refund(
    state: PaymentState, c: RefundPayment, *, succeeded: bool, gateway_reference: str
) -> list[DomainEvent]:
    """Record a refund the gateway settled at once (succeeded or failed); a repeat writes
    nothing."""
    refund_id, amount, reason = c.refund_id, c.amount, c.reason
    if refund_id in state.refund_ids:
        return []
    _positive(amount)
    if amount > state.refundable:
        raise Conflict(
            f"Only {state.refundable} can still be refunded.", code="refund_exceeds_captured"
        )
    return _refund_outcome(c.order_id, refund_id, amount, reason, succeeded, gateway_reference)


def request_refund(state: PaymentState, c: RefundPayment) -> list[DomainEvent]:
    """Put the refund ``c`` in flight, within captured − refunded − in flight; a repeat writes
    nothing."""
    return _in_flight(state, refund_id=c.refund_id, amount=c.amount, reason=c.reason)


def _in_flight(
    state: PaymentState, *, refund_id: UUID, amount: Decimal, reason: str
) -> list[DomainEvent]:
    if refund_id in state.refund_ids or state.in_flight_amount(refund_id) is not None:
        return []
    _positive(amount)
    if amount > state.refundable:
        raise Conflict(
            f"Only {state.refundable} can still be refunded.",
            code="refund_exceeds_captured",
            details={"refundable": str(state.refundable)},
        )
    return [RefundRequested(refund_id=refund_id, amount=amount, reason=reason)]


def ask_refund(
    state: PaymentState,
    c: RequestRefund,
    *,
    refund_id: UUID,
    currency: str,
    line_ids: Collection[str],
) -> list[DomainEvent]:
    """A client's refund (``RequestRefund``) in flight, ``deferred`` to the returns manager,
    which asks the gateway: in the order's ``currency``, for lines of the order
    (``line_ids``), within captured − refunded − in flight. A repeat writes nothing."""
    if c.amount.currency != currency:
        raise InvalidCommand(
            f"The order is in {currency}.",
            code="currency_mismatch",
            details={"currency": currency},
        )
    for x in c.lines or ():
        if x.line_id not in line_ids:
            raise InvalidCommand(
                f"Line '{x.line_id}' is not on this order.",
                code="unknown_line",
                details={"line_id": x.line_id},
            )
    if not _in_flight(state, refund_id=refund_id, amount=c.amount.money().amount, reason=c.reason):
        return []
    return [
        RefundRequested(
            refund_id=refund_id,
            amount=c.amount.money().amount,
            reason=c.reason,
            deferred=True,
            lines=[LineQuantity(line_id=x.line_id, quantity=x.quantity) for x in c.lines or ()],
        )
    ]


def settle_refund(
    state: PaymentState, c: SettleRefund, *, succeeded: bool, gateway_reference: str
) -> list[DomainEvent]:
    """Record how the refund in flight went (its amount is the one asked); one settled before
    (or never asked) writes nothing."""
    refund_id, reason = c.refund_id, c.reason
    amount = state.in_flight_amount(refund_id)
    if amount is None:
        return []
    return _refund_outcome(c.order_id, refund_id, amount, reason, succeeded, gateway_reference)


def _refund_outcome(
    order_id: UUID,
    refund_id: UUID,
    amount: Decimal,
    reason: str,
    succeeded: bool,
    gateway_reference: str,
) -> list[DomainEvent]:
    if succeeded:
        return [
            RefundSucceeded(
                order_id=order_id,
                refund_id=refund_id,
                amount=amount,
                reason=reason,
                gateway_reference=gateway_reference,
            )
        ]
    return [RefundFailed(refund_id=refund_id, amount=amount, reason=reason)]


def require_adjustable(state: PaymentState) -> None:
    """Only an uncaptured, live authorization can be adjusted (checked before the gateway is
    asked for more)."""
    if state.status != "authorized" or state.captured > ZERO:
        raise Conflict(
            "Only an uncaptured, live authorization can be adjusted.",
            code="authorization_not_adjustable",
        )


def adjust_authorization(
    state: PaymentState, c: AdjustAuthorization, *, gateway_reference: str
) -> list[DomainEvent]:
    """Hold ``c.amount`` instead (before any capture); the gateway's reference for a raise,
    ``""`` when it was not asked. The same amount writes nothing."""
    _positive(c.amount)
    require_adjustable(state)
    if c.amount == state.authorized:
        return []
    return [
        AuthorizationAdjusted(amount=c.amount, gateway_reference=gateway_reference, reason=c.reason)
    ]
