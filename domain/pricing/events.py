"""Events of a PricingRule stream (the stream id is the rule id). Each carries the rule's whole
definition as it stands after the event (its configuration as checked and normalised by
``domain.pricing.rules``), so a fold never re-derives one from a change."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import JsonValue

from domain.events import DomainEvent
from domain.pricing.rules import RuleScope


class PricingRuleEvent(DomainEvent):
    stream_type: ClassVar[str] = "pricing_rule"


class PricingRuleCreated(PricingRuleEvent):
    rule_id: UUID
    name: str
    rule_type: str
    scope: RuleScope
    config: dict[str, JsonValue]
    priority: int
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class PricingRuleUpdated(PricingRuleEvent):
    """The rule's definition after the change; ``changed`` names the fields that moved."""

    name: str
    scope: RuleScope
    config: dict[str, JsonValue]
    priority: int
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    changed: list[str]


class PricingRuleDeactivated(PricingRuleEvent):
    reason: str | None = None


PRICING_RULE_EVENTS = (PricingRuleCreated, PricingRuleUpdated, PricingRuleDeactivated)
