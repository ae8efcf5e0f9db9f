"""Commands of the Bundle aggregate. Quantities and the pricing value are taken loosely here
(any whole number, any decimal) so the decision can name a bad one precisely."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from domain.bundle.events import PricingType
from domain.command import Command, Sku, whole
from domain.order.values import Text200, Value


class ComponentIn(Value):
    sku: Sku
    quantity: whole(ge=-1_000_000_000, le=1_000_000_000)  # type: ignore[valid-type]


class PricingIn(Value):
    type: PricingType
    value: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None


class CreateBundle(Command):
    sku: Sku
    name: Text200
    components: Annotated[list[ComponentIn], Field(max_length=100)]
    pricing: PricingIn
