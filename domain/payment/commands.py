"""The commands of the Payment aggregate a client sends, as messages: a manual refund.
(Authorize, capture and void are the sagas' and still called directly.)"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.command import Command, MoneyIn, whole

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
