"""The write side's directory of pricing rules: every rule's current definition, folded from
the PricingRule streams, for the decisions that price an order line (placement) and for the
price quote (``GET /prices/{sku}``), which must agree with them.

It never reads a read model: before each decision it folds the pricing-rule events after the
position it has seen, read by its feed (``commands/directory_feed.py``: one indexed query by
topic, shared on the write side with the promotions directory; none written since: no row).
One per process, owned by the composition root through the write side
(``WriteSide.price_rules``); safe to share between threads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from uuid import UUID

from commands.directory_feed import DirectoryFeed
from domain.pricing.events import PRICING_RULE_EVENTS
from domain.pricing.rules import PricingRule
from domain.pricing.state import PRICING_RULE, PricingRuleState
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in PRICING_RULE_EVENTS)


class PriceRules:
    topics = TOPICS

    def __init__(self, store: EventStore):
        self._lock = threading.Lock()
        #: Its own feed until the write side joins it with the other directories'.
        self.feed = DirectoryFeed(store, [self])
        self._position = 0
        self._states: dict[UUID, PricingRuleState] = {}
        self._active: tuple[PricingRule, ...] = ()

    @property
    def position(self) -> int:
        """The position of the last pricing-rule event folded in."""
        return self._position

    def refresh(self, since: float | None = None) -> None:
        """Fold in the pricing-rule events written since the last refresh (one read shared with
        the callers asking at the same time; with ``since``, any read begun after it will do:
        ``commands/directory_feed.py``)."""
        self.feed.refresh(since)

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        with self._lock:
            changed = False
            for e in events:
                assert e.position is not None
                if e.position <= self._position:
                    continue
                state = self._states.get(e.stream_id, PRICING_RULE.initial())
                self._states[e.stream_id] = PRICING_RULE.evolve(state, e.to_domain())
                self._position = e.position
                changed = True
            if changed:
                self._active = tuple(
                    s.rule for s in self._states.values() if s.active and s.rule is not None
                )

    def active(self, since: float | None = None) -> tuple[PricingRule, ...]:
        """The active rules as of now, or as of a read begun after ``since`` (whatever their
        validity window)."""
        self.refresh(since)
        return self._active
