"""Handlers for the Category aggregate. A slug is claimed in its own registry stream in the same
transaction as the category, so a duplicate slug is refused even under a race."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.products import at_own_stream
from domain.category.decide import create_category
from domain.category.events import CategorySlugClaimed
from domain.category.state import CATEGORY, CategoryState
from domain.errors import Conflict
from domain.events import DomainEvent
from domain.ids import category_slug_stream
from eventstore.store import EventStore, StreamAppend


def _claim_slug(store: EventStore, category_id: UUID, slug: str):
    def also(_state: CategoryState, _events: Sequence[DomainEvent]) -> list[StreamAppend]:
        stream = category_slug_stream(slug)
        if store.load(stream, up_to_version=1):
            raise Conflict(f"The slug '{slug}' is taken.", code="duplicate_slug")
        return [StreamAppend(stream, 0, [CategorySlugClaimed(slug=slug, category_id=category_id)])]

    return also


def create(
    store: EventStore,
    ctx: CommandContext,
    *,
    category_id: UUID,
    name: str,
    slug: str,
    parent_id: UUID | None = None,
) -> Outcome:
    parent_exists = parent_id is not None and get(store, parent_id).exists
    result = execute(
        store,
        CATEGORY,
        category_id,
        lambda state, _v: create_category(
            state,
            category_id=category_id,
            name=name,
            slug=slug,
            parent_id=parent_id,
            parent_exists=parent_exists,
        ),
        ctx,
        also=_claim_slug(store, category_id, slug),
    )
    return at_own_stream(store, result)


def get(store: EventStore, category_id: UUID) -> CategoryState:
    return load(store, CATEGORY, category_id).state
