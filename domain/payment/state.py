"""Payment decision state, its evolution, and the payment status it implies
(``payment_status``). Decisions are in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal
from uuid import UUID

from domain.aggregate import AggregateType
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
