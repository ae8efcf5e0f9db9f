"""The Category decision: create a category."""

from __future__ import annotations

import re
from uuid import UUID

from domain.category.events import CategoryCreated
from domain.category.state import CategoryState
from domain.errors import Conflict, InvalidCommand
from domain.events import DomainEvent

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def create_category(
    state: CategoryState,
    *,
    category_id: UUID,
    name: str,
    slug: str,
    parent_id: UUID | None,
    parent_exists: bool,
) -> list[DomainEvent]:
    """``parent_exists`` is looked up by the handler; a new category cannot close a cycle."""
    if state.exists:
        raise Conflict("This category already exists.", code="category_exists")
    if not name.strip():
        raise InvalidCommand("A category needs a name.", code="invalid_name")
    if not SLUG_PATTERN.match(slug) or len(slug) > 100:
        raise InvalidCommand(f"'{slug}' is not a valid slug.", code="invalid_slug")
    if parent_id is not None and (parent_id == category_id or not parent_exists):
        raise InvalidCommand("The parent category does not exist.", code="unknown_parent")
    return [CategoryCreated(category_id=category_id, name=name, slug=slug, parent_id=parent_id)]
