"""What the command layer needs to know about an aggregate type: its stream type, its empty
state and how one event evolves the state, and whether its long streams keep snapshots.
Decisions are plain functions beside each state."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.events import DomainEvent

S = TypeVar("S")


@dataclass(frozen=True)
class AggregateType(Generic[S]):
    stream_type: str
    initial: Callable[[], S]
    evolve: Callable[[S, DomainEvent], S]
    events: tuple[type[DomainEvent], ...]
    #: Optional: apply a whole run of events at once (same result as ``evolve`` one by one),
    #: for states whose per-event copy would make a long stream's fold quadratic.
    fold_many: Callable[[S, Iterable[DomainEvent]], S] | None = None
    #: Optional: keep a snapshot of the folded state about every this many events, so the
    #: command path reads the latest snapshot and only the events after it
    #: (``eventstore/snapshots.py``). The state must be plain data a pydantic ``TypeAdapter``
    #: round-trips (dataclasses, dicts, UUIDs, datetimes, frozensets).
    snapshot_every: int | None = None
    #: Optional, with ``snapshot_every``: a state's size, in events' worth (a hot SKU's
    #: reservations). A snapshot encodes the whole state, so at a fixed spacing a state that
    #: keeps growing costs ever more per event; snapshots are kept instead about every
    #: ``snapshot_every`` times the least power of two that reaches this size
    #: (``eventstore/snapshots.py`` ``interval``): writing them costs a bounded share of each
    #: event however large the state grows, and a load folds at most about as many events as
    #: the snapshot it starts from holds.
    snapshot_weight: Callable[[S], int] | None = None
    #: Part of the snapshots' fingerprint: bump it when ``evolve`` changes what a state of the
    #: same shape means, so that snapshots folded by the old code are ignored.
    snapshot_version: int = 1

    def __post_init__(self) -> None:
        if self.snapshot_every is None:
            return
        if self.snapshot_every < 1:
            raise ValueError(f"{self.stream_type}: snapshot_every must be positive")
        # A snapshot is a plain copy of what the events say: personal data in it would outlive
        # the customer's key (crypto-shredding erases events, not snapshots).
        personal = [cls.__name__ for cls in self.events if carries_personal_data(cls)]
        if personal:
            raise ValueError(
                f"{self.stream_type}: no snapshots for streams with personal data ({personal})"
            )

    def fold(self, events: Iterable[DomainEvent], state: S | None = None) -> S:
        current = self.initial() if state is None else state
        if self.fold_many is not None:
            return self.fold_many(current, events)
        for event in events:
            current = self.evolve(current, event)
        return current


def carries_personal_data(cls: type[DomainEvent]) -> bool:
    """Whether the event class names personal fields or a data subject (see
    ``eventstore/privacy.py``)."""
    return bool(
        getattr(cls, "personal_data_fields", ()) or getattr(cls, "personal_data_subject", None)
    )
