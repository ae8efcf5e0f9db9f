"""Request and response models shared across routes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, create_model

# Field types shared with the commands (a body is the command, or the command minus its path
# fields: ``body_of``).
from domain.command import NUMBER_END as NUMBER_END
from domain.command import NUMBER_MIN as NUMBER_MIN
from domain.command import Command, whole
from domain.command import IsoDate as IsoDate
from domain.command import IsoDateTime as IsoDateTime
from domain.command import LocationCode as LocationCode
from domain.command import MoneyIn as MoneyIn
from domain.command import Sku as Sku
from domain.command import json_safe as json_safe

T = TypeVar("T")

WholeInt = whole()


class Request(BaseModel):
    """Base for request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    def fields(self) -> dict[str, Any]:
        """The body's fields as given (nested models kept as they are), to build a command."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    def given(self) -> dict[str, Any]:
        """Only the fields the client sent (a partial update changes those and no other)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


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
