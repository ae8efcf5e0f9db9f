"""The commands of the Category aggregate, as messages. The new category's id is not in
``CreateCategory``: the handler makes it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command


class CreateCategory(Command):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    slug: Annotated[str, Field(min_length=1, max_length=100)]
    parent_id: UUID | None = None
