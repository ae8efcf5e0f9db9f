"""PricingRule decision state and its evolution; decisions are in ``decide``. The state holds
the rule as decisions use it (``domain.pricing.rules.PricingRule``), rebuilt from the
definition each event carries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.pricing.events import (
    PRICING_RULE_EVENTS,
    PricingRuleCreated,
    PricingRuleDeactivated,
    PricingRuleUpdated,
)
from domain.pricing.rules import PricingRule, RuleScope, check_rule


@dataclass(frozen=True, slots=True)
class PricingRuleState:
    exists: bool = False
    #: ``active`` or ``inactive``.
    status: str = "active"
    rule: PricingRule | None = None
    scope: RuleScope = RuleScope()
    config: dict | None = None

    @property
    def active(self) -> bool:
        return self.exists and self.status == "active"


def _defined(
    state: PricingRuleState,
    e: PricingRuleCreated | PricingRuleUpdated,
    rule_id: UUID,
    rule_type: str,
) -> PricingRuleState:
    rule, _ = check_rule(
        rule_id, e.name, rule_type, e.scope, e.config, e.priority, e.valid_from, e.valid_to
    )
    active = state.status == "active"
    return PricingRuleState(
        exists=True,
        status=state.status,
        rule=replace(rule, active=active),
        scope=e.scope,
        config=e.config,
    )


def evolve(state: PricingRuleState, event: DomainEvent) -> PricingRuleState:
    match event:
        case PricingRuleCreated():
            return _defined(state, event, event.rule_id, event.rule_type)
        case PricingRuleUpdated():
            assert state.rule is not None
            return _defined(state, event, state.rule.rule_id, state.rule.rule_type)
        case PricingRuleDeactivated():
            assert state.rule is not None
            return replace(state, status="inactive", rule=replace(state.rule, active=False))
    return state


PRICING_RULE = AggregateType("pricing_rule", PricingRuleState, evolve, PRICING_RULE_EVENTS)
