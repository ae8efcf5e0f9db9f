"""The write side's directory of pricing rules: every rule's current definition, folded from
the PricingRule streams, for the decisions that price an order line (placement) and for the
price quote (``GET /prices/{sku}``), which must agree with them.

It never reads a read model: before each decision it reads the pricing-rule events after the
position it has seen (one indexed query by topic; none written since: no row), as
``commands/location_directory.py`` does for locations. One per process, owned by the
composition root through the write side (``WriteSide.price_rules``); safe to share between
threads."""

from __future__ import annotations

import threading
from uuid import UUID

from commands.shared_refresh import SharedRefresh
from domain.pricing.events import PRICING_RULE_EVENTS
from domain.pricing.rules import PricingRule
from domain.pricing.state import PRICING_RULE, PricingRuleState
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in PRICING_RULE_EVENTS)
_PAGE = 500


class PriceRules:
    def __init__(self, store: EventStore):
        self._store = store
        self._lock = threading.Lock()
        self._shared_refresh = SharedRefresh(self._fold_new)
        self._position = 0
        self._states: dict[UUID, PricingRuleState] = {}
        self._active: tuple[PricingRule, ...] = ()

    @property
    def position(self) -> int:
        """The position of the last pricing-rule event folded in."""
        return self._position

    def refresh(self) -> None:
        """Fold in the pricing-rule events written since the last refresh (one read shared with
        the callers asking at the same time: ``commands/shared_refresh.py``)."""
        self._shared_refresh()

    def _fold_new(self) -> None:
        with self._lock:
            changed = False
            while True:
                events = self._store.read_all(self._position, _PAGE, TOPICS)
                for e in events:
                    state = self._states.get(e.stream_id, PRICING_RULE.initial())
                    self._states[e.stream_id] = PRICING_RULE.evolve(state, e.to_domain())
                    assert e.position is not None
                    self._position = e.position
                    changed = True
                if len(events) < _PAGE:
                    break
            if changed:
                self._active = tuple(
                    s.rule for s in self._states.values() if s.active and s.rule is not None
                )

    def active(self) -> tuple[PricingRule, ...]:
        """The active rules as of now (whatever their validity window)."""
        self.refresh()
        return self._active
