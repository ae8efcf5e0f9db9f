"""Recommendations over HTTP: a merchant relates two products; a product's recommendations
(``related``, ``bought_together``, ``trending``) and a customer's, read from the
recommendations view (``projections/recommendations.py``). ``RULES`` are the routes' rows of
the authorization table; a customer reads their own recommendations only."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.schemas import ERRORS, Ack, Request
from commands import products
from domain.errors import NotFound
from domain.relationship.commands import RelateProducts
from domain.relationship.events import RelationshipType
from projections import recommendations as view

router = APIRouter(tags=["recommendations"], responses=ERRORS)
RULES = (
    ("POST", "/products/{}/relationships", "admin merchant"),
    ("GET", "/products/{}/recommendations", "admin merchant analyst customer"),
    ("GET", "/customers/{}/recommendations", "admin merchant analyst customer:own"),
)
Limit = Annotated[int, Query(ge=1, le=100)]
#: Recommendations read these views, each waited on with ``?min_position=``.
VIEWS = [read_model(view.NAME), read_model("product_catalog"), read_model("inventory_levels")]


class RelationshipBody(Request):
    """``product_id`` is the product the one in the path points to."""

    type: RelationshipType
    product_id: UUID


class RelationshipAck(Ack):
    id: UUID


class Recommendation(BaseModel):
    product_id: UUID
    sku: str
    name: str
    #: related: how many relationship types; bought_together: orders holding both;
    #: trending: units ordered in the last 7 days; a customer's: the sum of what led to it.
    score: int
    reason: Literal["related", "bought_together", "trending", "purchases"]


class Recommendations(BaseModel):
    items: list[Recommendation]


@router.post(
    "/products/{product_id}/relationships", status_code=201, response_model=RelationshipAck
)
def relate_products(
    product_id: UUID, body: RelationshipBody, dispatch: DispatchDep, ctx: ContextDep
):
    """Both products must exist (the one in the body: ``422 related_product_not_found``); a
    product never relates to itself; declaring a relationship again changes nothing."""
    command = RelateProducts(
        product_id=product_id, type=body.type, related_product_id=body.product_id
    )
    done = dispatch(command, ctx)
    return RelationshipAck(id=product_id, version=done.version, position=done.position)


def _items(rows: list[dict], reason: str | None = None) -> Recommendations:
    return Recommendations(
        items=[Recommendation(**{**r, "reason": reason or r["reason"]}) for r in rows]
    )


@router.get(
    "/products/{product_id}/recommendations", response_model=Recommendations, dependencies=VIEWS
)
def product_recommendations(
    product_id: UUID,
    container: ContainerDep,
    kind: Literal["related", "bought_together", "trending"] = "related",
    limit: Limit = 10,
):
    """Never the product itself, one not active, or one with no unit available anywhere."""
    if not products.get(container.store, product_id).exists:
        raise NotFound(f"Product {product_id} does not exist.", code="product_not_found")
    if kind == "related":
        rows = view.related(container.pool, product_id, limit)
    elif kind == "bought_together":
        rows = view.bought_together(container.pool, product_id, limit)
    else:
        rows = view.trending(container.pool, limit, exclude=[product_id])
    return _items(rows, kind)


@router.get(
    "/customers/{customer_id}/recommendations",
    response_model=Recommendations,
    dependencies=VIEWS,
)
def customer_recommendations(customer_id: UUID, container: ContainerDep, limit: Limit = 10):
    """From what the customer bought (bought together with it, related to it), then
    trending; never what they bought, never an inactive or out-of-stock product."""
    return _items(view.for_customer(container.pool, customer_id, limit))
