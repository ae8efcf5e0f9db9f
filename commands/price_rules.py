"""The write side's directory of pricing rules: every rule's current definition, folded from
the PricingRule streams, for the decisions that price an order line (placement) and for the
price quote (``GET /prices/{sku}``), which must agree with them.

It never reads a read model: before each decision it folds the pricing-rule events after the
position it has seen, read by its feed (``commands/directory_feed.py``: one indexed query by
topic, shared on the write side with the promotions directory; none written since: no row).
One per process, owned by the composition root through the write side
(``WriteSide.price_rules``); safe to share between threads."""

from __future__ import annotations

from uuid import UUID

from commands.directory_feed import FedDirectory
from domain.pricing.events import PRICING_RULE_EVENTS
from domain.pricing.rules import PricingRule
from domain.pricing.state import PRICING_RULE, PricingRuleState
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in PRICING_RULE_EVENTS)


class PriceRules(FedDirectory):
    topics = TOPICS

    def __init__(self, store: EventStore):
        super().__init__(store)
        self._states: dict[UUID, PricingRuleState] = {}
        self._active: tuple[PricingRule, ...] = ()

    def _apply(self, event: RecordedEvent) -> None:
        state = self._states.get(event.stream_id, PRICING_RULE.initial())
        self._states[event.stream_id] = PRICING_RULE.evolve(state, event.to_domain())

    def _folded(self) -> None:
        self._active = tuple(
            s.rule for s in self._states.values() if s.active and s.rule is not None
        )

    def active(self, since: float | None = None) -> tuple[PricingRule, ...]:
        """The active rules as of now, or as of a read begun after ``since`` (whatever their
        validity window)."""
        self.refresh(since)
        return self._active
