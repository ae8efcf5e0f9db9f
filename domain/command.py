"""The base of every command, and the field types commands share.

A command is a message: a frozen pydantic model naming what its sender wants done to one
aggregate (``ReceiveStock``, ``PlaceOrder``, …), validated once where it enters (an HTTP body
is the command, or the command minus the fields its path carries) and handed unchanged to the
dispatcher (``commands/dispatcher.py``) and the aggregate's decide function. Who sent it, when
and under which idempotency key travel beside it, in the ``CommandContext``; never inside."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

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


class Command(BaseModel):
    """A request to change one aggregate: frozen, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")
