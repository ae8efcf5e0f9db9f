"""What the command layer needs to know about an aggregate type: its stream type, its empty
state and how one event evolves the state. Decisions are plain functions beside each state."""

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

    def fold(self, events: Iterable[DomainEvent], state: S | None = None) -> S:
        current = self.initial() if state is None else state
        if self.fold_many is not None:
            return self.fold_many(current, events)
        for event in events:
            current = self.evolve(current, event)
        return current
