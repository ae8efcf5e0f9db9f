"""``DirectoryFeed``: the new events of several write-side directories (the pricing rules and
the promotions) read in one query, each directory folding its own.

A placement asks both directories before it decides, and each used to read the events of its
topics since its position: two round trips per order, mostly to find nothing. The feed reads
every topic of every directory in one query (``EventStore.read_topics``: one range of the
(topic, position) index per topic, each from its directory's position), hands each directory
its events in position order, and is shared like one directory's refresh
(``commands/shared_refresh.py``): concurrent callers share reads, and a caller that says when
its request began (``since``) is served by any read begun since, so the second directory a
placement asks costs nothing.

A placement reads the directories' new events in the statement that reads its customer's and
products' tails (``read_with``): such a read counts as a refresh begun when it began.

Pages: each topic gives at most ``page`` events a read. A directory folds only up to the
lowest position at which one of its topics was cut short (beyond it, that topic's events are
not read yet), and the feed reads again until no topic was cut short.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from uuid import UUID

from commands.shared_refresh import SharedRefresh
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

PAGE = 500


class FedDirectory(ABC):
    """A write-side directory folded from the events of its ``topics`` by position, through a
    feed (its own until ``feed_together`` joins it with others); safe to share between
    threads. Subclasses fold one event in ``_apply`` (under the lock) and may derive what
    they serve in ``_folded``."""

    #: The event types it folds.
    topics: tuple[str, ...]

    def __init__(self, store: EventStore):
        self._lock = threading.Lock()
        self.feed = DirectoryFeed(store, [self])
        self._position = 0

    @property
    def position(self) -> int:
        """The position of the last event it folded."""
        return self._position

    def refresh(self, since: float | None = None) -> None:
        """Fold in the events written since the last refresh (one read shared with the callers
        asking at the same time; with ``since``, any read begun after it will do)."""
        self.feed.refresh(since)

    def fold(self, events: Sequence[RecordedEvent]) -> None:
        """Fold ``events`` (its own topics', in position order); those at or before its
        position are skipped."""
        with self._lock:
            new = [e for e in events if (e.position or 0) > self._position]
            for e in new:
                self._apply(e)
                self._position = e.position or 0
            if new:
                self._folded()

    @abstractmethod
    def _apply(self, event: RecordedEvent) -> None:
        """Fold one event into the directory's state."""

    def _folded(self) -> None:
        """After a fold that changed something (default: nothing more to do)."""
        return None


class DirectoryFeed:
    def __init__(self, store: EventStore, directories: Sequence[FedDirectory], page: int = PAGE):
        self.store = store
        self.directories = tuple(directories)
        self.page = page
        self._shared = SharedRefresh(self._read)

    def refresh(self, since: float | None = None) -> None:
        """Fold what every directory has not seen yet: after a read begun after this call
        (or after ``since``, a ``time.monotonic()`` reading of when the request began)."""
        self._shared(since)

    def read_with(
        self, after: dict[UUID, int], keys_of: Sequence[UUID] = ()
    ) -> dict[UUID, list[RecordedEvent]]:
        """The tails of streams (``EventStore.load_many``), read in the same statement as
        every directory's new events, which are folded: counted as a refresh begun when this
        read began, unless a topic was cut short (then the next refresh reads on). A placement
        thus reads its customer, its products and the directories in one round trip (and, with
        ``keys_of``, those customers' data keys: ``EventStore.load_many_and_topics``)."""
        began = time.monotonic()
        tails, events = self.store.load_many_and_topics(
            after, self._positions(), self.page, keys_of
        )
        if self._fold(events):
            self._shared.done(began)
        return tails

    def _positions(self) -> dict[str, int]:
        return {t: d.position for d in self.directories for t in d.topics}

    def _read(self) -> None:
        while not self._fold(self.store.read_topics(self._positions(), self.page)):
            pass

    def _fold(self, events: Sequence[RecordedEvent]) -> bool:
        """Hand each directory its events (in position order) up to where one of its topics
        was cut short; True when no topic was (every directory is then as new as the read)."""
        counts: dict[str, int] = {}
        last: dict[str, int] = {}
        for e in events:
            counts[e.type] = counts.get(e.type, 0) + 1
            last[e.type] = e.position or 0
        cut = {t for t, n in counts.items() if n >= self.page}
        for d in self.directories:
            mine = set(d.topics)
            upto = min((last[t] for t in cut & mine), default=None)
            d.fold(
                [
                    e
                    for e in events
                    if e.type in mine and (upto is None or (e.position or 0) <= upto)
                ]
            )
        return not cut


def feed_together(store: EventStore, *directories: FedDirectory) -> DirectoryFeed:
    """One feed for ``directories`` (each then refreshes through it)."""
    feed = DirectoryFeed(store, directories)
    for d in directories:
        d.feed = feed
    return feed
