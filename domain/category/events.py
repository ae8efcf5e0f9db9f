"""Events of the Category aggregate and of its slug registry.

A category lives in its own stream (its id); its slug is claimed by appending
``CategorySlugClaimed`` at version 0 to ``domain.ids.category_slug_stream(slug)`` in the same
transaction, so two categories can never share a slug."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from domain.events import DomainEvent


class CategoryCreated(DomainEvent):
    stream_type: ClassVar[str] = "category"

    category_id: UUID
    name: str
    slug: str
    parent_id: UUID | None = None


class CategorySlugClaimed(DomainEvent):
    stream_type: ClassVar[str] = "category_slug"

    slug: str
    category_id: UUID


CATEGORY_EVENTS = (CategoryCreated, CategorySlugClaimed)
