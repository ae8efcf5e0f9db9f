"""The commands on a promotion, as messages. Amounts, percentages, codes and windows are taken
loosely here and checked by the decision (``decide.py``), so each bad input is refused with its
own code."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from domain.command import Command, IsoDateTime, whole
from domain.promotion.events import Kind, Target

Text = Annotated[str, Field(min_length=1, max_length=200)]


class MoneyValue(BaseModel):
    """An amount in a currency, checked by the decision (sign, precision)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Annotated[str, Field(max_length=32)] | StrictInt | float
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class ConditionsIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_subtotal: MoneyValue | None = None
    skus: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=500)] = []
    category_ids: Annotated[list[UUID], Field(max_length=500)] = []
    segments: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)] = []
    first_order_only: StrictBool = False


class CreatePromotion(Command):
    name: Text
    code: Annotated[str, Field(max_length=200)] | None = None
    target: Target
    kind: Kind
    #: A percentage (``"10"``, ``12.5``) or, for ``fixed_amount``, money.
    value: MoneyValue | Annotated[str, Field(max_length=32)] | StrictInt | float
    conditions: ConditionsIn = ConditionsIn()
    valid_from: IsoDateTime | None = None
    valid_to: IsoDateTime | None = None
    usage_limit: whole(ge=1, le=1_000_000_000) | None = None  # type: ignore[valid-type]
    per_customer_limit: whole(ge=1, le=1_000_000) | None = None  # type: ignore[valid-type]
    stackable: StrictBool = False


class ActivatePromotion(Command):
    promotion_id: UUID


class PausePromotion(Command):
    promotion_id: UUID


class EndPromotion(Command):
    promotion_id: UUID
