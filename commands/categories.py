"""Handlers for the Category aggregate (``HANDLERS``). A slug is claimed in its own registry
stream in the same transaction as the category, so a duplicate slug is refused even under a
race."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.products import at_own_stream
from commands.write_side import WriteSide
from domain.category.commands import CreateCategory
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


def create(w: WriteSide, c: CreateCategory, ctx: CommandContext) -> Outcome:
    """A new category, its id made here (``result.stream_id``)."""
    category_id = uuid4()
    parent_exists = c.parent_id is not None and get(w.store, c.parent_id).exists
    result = execute(
        w.store,
        CATEGORY,
        category_id,
        lambda state, _v: create_category(state, c, category_id, parent_exists=parent_exists),
        ctx,
        also=_claim_slug(w.store, category_id, c.slug),
    )
    return at_own_stream(w.store, result)


HANDLERS = {CreateCategory: create}


def get(store: EventStore, category_id: UUID) -> CategoryState:
    return load(store, CATEGORY, category_id).state
