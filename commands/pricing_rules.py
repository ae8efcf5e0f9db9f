"""Handlers for the PricingRule aggregate (``HANDLERS``): load, decide with
``domain.pricing.decide``, append. The new rule's id is made here and answered in ``extra``."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from domain.errors import NotFound, VersionMismatch
from domain.pricing import decide
from domain.pricing.commands import CreatePricingRule, DeactivatePricingRule, UpdatePricingRule
from domain.pricing.state import PRICING_RULE, PricingRuleState


def create(w: WriteSide, c: CreatePricingRule, ctx: CommandContext) -> Outcome:
    rule_id = uuid4()

    def decision(state: PricingRuleState, _version: int):
        return decide.create_rule(state, c, rule_id), {"id": str(rule_id)}

    return execute(w.store, PRICING_RULE, rule_id, decision, ctx)


def _on_rule(w: WriteSide, ctx: CommandContext, rule_id, decision) -> Outcome:
    """A decision on an existing rule; an unknown one is not found even under If-Match."""
    try:
        return execute(w.store, PRICING_RULE, rule_id, lambda s, _v: decision(s), ctx)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound(
                f"Pricing rule {rule_id} does not exist.", code="pricing_rule_not_found"
            ) from None
        raise


def update(w: WriteSide, c: UpdatePricingRule, ctx: CommandContext) -> Outcome:
    return _on_rule(w, ctx, c.rule_id, lambda s: decide.update_rule(s, c))


def deactivate(w: WriteSide, c: DeactivatePricingRule, ctx: CommandContext) -> Outcome:
    return _on_rule(w, ctx, c.rule_id, lambda s: decide.deactivate_rule(s, c))


HANDLERS = {
    CreatePricingRule: create,
    UpdatePricingRule: update,
    DeactivatePricingRule: deactivate,
}
