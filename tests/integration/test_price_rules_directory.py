"""The write side's directory of pricing rules folds the PricingRule streams by position: a
rule is known to the very next decision, follows its changes and deactivation, and another
process's directory (another write side over the same store) sees the same. Rules here are
scoped to SKUs of their own: the database is shared."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext
from commands.price_rules import PriceRules
from domain.pricing.commands import CreatePricingRule, DeactivatePricingRule, UpdatePricingRule
from domain.pricing.rules import RuleScope
from tests.factories import send


def _rule(sku: str, priority: int = 1) -> CreatePricingRule:
    return CreatePricingRule(
        name="r",
        type="tiered",
        scope=RuleScope(skus=[sku]),
        config={"tiers": [{"min": 1, "percent_off": 10}]},
        priority=priority,
    )


def _mine(directory: PriceRules, rule_id) -> list:
    return [r for r in directory.active() if r.rule_id == rule_id]


def test_a_rule_is_known_to_the_next_decision_then_changed_then_gone(container):
    directory = PriceRules(container.store)
    directory.refresh()
    seen = directory.position
    ctx = CommandContext.new()
    made = send(container, _rule(f"PR-{uuid4().hex[:8]}"), ctx)
    [rule] = _mine(directory, made.stream_id)
    assert rule.priority == 1 and directory.position == made.position > seen

    send(container, UpdatePricingRule(rule_id=made.stream_id, priority=7), CommandContext.new())
    [rule] = _mine(directory, made.stream_id)
    assert rule.priority == 7

    send(container, DeactivatePricingRule(rule_id=made.stream_id), CommandContext.new())
    assert _mine(directory, made.stream_id) == []
    assert _mine(PriceRules(container.store), made.stream_id) == []  # folded from scratch


def test_nothing_new_reads_nothing_and_moves_nothing(container):
    directory = PriceRules(container.store)
    first = directory.active()
    position = directory.position
    assert directory.active() is first and directory.position == position
