"""Money: a decimal amount in one ISO 4217 currency, rounded half-up to the currency's minor
unit. Never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from domain.errors import InvalidCommand

_ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"}

Amount = Annotated[Decimal, PlainSerializer(lambda d: str(d), return_type=str, when_used="json")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


def minor_unit(currency: str) -> Decimal:
    return Decimal("1") if currency in _ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Amount
    currency: CurrencyCode

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        return cls(amount=round_money(Decimal(amount), currency), currency=currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls.of(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidCommand(
                f"Cannot combine {self.currency} with {other.currency}.", code="currency_mismatch"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money.of(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money.of(self.amount - other.amount, self.currency)

    def times(self, factor: int | Decimal) -> Money:
        return Money.of(self.amount * Decimal(factor), self.currency)

    def as_json(self) -> dict:
        return {"amount": str(self.amount), "currency": self.currency}
