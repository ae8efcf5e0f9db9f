"""Events of the Payment aggregate. Amounts are decimal strings in the order currency."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent, Upcaster
from domain.money import Amount
from domain.order.values import LineQuantity


class PaymentEvent(DomainEvent):
    stream_type: ClassVar[str] = "payment"


class PaymentAuthorized(PaymentEvent):
    order_id: UUID
    amount: Amount
    currency: str
    gateway: str
    gateway_reference: str
    idempotency_key: str


class PaymentDeclined(PaymentEvent):
    order_id: UUID
    amount: Amount
    currency: str
    gateway: str
    reason: str
    idempotency_key: str


def _order_unknown(data: dict) -> dict:
    """Upcaster from schema version 1, written before ``order_id`` was recorded: an event
    cannot name the stream it is in, so the order is unknown (``None``) there; it is the
    ``order_id`` of the payment stream's ``PaymentAuthorized``."""
    return {**data, "order_id": None}


class PaymentCaptured(PaymentEvent):
    """``order_id``: the order paid for (version 2 on; ``None`` in events written before)."""

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Upcaster]] = {1: _order_unknown}

    capture_id: UUID
    amount: Amount
    shipment_id: UUID | None = None
    gateway_reference: str
    order_id: UUID | None = None


class AuthorizationAdjusted(PaymentEvent):
    """The authorization now holds ``amount`` (an order edit raised or lowered the total)."""

    amount: Amount
    gateway_reference: str
    reason: str


class AuthorizationVoided(PaymentEvent):
    amount: Amount
    reason: str


class AuthorizationExpired(PaymentEvent):
    amount: Amount


class RefundRequested(PaymentEvent):
    """A refund in flight: it counts against what can still be refunded until it settles.

    ``deferred``: asked by a client (``RequestRefund``), so the returns manager asks the gateway
    and settles it; otherwise whoever wrote it settles it in the same step. ``lines``: the
    order lines it is for, when the client named them."""

    refund_id: UUID
    amount: Amount
    reason: str
    deferred: bool = False
    lines: list[LineQuantity] = []


class RefundSucceeded(PaymentEvent):
    """``order_id``: the order refunded (version 2 on; ``None`` in events written before)."""

    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[dict[int, Upcaster]] = {1: _order_unknown}

    refund_id: UUID
    amount: Amount
    reason: str
    gateway_reference: str
    order_id: UUID | None = None


class RefundFailed(PaymentEvent):
    refund_id: UUID
    amount: Amount
    reason: str


PAYMENT_EVENTS = (
    PaymentAuthorized,
    PaymentDeclined,
    PaymentCaptured,
    AuthorizationVoided,
    AuthorizationExpired,
    RefundSucceeded,
    RefundFailed,
    RefundRequested,
    AuthorizationAdjusted,
)
