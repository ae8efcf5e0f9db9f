"""The command on a product's relationships."""

from __future__ import annotations

from uuid import UUID

from domain.command import Command
from domain.relationship.events import RelationshipType


class RelateProducts(Command):
    """Point ``product_id`` to ``related_product_id`` as ``type``."""

    product_id: UUID
    type: RelationshipType
    related_product_id: UUID
