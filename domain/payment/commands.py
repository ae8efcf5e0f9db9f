"""The commands of the Payment aggregate a client sends, as messages: a manual refund.
(Authorize, capture and void are the sagas' and still called directly.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from domain.command import Command, whole
from domain.money import minor_unit

RefundReason = Literal["customer_request", "order_cancelled", "item_returned", "damaged", "fraud"]


class MoneyAmount(BaseModel):
    """An amount as a decimal string in ``currency``, at most the currency's decimals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    @model_validator(mode="after")
    def _at_most_the_currencys_decimals(self) -> MoneyAmount:
        unit = minor_unit(self.currency)
        if Decimal(self.amount) % unit:
            raise PydanticCustomError(
                "currency_precision",
                "{currency} amounts are multiples of {unit}.",
                {"currency": self.currency, "unit": str(unit)},
            )
        return self

    @property
    def value(self) -> Decimal:
        return Decimal(self.amount)


class RefundLine(BaseModel):
    """The refund is for ``quantity`` units of the order line ``line_id``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line_id: Annotated[str, Field(max_length=100)]
    quantity: whole()  # type: ignore[valid-type]


class RequestRefund(Command):
    """Give ``amount`` back (≤ captured − refunded − in flight); the returns manager asks the
    gateway and records how it went."""

    order_id: UUID
    amount: MoneyAmount
    reason: RefundReason = "customer_request"
    lines: list[RefundLine] | None = None
