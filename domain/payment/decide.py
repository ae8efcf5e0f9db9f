"""Payment decisions.

Invariants: one live authorization per order; Σ captures ≤ authorized; a void releases only the
uncaptured rest; Σ refunds ≤ Σ captures. Gateway outcomes arrive as command inputs, so the
decisions stay pure: the handler calls the gateway, then decides with what it answered.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand
from domain.events import DomainEvent
from domain.order.values import LineQuantity
from domain.payment.commands import RequestRefund
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
    *,
    order_id: UUID,
    amount: Decimal,
    currency: str,
    gateway: str,
    approved: bool,
    gateway_reference: str,
    reason: str,
    idempotency_key: str,
) -> list[DomainEvent]:
    """Record what the gateway answered to an authorization request."""
    _positive(amount)
    if state.status != "pending":
        if state.status in ("authorized", "partially_captured", "captured"):
            raise Conflict(
                "This order already has a live authorization.", code="already_authorized"
            )
        raise IllegalTransition("payment", state.status, "authorized")
    if approved:
        return [
            PaymentAuthorized(
                order_id=order_id,
                amount=amount,
                currency=currency,
                gateway=gateway,
                gateway_reference=gateway_reference,
                idempotency_key=idempotency_key,
            )
        ]
    return [
        PaymentDeclined(
            order_id=order_id,
            amount=amount,
            currency=currency,
            gateway=gateway,
            reason=reason,
            idempotency_key=idempotency_key,
        )
    ]


def capture(
    state: PaymentState,
    *,
    capture_id: UUID,
    amount: Decimal,
    shipment_id: UUID | None,
    gateway_reference: str,
) -> list[DomainEvent]:
    if capture_id in state.capture_ids:
        return []
    _positive(amount)
    if state.status not in ("authorized", "partially_captured"):
        raise IllegalTransition("payment", state.status, "captured")
    if amount > state.capturable:
        raise Conflict(
            f"Only {state.capturable} can still be captured.", code="capture_exceeds_authorization"
        )
    return [
        PaymentCaptured(
            capture_id=capture_id,
            amount=amount,
            shipment_id=shipment_id,
            gateway_reference=gateway_reference,
        )
    ]


def void(state: PaymentState, *, reason: str) -> list[DomainEvent]:
    """Release the uncaptured rest. Nothing left to release writes nothing."""
    if state.status in ("pending", "declined", "voided", "expired"):
        return []
    rest = state.capturable
    if rest <= ZERO:
        return []
    return [AuthorizationVoided(amount=rest, reason=reason)]


def expire(state: PaymentState) -> list[DomainEvent]:
    if state.status != "authorized":
        return []
    return [AuthorizationExpired(amount=state.authorized)]


def refund(
    state: PaymentState,
    *,
    refund_id: UUID,
    amount: Decimal,
    reason: str,
    succeeded: bool,
    gateway_reference: str,
) -> list[DomainEvent]:
    if refund_id in state.refund_ids:
        return []
    _positive(amount)
    if amount > state.refundable:
        raise Conflict(
            f"Only {state.refundable} can still be refunded.", code="refund_exceeds_captured"
        )
    if succeeded:
        return [
            RefundSucceeded(
                refund_id=refund_id,
                amount=amount,
                reason=reason,
                gateway_reference=gateway_reference,
            )
        ]
    return [RefundFailed(refund_id=refund_id, amount=amount, reason=reason)]


def request_refund(
    state: PaymentState, *, refund_id: UUID, amount: Decimal, reason: str
) -> list[DomainEvent]:
    """Put a refund in flight, within captured − refunded − in flight; a repeat writes
    nothing."""
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
    if not request_refund(state, refund_id=refund_id, amount=c.amount.value, reason=c.reason):
        return []
    return [
        RefundRequested(
            refund_id=refund_id,
            amount=c.amount.value,
            reason=c.reason,
            deferred=True,
            lines=[LineQuantity(line_id=x.line_id, quantity=x.quantity) for x in c.lines or ()],
        )
    ]


def settle_refund(
    state: PaymentState, *, refund_id: UUID, succeeded: bool, reason: str, gateway_reference: str
) -> list[DomainEvent]:
    amount = state.in_flight_amount(refund_id)
    if amount is None:
        return []
    if succeeded:
        return [
            RefundSucceeded(
                refund_id=refund_id,
                amount=amount,
                reason=reason,
                gateway_reference=gateway_reference,
            )
        ]
    return [RefundFailed(refund_id=refund_id, amount=amount, reason=reason)]


def adjust_authorization(
    state: PaymentState, *, amount: Decimal, gateway_reference: str, reason: str
) -> list[DomainEvent]:
    """Hold ``amount`` instead (before any capture)."""
    _positive(amount)
    if state.status != "authorized" or state.captured > ZERO:
        raise Conflict(
            "Only an uncaptured, live authorization can be adjusted.",
            code="authorization_not_adjustable",
        )
    if amount == state.authorized:
        return []
    return [
        AuthorizationAdjusted(amount=amount, gateway_reference=gateway_reference, reason=reason)
    ]
