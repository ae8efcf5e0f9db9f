"""Category decision state and its evolution; its one decision (create) is in ``decide``."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.aggregate import AggregateType
from domain.category.events import CATEGORY_EVENTS, CategoryCreated
from domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class CategoryState:
    exists: bool = False
    category_id: UUID | None = None
    name: str = ""
    slug: str = ""
    parent_id: UUID | None = None


def evolve(state: CategoryState, event: DomainEvent) -> CategoryState:
    if isinstance(event, CategoryCreated):
        return CategoryState(True, event.category_id, event.name, event.slug, event.parent_id)
    return state


CATEGORY = AggregateType("category", CategoryState, evolve, CATEGORY_EVENTS)
