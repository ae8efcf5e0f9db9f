"""Request and response models shared across routes."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

# Field types shared with the commands (a body is the command, or the command minus its path
# fields: ``body_of``).
from domain.command import Command, whole
from domain.command import LocationCode as LocationCode
from domain.command import Sku as Sku
from domain.money import minor_unit

T = TypeVar("T")

WholeInt = whole()

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


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _written_as(pattern: re.Pattern, what: str):
    """A check that a query value is text in ``pattern``'s form: pydantic's lax mode would
    otherwise take ``0`` for a date (the Unix epoch), which the document does not promise."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return BeforeValidator(check)


#: A day as ``YYYY-MM-DD`` (the document's ``format: date``), nothing else.
IsoDate = Annotated[date, _written_as(_ISO_DATE, "a date as YYYY-MM-DD")]
#: An instant as RFC 3339 with its offset (``format: date-time``), nothing else.
IsoDateTime = Annotated[
    datetime, _written_as(_ISO_DATETIME, "an RFC 3339 date-time with its offset")
]


class Request(BaseModel):
    """Base for request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    def fields(self) -> dict[str, Any]:
        """The body's fields as given (nested models kept as they are), to build a command."""
        return {name: getattr(self, name) for name in type(self).model_fields}


C = TypeVar("C", bound=Command)


def body_of(command: type[Command], *, path: tuple[str, ...]) -> type[Request]:
    """The HTTP body of ``command`` when its ``path`` fields come from the URL: the same fields,
    types, bounds and descriptions, minus those. The route builds the command with
    ``Command(**path_values, **body.fields())``, so each field is spelled once, in the command."""
    missing = set(path) - set(command.model_fields)
    if missing:
        raise TypeError(f"{command.__name__} has no field {sorted(missing)}")
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name not in path
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{command.__name__}Body", __base__=Request, __doc__=command.__doc__, **fields
    )


class MoneyIn(Request):
    amount: Annotated[str, Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,4})?$")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

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


class MoneyOut(BaseModel):
    amount: str
    currency: str


class Ack(BaseModel):
    """Every command answers with the position of the last event it wrote."""

    version: int
    position: int


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (400, 404, 409, 412, 413, 422, 503)
}
