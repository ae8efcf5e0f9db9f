"""The base of every command, and the field types commands share.

A command is a message: a frozen pydantic model naming what its sender wants done to one
aggregate (``ReceiveStock``, ``PlaceOrder``, …), validated once where it enters (an HTTP body
is the command, or the command minus the fields its path carries) and handed unchanged to the
dispatcher (``commands/dispatcher.py``) and the aggregate's decide function. Who sent it, when
and under which idempotency key travel beside it, in the ``CommandContext``; never inside."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from domain.money import Money, minor_unit

#: A SKU or a location code: chosen by the client, 1-64 of letters, digits, ``.``, ``_``, ``-``.
Sku = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
LocationCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


def _whole(value: Any) -> Any:
    """A JSON number with nothing after the point (``3.0``) is an integer, as JSON Schema says;
    anything else is left to the strict check (no ``"3"``, no ``true``, no ``3.5``)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def whole(**bounds: int) -> Any:
    """An integer as JSON Schema has it (``3`` or ``3.0``, never ``"3"`` or ``true``) within
    ``bounds`` (``gt``, ``ge``, ``le``, ...). The bounds sit on the integer, inside the check of
    the number, so the document shows them."""
    return Annotated[int, Field(strict=True, **bounds), BeforeValidator(_whole)]


def written_as(pattern: re.Pattern, what: str) -> BeforeValidator:
    """A check that a value given as text is in ``pattern``'s form: pydantic's lax mode would
    otherwise take ``0`` for a date (the Unix epoch), which the document does not promise."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return BeforeValidator(check)


#: A day as ``YYYY-MM-DD`` (the document's ``format: date``), nothing else.
IsoDate = Annotated[
    date, written_as(re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), "a date as YYYY-MM-DD")
]


#: An instant as RFC 3339 with its offset (``format: date-time``), nothing else.
IsoDateTime = Annotated[
    datetime,
    written_as(
        re.compile(
            r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
            r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
        ),
        "an RFC 3339 date-time with its offset",
    ),
]


class Command(BaseModel):
    """A request to change one aggregate: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


#: The numbers a free JSON value may hold: PostgreSQL keeps ``1e30`` exactly, it comes back as
#: an integer, and the JSON encoder takes integers of 64 bits only.
NUMBER_MIN, NUMBER_END = -(2**63), 2**63


def json_safe(value: Any) -> Any:
    """A free JSON value (attributes, metadata) whose every number lies in
    [``NUMBER_MIN``, ``NUMBER_END``): stored and served as JSON, read back as it was written."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)) and not NUMBER_MIN <= value < NUMBER_END:
        raise ValueError("numbers in a free JSON value must lie within -2**63 and 2**63")
    if isinstance(value, dict):
        for v in value.values():
            json_safe(v)
    elif isinstance(value, list):
        for v in value:
            json_safe(v)
    return value


_AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,4})?$")


class MoneyIn(BaseModel):
    """An amount: a decimal string, never negative, with no more decimals than its currency
    has."""

    # (The docstring is the API document's.) A ``Money`` is taken as it is written
    # (``str(amount)``), so code that holds one can send it; ``money()`` is the value the
    # domain computes with.

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Annotated[str, Field(pattern=_AMOUNT.pattern)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    @model_validator(mode="before")
    @classmethod
    def _from_money(cls, value: Any) -> Any:
        if isinstance(value, Money):
            return {"amount": str(value.amount), "currency": value.currency}
        return value

    @model_validator(mode="after")
    def _at_most_the_currencys_decimals(self) -> MoneyIn:
        unit = minor_unit(self.currency)
        if Decimal(self.amount) % unit:
            raise PydanticCustomError(  # a rule across fields: its own type, not a shape error
                "currency_precision",
                "{currency} amounts are multiples of {unit}.",
                {"currency": self.currency, "unit": str(unit)},
            )
        return self

    def money(self) -> Money:
        return Money.of(Decimal(self.amount), self.currency)
