"""The write side's directory of promotions: id → folded state and code → id, from the
Promotion streams, for the placement's discounts (``commands/order_promotions.py``).

Like the locations directory it never reads a read model. Before each use it asks for the
position of the last promotion event (one probe of the (topic, position) index per event type:
every placement asks, so this must not grow with the log) and, only when that moved past what
it has seen, reads the events after it. A read of "the events after N of these types" alone
may walk the log from N when none of them came since, which made every placement slower as
the log grew. Redemptions live on other streams (other topics), so a busy promotion never
makes this refresh longer. One per process, owned by the write side; thread-safe."""

from __future__ import annotations

import threading
from datetime import datetime
from uuid import UUID

from commands.shared_refresh import SharedRefresh
from domain.promotion.events import PROMOTION_EVENTS, PromotionCreated
from domain.promotion.state import PROMOTION, PromotionState
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in PROMOTION_EVENTS)
_PAGE = 500


class PromotionDirectory:
    def __init__(self, store: EventStore):
        self._store = store
        self._lock = threading.Lock()
        self._shared_refresh = SharedRefresh(self._fold_new)
        self._position = 0
        self._states: dict[UUID, PromotionState] = {}
        self._codes: dict[str, UUID] = {}

    def refresh(self) -> None:
        """Fold in the promotion events written since the last refresh (one read shared with
        the callers asking at the same time: ``commands/shared_refresh.py``)."""
        self._shared_refresh()

    def _fold_new(self) -> None:
        with self._lock:
            while True:
                events = self._store.read_all(self._position, _PAGE, TOPICS)
                for e in events:
                    event = e.to_domain()
                    state = self._states.get(e.stream_id, PROMOTION.initial())
                    self._states[e.stream_id] = PROMOTION.evolve(state, event)
                    if isinstance(event, PromotionCreated) and event.code is not None:
                        self._codes[event.code.upper()] = e.stream_id
                    assert e.position is not None
                    self._position = e.position
                if len(events) < _PAGE:
                    return

    def by_code(self, code: str) -> tuple[UUID, PromotionState] | None:
        """The promotion a code names (any case), as of now; None for an unknown code."""
        self.refresh()
        promotion_id = self._codes.get(code.upper())
        return None if promotion_id is None else (promotion_id, self._states[promotion_id])

    def automatic(self, now: datetime) -> list[tuple[UUID, PromotionState]]:
        """The active promotions without a code whose window holds ``now``."""
        self.refresh()
        return [
            (pid, s)
            for pid, s in self._states.items()
            if s.code is None and s.status == "active" and s.in_window(now)
        ]
