"""Request and response models shared across routes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.money import minor_unit

T = TypeVar("T")

Sku = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
LocationCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class Request(BaseModel):
    """Base for request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class MoneyIn(Request):
    amount: Annotated[str, Field(pattern=r"^\d{1,12}(\.\d{1,4})?$")]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    @model_validator(mode="after")
    def _at_most_the_currencys_decimals(self) -> MoneyIn:
        unit = minor_unit(self.currency)
        if Decimal(self.amount) % unit:
            raise ValueError(f"{self.currency} amounts are multiples of {unit}.")
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
