"""Categories over HTTP: create one, read the category tree, and assign a product to a
category or take it out of one. The commands are ``domain/category/commands.py``'s and
``domain/product/commands.py``'s; each route builds one and dispatches it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.routes.products import CommandAck, IdempotencyKey, ack
from api.schemas import ERRORS, Page
from domain.category.commands import CreateCategory
from domain.product.commands import AssignCategory, UnassignCategory
from projections.category_tree import category_tree

router = APIRouter(tags=["catalog"], responses=ERRORS)


# ---- response models ---------------------------------------------------------------------


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
    dispatch: DispatchDep,
    ctx: ContextDep,
    idempotency_key: IdempotencyKey = None,
):
    result = dispatch(body, ctx)
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
def assign_category(product_id: UUID, category_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    return ack(dispatch(AssignCategory(product_id=product_id, category_id=category_id), ctx))


@router.delete("/products/{product_id}/categories/{category_id}", response_model=CommandAck)
def unassign_category(product_id: UUID, category_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    return ack(dispatch(UnassignCategory(product_id=product_id, category_id=category_id), ctx))
