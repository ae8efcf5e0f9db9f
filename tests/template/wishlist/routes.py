"""The wishlist over HTTP (as under ``api/routes/``): each command route builds one command and
dispatches it; the read route answers from the view. ``RULES`` are its rows of the authorization
table: a customer creates wishlists for themself and reaches only their own."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.schemas import ERRORS, Ack, body_of
from commands.context import Outcome
from tests.template.wishlist import view
from tests.template.wishlist.domain import AddToWishlist, CreateWishlist, RemoveFromWishlist

router = APIRouter(prefix="/wishlists", tags=["wishlists"], responses=ERRORS)
RULES = (
    ("POST", "/wishlists", "admin customer:self"),
    ("POST", "/wishlists/{}/items", "admin customer:own"),
    ("DELETE", "/wishlists/{}/items/{}", "admin customer:own"),
    ("GET", "/wishlists/{}", "admin customer:own"),
)
AddBody = body_of(AddToWishlist, path=("wishlist_id",))
SkuPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


class WishlistAck(Ack):
    id: UUID


class Wishlist(BaseModel):
    id: UUID
    customer_id: UUID
    version: int
    skus: list[str]


def _ack(wishlist_id: UUID | str, done: Outcome) -> WishlistAck:
    return WishlistAck(id=wishlist_id, version=done.version, position=done.position)


@router.post("", status_code=201, response_model=WishlistAck)
def create_wishlist(body: CreateWishlist, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(body, ctx)
    return _ack(done.extra["id"], done)


@router.post("/{wishlist_id}/items", response_model=WishlistAck)
def add_to_wishlist(wishlist_id: UUID, body: AddBody, dispatch: DispatchDep, ctx: ContextDep):
    return _ack(wishlist_id, dispatch(AddToWishlist(wishlist_id=wishlist_id, **body.fields()), ctx))


@router.delete("/{wishlist_id}/items/{sku}", response_model=WishlistAck)
def remove_from_wishlist(wishlist_id: UUID, sku: SkuPath, dispatch: DispatchDep, ctx: ContextDep):
    return _ack(wishlist_id, dispatch(RemoveFromWishlist(wishlist_id=wishlist_id, sku=sku), ctx))


@router.get("/{wishlist_id}", response_model=Wishlist, dependencies=[read_model(view.NAME)])
def get_wishlist(wishlist_id: UUID, container: ContainerDep):
    found = view.get_wishlist(container.pool, wishlist_id)
    if found is None:
        raise ApiError(404, "wishlist_not_found", f"Wishlist {wishlist_id} does not exist.")
    return Wishlist(**found)
