"""Decisions on a pricing rule: each takes the state and the command and returns the events
(``[]``: nothing to do) or raises a named domain error."""

from __future__ import annotations

from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.pricing.commands import CreatePricingRule, DeactivatePricingRule, UpdatePricingRule
from domain.pricing.events import PricingRuleCreated, PricingRuleDeactivated, PricingRuleUpdated
from domain.pricing.rules import check_rule
from domain.pricing.state import PricingRuleState

FIELDS = ("name", "scope", "config", "priority", "valid_from", "valid_to")


def create_rule(state: PricingRuleState, c: CreatePricingRule, rule_id: UUID) -> list[DomainEvent]:
    if state.exists:
        raise Conflict("This pricing rule exists already.", code="pricing_rule_exists")
    _, config = check_rule(
        rule_id, c.name, c.type, c.scope, c.config, c.priority, c.valid_from, c.valid_to
    )
    return [
        PricingRuleCreated(
            rule_id=rule_id,
            name=c.name,
            rule_type=c.type,
            scope=c.scope,
            config=config,
            priority=c.priority,
            valid_from=c.valid_from,
            valid_to=c.valid_to,
        )
    ]


def _existing(state: PricingRuleState, rule_id: UUID) -> PricingRuleState:
    if not state.exists:
        raise NotFound(f"Pricing rule {rule_id} does not exist.", code="pricing_rule_not_found")
    return state


def update_rule(state: PricingRuleState, c: UpdatePricingRule) -> list[DomainEvent]:
    """A change to a deactivated rule is a conflict; a change that changes nothing writes
    nothing."""
    rule = _existing(state, c.rule_id).rule
    assert rule is not None
    if not state.active:
        raise Conflict("A deactivated pricing rule does not change.", code="pricing_rule_inactive")
    given = c.given()
    for key in ("name", "scope", "config", "priority"):
        if key in given and given[key] is None:
            raise InvalidCommand(
                f"'{key}' cannot be null.", code="invalid_config", details={"field": key}
            )
    now = {
        "name": rule.name,
        "scope": state.scope,
        "config": state.config,
        "priority": rule.priority,
        "valid_from": rule.valid_from,
        "valid_to": rule.valid_to,
    }
    new = {**now, **given}
    _, config = check_rule(
        rule.rule_id,
        new["name"],
        rule.rule_type,
        new["scope"],
        new["config"],
        new["priority"],
        new["valid_from"],
        new["valid_to"],
    )
    new["config"] = config
    changed = [k for k in FIELDS if new[k] != now[k]]
    if not changed:
        return []
    return [PricingRuleUpdated(**new, changed=changed)]


def deactivate_rule(state: PricingRuleState, c: DeactivatePricingRule) -> list[DomainEvent]:
    """Deactivating an inactive rule changes nothing."""
    if not _existing(state, c.rule_id).active:
        return []
    return [PricingRuleDeactivated(reason=c.reason)]
