"""The Wishlist aggregate, pure (as under ``domain/``): its events, its state and ``evolve``,
its commands, and the decisions, each taking the state and the command. None of these depends
on time; a decision that does takes ``now`` as its third argument (``domain/inventory/decide.py``),
and the handler passes ``ctx.now``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar
from uuid import UUID

from domain.aggregate import AggregateType
from domain.command import Command, Sku
from domain.errors import Conflict, NotFound
from domain.events import DomainEvent


class WishlistEvent(DomainEvent):
    stream_type: ClassVar[str] = "wishlist"


class WishlistCreated(WishlistEvent):
    customer_id: UUID


class WishlistItemAdded(WishlistEvent):
    sku: str


class WishlistItemRemoved(WishlistEvent):
    sku: str


WISHLIST_EVENTS = (WishlistCreated, WishlistItemAdded, WishlistItemRemoved)


@dataclass(frozen=True, slots=True)
class WishlistState:
    exists: bool = False
    customer_id: UUID | None = None
    skus: tuple[str, ...] = ()


def evolve(state: WishlistState, event: DomainEvent) -> WishlistState:
    match event:
        case WishlistCreated(customer_id=customer_id):
            return WishlistState(exists=True, customer_id=customer_id)
        case WishlistItemAdded(sku=sku):
            return replace(state, skus=(*state.skus, sku))
        case WishlistItemRemoved(sku=sku):
            return replace(state, skus=tuple(s for s in state.skus if s != sku))
    return state


WISHLIST = AggregateType("wishlist", WishlistState, evolve, WISHLIST_EVENTS)


class CreateWishlist(Command):
    customer_id: UUID


class AddToWishlist(Command):
    wishlist_id: UUID
    sku: Sku


class RemoveFromWishlist(Command):
    wishlist_id: UUID
    sku: Sku


def create_wishlist(state: WishlistState, c: CreateWishlist) -> list[DomainEvent]:
    if state.exists:
        raise Conflict("This wishlist exists already.", code="wishlist_exists")
    return [WishlistCreated(customer_id=c.customer_id)]


def _existing(state: WishlistState, wishlist_id: UUID) -> WishlistState:
    if not state.exists:
        raise NotFound(f"Wishlist {wishlist_id} does not exist.", code="wishlist_not_found")
    return state


def add_item(state: WishlistState, c: AddToWishlist) -> list[DomainEvent]:
    """Adding a SKU already there changes nothing."""
    return [] if c.sku in _existing(state, c.wishlist_id).skus else [WishlistItemAdded(sku=c.sku)]


def remove_item(state: WishlistState, c: RemoveFromWishlist) -> list[DomainEvent]:
    """Removing a SKU that is not there changes nothing."""
    return [WishlistItemRemoved(sku=c.sku)] if c.sku in _existing(state, c.wishlist_id).skus else []
