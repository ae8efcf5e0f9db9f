"""The write side's directory of locations: code → (priority, active), folded from the
Location streams, for the decisions that choose where stock comes from (the placement saga's
allocation, line edits).

It never reads a read model: it reads the location events of the store after the position it
has seen (one indexed query by topic), before each decision that needs it, so a location
registered before a command was sent is known to that command. When nothing changed the
refresh is one query that returns no row. One directory per process, owned by the
composition root (``composition.bootstrap``); it is safe to share between threads.
"""

from __future__ import annotations

import threading
from uuid import UUID

from commands.shared_refresh import SharedRefresh
from domain.location.events import LOCATION_EVENTS
from domain.location.state import LOCATION, LocationState
from eventstore.store import EventStore

TOPICS = tuple(cls.stored_name() for cls in LOCATION_EVENTS)
_PAGE = 500


class LocationDirectory:
    def __init__(self, store: EventStore):
        self._store = store
        self._lock = threading.Lock()
        self._shared_refresh = SharedRefresh(self._fold_new)
        self._position = 0
        self._states: dict[UUID, LocationState] = {}

    @property
    def position(self) -> int:
        """The position of the last location event folded in."""
        return self._position

    def refresh(self) -> None:
        """Fold in the location events written since the last refresh (one read shared with
        the callers asking at the same time: ``commands/shared_refresh.py``)."""
        self._shared_refresh()

    def _fold_new(self) -> None:
        with self._lock:
            while True:
                events = self._store.read_all(self._position, _PAGE, TOPICS)
                for e in events:
                    state = self._states.get(e.stream_id, LOCATION.initial())
                    self._states[e.stream_id] = LOCATION.evolve(state, e.to_domain())
                    assert e.position is not None
                    self._position = e.position
                if len(events) < _PAGE:
                    return

    def active(self) -> dict[str, int]:
        """The active locations' codes and priorities (lower is preferred), as of now."""
        self.refresh()
        return {s.code: s.priority for s in self._states.values() if s.active}

    def dropship_vendors(self, *, refresh: bool = True) -> dict[str, UUID]:
        """The ``dropship`` locations' codes and their vendors (active or not: a plan made
        before a deactivation is still the vendor's). ``refresh=False`` answers from what was
        folded already (a location allocated from is known)."""
        if refresh:
            self.refresh()
        return {s.code: s.vendor_id for s in self._states.values() if s.vendor_id is not None}

    def by_preference(self) -> list[str]:
        """The active locations' codes, preferred first (priority, then code)."""
        return [code for code, _p in sorted(self.active().items(), key=lambda kv: (kv[1], kv[0]))]
