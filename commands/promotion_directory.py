"""The write side's directory of promotions: id → folded state and code → id, from the
Promotion streams, for the placement's discounts (``commands/order_promotions.py``).

Like the locations directory it never reads a read model. Before each use it folds the
promotion events after the position it has seen, read by its feed (``commands/
directory_feed.py``: one range of the (topic, position) index per event type, so the read does
not grow with the log; on the write side one query serves it and the pricing rules).
Redemptions live on other streams (other topics), so a busy promotion never makes this
refresh longer. One per process, owned by the write side; thread-safe."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from commands.directory_feed import DirectoryFeed
from domain.promotion.events import PROMOTION_EVENTS, PromotionCreated
from domain.promotion.state import PROMOTION, PromotionState
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in PROMOTION_EVENTS)


class PromotionDirectory:
    topics = TOPICS

    def __init__(self, store: EventStore):
        self._lock = threading.Lock()
        #: Its own feed until the write side joins it with the other directories'.
        self.feed = DirectoryFeed(store, [self])
        self._position = 0
        self._states: dict[UUID, PromotionState] = {}
        self._codes: dict[str, UUID] = {}

    @property
    def position(self) -> int:
        """The position of the last promotion event folded in."""
        return self._position

    def refresh(self, since: float | None = None) -> None:
        """Fold in the promotion events written since the last refresh (one read shared with
        the callers asking at the same time; with ``since``, any read begun after it will do:
        ``commands/directory_feed.py``)."""
        self.feed.refresh(since)

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        with self._lock:
            for e in events:
                assert e.position is not None
                if e.position <= self._position:
                    continue
                event = e.to_domain()
                state = self._states.get(e.stream_id, PROMOTION.initial())
                self._states[e.stream_id] = PROMOTION.evolve(state, event)
                if isinstance(event, PromotionCreated) and event.code is not None:
                    self._codes[event.code.upper()] = e.stream_id
                self._position = e.position

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
