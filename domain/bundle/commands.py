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


#: A pricing value as written: a decimal string (``"12.50"``, ``"-1"``) or a JSON number.
DecimalText = Annotated[str, Field(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,15})?$")]
FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class PricingIn(Value):
    """``value``: the fixed price (in the components' currency) or the discount in percent;
    none for ``component_sum``. Its range and precision are the decision's to name."""

    type: PricingType
    value: DecimalText | FiniteNumber | None = None

    def amount(self) -> Decimal | None:
        return None if self.value is None else Decimal(str(self.value))


class CreateBundle(Command):
    sku: Sku
    name: Text200
    components: Annotated[list[ComponentIn], Field(max_length=100)]
    pricing: PricingIn
