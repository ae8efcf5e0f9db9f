"""Product relationships, given / when / then: both products must exist, never the product
itself, and the same relationship twice changes nothing."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidCommand, NotFound
from domain.relationship import decide
from domain.relationship import events as ev
from domain.relationship.commands import RelateProducts
from domain.relationship.state import RELATIONSHIPS

A, B = uuid4(), uuid4()
RELATE = RelateProducts(product_id=A, type="accessory", related_product_id=B)


def relate(state, c=RELATE, *, product=True, related=True):
    return decide.relate(state, c, product_exists=product, related_exists=related, by="merchant")


def test_a_relationship_is_recorded_once():
    [event] = relate(RELATIONSHIPS.fold([]))
    assert event == ev.ProductsRelated(product_id=A, related_product_id=B,
                                       relationship="accessory", related_by="merchant")  # fmt: skip
    assert relate(RELATIONSHIPS.fold([event])) == []
    other_type = RELATE.model_copy(update={"type": "similar"})
    assert len(relate(RELATIONSHIPS.fold([event]), other_type)) == 1


def test_unknown_products_and_the_product_itself_are_refused():
    with pytest.raises(NotFound) as unknown:
        relate(RELATIONSHIPS.fold([]), product=False)
    assert unknown.value.code == "product_not_found"
    with pytest.raises(InvalidCommand) as related:
        relate(RELATIONSHIPS.fold([]), related=False)
    assert related.value.code == "related_product_not_found"
    itself = RELATE.model_copy(update={"related_product_id": A})
    with pytest.raises(InvalidCommand) as same:
        relate(RELATIONSHIPS.fold([]), itself)
    assert same.value.code == "self_relationship"
