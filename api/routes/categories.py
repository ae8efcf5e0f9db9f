"""Categories over HTTP: create one, read the category tree, and assign a product to a
category or take it out of one."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ContainerDep, ContextDep, read_model
from api.routes.products import CommandAck, IdempotencyKey, Name, ack
from api.schemas import ERRORS, Page, Request
from commands import categories, products
from projections.category_tree import category_tree

router = APIRouter(tags=["catalog"], responses=ERRORS)


# ---- request and response models ---------------------------------------------------------


class CreateCategory(Request):
    name: Name
    slug: Annotated[str, Field(min_length=1, max_length=100)]
    parent_id: UUID | None = None


class CategoryAck(BaseModel):
    id: str
    slug: str
    version: int
    position: int


class CategoryNode(BaseModel):
    id: str
    name: str
    slug: str
    parent_id: str | None
    children: list[CategoryNode]


# ---- categories --------------------------------------------------------------------------


@router.post("/categories", status_code=201, response_model=CategoryAck)
def create_category(
    body: CreateCategory,
    container: ContainerDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    result = categories.create(
        container.store,
        ctx,
        category_id=uuid4(),
        name=body.name,
        slug=body.slug,
        parent_id=body.parent_id,
    )
    return CategoryAck(
        id=str(result.stream_id), slug=body.slug, version=result.version, position=result.position
    )


def _node(row: dict[str, Any]) -> CategoryNode:
    return CategoryNode(
        id=str(row["id"]),
        name=row["name"],
        slug=row["slug"],
        parent_id=None if row["parent_id"] is None else str(row["parent_id"]),
        children=[_node(c) for c in row["children"]],
    )


@router.get(
    "/categories", response_model=Page[CategoryNode], dependencies=[read_model("category_tree")]
)
def get_categories(container: ContainerDep):
    return Page(items=[_node(r) for r in category_tree(container.pool)], next_cursor=None)


# ---- categories of a product -------------------------------------------------------------


@router.put("/products/{product_id}/categories/{category_id}", response_model=CommandAck)
def assign_category(product_id: UUID, category_id: UUID, container: ContainerDep, ctx: ContextDep):
    return ack(products.assign_category(container.store, ctx, product_id, category_id))


@router.delete("/products/{product_id}/categories/{category_id}", response_model=CommandAck)
def unassign_category(
    product_id: UUID, category_id: UUID, container: ContainerDep, ctx: ContextDep
):
    return ack(products.unassign_category(container.store, ctx, product_id, category_id))
