"""The commands on a pricing rule, as messages: create it, update it, deactivate it. The
configuration's shape depends on the type (``domain.pricing.rules``); it is checked by the
decision, so each broken rule is answered with its own code."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, JsonValue

from domain.command import Command, IsoDateTime, whole
from domain.pricing.rules import RuleScope

RuleName = Annotated[str, Field(min_length=1, max_length=200)]
Priority = whole(ge=0, le=1_000_000)
RuleConfig = Annotated[
    dict[str, JsonValue],
    Field(
        description="By type: tiered {tiers: [{min, max|null, price|percent_off}]}; segment "
        "{segments: {name: {price}|{percent_off}}}; geographic {regions: {country or "
        "country-region: {price}|{percent_adjust}}}; time_based {price|percent_off, schedule?: "
        '[{weekday 0-6, from "HH:MM", to "HH:MM"}]} (UTC); cost_plus {cost, markup_percent}.'
    ),
]


class CreatePricingRule(Command):
    name: RuleName
    type: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            description="tiered, segment, geographic, time_based or cost_plus",
        ),
    ]
    scope: RuleScope = RuleScope()
    config: RuleConfig
    priority: Priority = 0  # type: ignore[valid-type]
    valid_from: IsoDateTime | None = None
    valid_to: IsoDateTime | None = None


class UpdatePricingRule(Command):
    """Only the fields given change (``valid_to: null`` removes the end); the type stays."""

    rule_id: UUID
    name: RuleName | None = None
    scope: RuleScope | None = None
    config: RuleConfig | None = None
    priority: Priority | None = None  # type: ignore[valid-type]
    valid_from: IsoDateTime | None = None
    valid_to: IsoDateTime | None = None

    def given(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set if k != "rule_id"}


class DeactivatePricingRule(Command):
    rule_id: UUID
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None
