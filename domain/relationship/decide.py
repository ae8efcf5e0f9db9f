"""The decision on a product's relationships: both products must exist (the handler's finding
on the write side), a product never relates to itself, and declaring a relationship twice
changes nothing."""

from __future__ import annotations

from domain.errors import InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.relationship import commands as cmd
from domain.relationship import events as ev
from domain.relationship.state import Relationships


def relate(
    state: Relationships,
    c: cmd.RelateProducts,
    *,
    product_exists: bool,
    related_exists: bool,
    by: str,
) -> list[DomainEvent]:
    if not product_exists:
        raise NotFound(f"Product {c.product_id} does not exist.", code="product_not_found")
    if c.related_product_id == c.product_id:
        raise InvalidCommand(
            "A product cannot be related to itself.",
            code="self_relationship",
            details={"field": "product_id"},
        )
    if not related_exists:
        raise InvalidCommand(
            f"Product {c.related_product_id} does not exist.",
            code="related_product_not_found",
            details={"field": "product_id"},
        )
    if (c.related_product_id, c.type) in state.pairs:
        return []
    return [
        ev.ProductsRelated(
            product_id=c.product_id,
            related_product_id=c.related_product_id,
            relationship=c.type,
            related_by=by,
        )
    ]
