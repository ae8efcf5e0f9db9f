"""Payment decision state and decisions.

Invariants: one live authorization per order; Σ captures ≤ authorized; a void releases only the
uncaptured rest; Σ refunds ≤ Σ captures. Gateway outcomes arrive as command inputs, so the
decisions stay pure: the handler calls the gateway, then decides with what it answered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal
from uuid import UUID

from domain.aggregate import AggregateType
from domain.errors import Conflict, IllegalTransition, InvalidCommand
from domain.events import DomainEvent
from domain.payment.events import (
    PAYMENT_EVENTS,
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

AuthorizationStatus = Literal[
    "pending", "authorized", "declined", "partially_captured", "captured", "voided", "expired"
]
ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class PaymentState:
    status: AuthorizationStatus = "pending"
    order_id: UUID | None = None
    currency: str = ""
    authorized: Decimal = ZERO
    captured: Decimal = ZERO
    voided: Decimal = ZERO
    refunded: Decimal = ZERO
    capture_ids: frozenset[UUID] = frozenset()
    refund_ids: frozenset[UUID] = frozenset()
    in_flight: tuple[tuple[UUID, Decimal], ...] = ()
    declined: bool = False
    authorization_ref: str = ""  # the gateway's reference of the live authorization
    failed_refunds: frozenset[UUID] = frozenset()

    @property
    def capturable(self) -> Decimal:
        if self.status not in ("authorized", "partially_captured"):
            return ZERO
        return self.authorized - self.captured - self.voided

    @property
    def refundable(self) -> Decimal:
        return self.captured - self.refunded - sum((a for _, a in self.in_flight), ZERO)

    def in_flight_amount(self, refund_id: UUID) -> Decimal | None:
        return next((a for r, a in self.in_flight if r == refund_id), None)


def evolve(state: PaymentState, event: DomainEvent) -> PaymentState:
    match event:
        case PaymentAuthorized():
            return replace(
                state,
                status="authorized",
                order_id=event.order_id,
                currency=event.currency,
                authorized=event.amount,
                authorization_ref=event.gateway_reference,
            )
        case PaymentDeclined():
            return replace(
                state,
                status="declined",
                order_id=event.order_id,
                currency=event.currency,
                declined=True,
            )
        case PaymentCaptured():
            captured = state.captured + event.amount
            full = captured >= state.authorized - state.voided
            return replace(
                state,
                captured=captured,
                status="captured" if full else "partially_captured",
                capture_ids=state.capture_ids | {event.capture_id},
            )
        case AuthorizationAdjusted():
            return replace(state, authorized=event.amount)
        case AuthorizationVoided():
            status = "voided" if state.captured == ZERO else "captured"
            return replace(state, voided=state.voided + event.amount, status=status)
        case AuthorizationExpired():
            return replace(state, status="expired")
        case RefundRequested():
            return replace(state, in_flight=(*state.in_flight, (event.refund_id, event.amount)))
        case RefundSucceeded():
            return replace(
                state,
                refunded=state.refunded + event.amount,
                refund_ids=state.refund_ids | {event.refund_id},
                in_flight=tuple(x for x in state.in_flight if x[0] != event.refund_id),
            )
        case RefundFailed():
            return replace(
                state,
                refund_ids=state.refund_ids | {event.refund_id},
                failed_refunds=state.failed_refunds | {event.refund_id},
                in_flight=tuple(x for x in state.in_flight if x[0] != event.refund_id),
            )
    return state


PAYMENT = AggregateType("payment", PaymentState, evolve, PAYMENT_EVENTS)


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


def payment_status(state: PaymentState) -> str:
    """The payment status: the first of these that holds."""
    if state.refunded > ZERO and state.refunded >= state.captured:
        return "refunded"
    if state.refunded > ZERO:
        return "partially_refunded"
    if state.captured > ZERO and state.captured >= state.authorized - state.voided:
        return "paid"
    if state.captured > ZERO:
        return "partially_paid"
    if state.status == "authorized":
        return "authorized"
    if state.status in ("voided", "expired"):
        return "voided"
    if state.declined:
        return "failed"
    return "pending"


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
