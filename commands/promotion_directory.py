"""The write side's directory of promotions: id → folded state and code → id, from the
Promotion streams, for the placement's discounts (``commands/order_promotions.py``).

Like the locations directory it never reads a read model. Before each use it folds the
promotion events after the position it has seen, read by its feed (``commands/
directory_feed.py``: one range of the (topic, position) index per event type, so the read does
not grow with the log; on the write side one query serves it and the pricing rules).
Redemptions live on other streams (other topics), so a busy promotion never makes this
refresh longer. One per process, owned by the write side; thread-safe."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commands.directory_feed import FedDirectory
from domain.promotion.events import PROMOTION_EVENTS, PromotionCreated
from domain.promotion.state import PROMOTION, PromotionState
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in PROMOTION_EVENTS)


class PromotionDirectory(FedDirectory):
    topics = TOPICS

    def __init__(self, store: EventStore):
        super().__init__(store)
        self._states: dict[UUID, PromotionState] = {}
        self._codes: dict[str, UUID] = {}

    def _apply(self, recorded: RecordedEvent) -> None:
        event = recorded.to_domain()
        state = self._states.get(recorded.stream_id, PROMOTION.initial())
        self._states[recorded.stream_id] = PROMOTION.evolve(state, event)
        if isinstance(event, PromotionCreated) and event.code is not None:
            self._codes[event.code.upper()] = recorded.stream_id

    def by_code(self, code: str, since: float | None = None) -> tuple[UUID, PromotionState] | None:
        """The promotion a code names (any case), as of now (or of a read begun after
        ``since``); None for an unknown code."""
        self.refresh(since)
        promotion_id = self._codes.get(code.upper())
        return None if promotion_id is None else (promotion_id, self._states[promotion_id])

    def automatic(
        self, now: datetime, since: float | None = None
    ) -> list[tuple[UUID, PromotionState]]:
        """The active promotions without a code whose window holds ``now`` (as of a read
        begun after ``since``, when given)."""
        self.refresh(since)
        return [
            (pid, s)
            for pid, s in self._states.items()
            if s.code is None and s.status == "active" and s.in_window(now)
        ]
