"""The Category decision: create a category (``commands.CreateCategory``)."""

from __future__ import annotations

import re
from uuid import UUID

from domain.category.commands import CreateCategory
from domain.category.events import CategoryCreated
from domain.category.state import CategoryState
from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def create_category(
    state: CategoryState, c: CreateCategory, category_id: UUID, *, parent_exists: bool
) -> list[DomainEvent]:
    """``category_id`` is the new stream's id, made by the handler, and ``parent_exists`` is
    looked up by it; a new category cannot close a cycle."""
    if state.exists:
        raise Conflict("This category already exists.", code="category_exists")
    if not c.name.strip():
        raise InvalidCommand("A category needs a name.", code="invalid_name")
    if not SLUG_PATTERN.match(c.slug):
        raise InvalidCommand(f"'{c.slug}' is not a valid slug.", code="invalid_slug")
    if c.parent_id is not None and (c.parent_id == category_id or not parent_exists):
        raise InvalidCommand("The parent category does not exist.", code="unknown_parent")
    return [
        CategoryCreated(category_id=category_id, name=c.name, slug=c.slug, parent_id=c.parent_id)
    ]
