"""The commands of the Payment aggregate, as messages: a client's manual refund
(``RequestRefund``), and what the process managers ask of a payment: authorize, capture, void,
refund (``RefundPayment``, or ``SettleRefund`` for one already in flight) and adjust the
authorization.

What the gateway answers is not in a command: the handler asks it, then decides with the
command and the answer. Who asks, when, and the key a gateway call is made under travel in the
command's context (a capture's and a refund's key is their own id)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.command import Command, MoneyIn, whole
from domain.money import Amount, CurrencyCode

RefundReason = Literal["customer_request", "order_cancelled", "item_returned", "damaged", "fraud"]


class RefundLine(BaseModel):
    """The refund is for ``quantity`` units of the order line ``line_id``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: Annotated[str, Field(max_length=100)]
    quantity: whole()  # type: ignore[valid-type]


class RequestRefund(Command):
    """Give ``amount`` back (≤ captured − refunded − in flight); the returns manager asks the
    gateway and records how it went."""

    order_id: UUID
    amount: MoneyIn
    reason: RefundReason = "customer_request"
    lines: list[RefundLine] | None = None


class AuthorizePayment(Command):
    """Hold ``amount`` on the card behind ``token`` (the placement saga's); the gateway's
    answer, approved or declined, is recorded either way."""

    order_id: UUID
    amount: Amount
    currency: CurrencyCode
    token: str


class CapturePayment(Command):
    """Take up to ``amount`` of the authorization (never above what is still capturable), for
    ``shipment_id`` when a shipment is what is paid; ``capture_id`` makes a repeat capture
    once."""

    order_id: UUID
    capture_id: UUID
    amount: Amount
    shipment_id: UUID | None = None


class VoidAuthorization(Command):
    """Release the uncaptured rest of the authorization."""

    order_id: UUID
    reason: str


class RefundPayment(Command):
    """Give ``amount`` back now (a cancellation's or a return's refund): in flight, asked of the
    gateway under ``refund_id``'s key, then settled; ``refund_id`` makes a repeat one refund."""

    order_id: UUID
    refund_id: UUID
    amount: Amount
    reason: str


class SettleRefund(Command):
    """Ask the gateway for the refund ``refund_id`` already in flight (a client's, deferred to
    the returns manager) and record what it answered."""

    order_id: UUID
    refund_id: UUID
    reason: str


class AdjustAuthorization(Command):
    """Hold ``amount`` instead (an order edit changed the total; before any capture). A raise
    made for the line edit ``edit_id`` is asked of the gateway under that edit's key; without
    an edit (setting an adjustment back) it is only recorded."""

    order_id: UUID
    amount: Amount
    reason: str
    edit_id: UUID | None = None
