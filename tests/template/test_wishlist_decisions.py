"""The wishlist's decisions, no database: given its events, when a command is decided, then
these events or this error. Copy this file with the template."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.errors import Conflict, NotFound
from tests.template.wishlist.domain import (
    WISHLIST,
    AddToWishlist,
    CreateWishlist,
    RemoveFromWishlist,
    WishlistCreated,
    WishlistItemAdded,
    WishlistItemRemoved,
    add_item,
    create_wishlist,
    remove_item,
)

ADA = UUID("7d0f3f5e-0c1a-4a8e-9a43-1b2b3c4d5e6f")
LIST = UUID("0b6c1a8e-3d5f-4c4e-9f0a-2a1b3c4d5e60")
CREATED = WishlistCreated(customer_id=ADA)


def given(*events):
    return WISHLIST.fold(events)


def add(sku: str) -> AddToWishlist:
    return AddToWishlist(wishlist_id=LIST, sku=sku)


def remove(sku: str) -> RemoveFromWishlist:
    return RemoveFromWishlist(wishlist_id=LIST, sku=sku)


class TestCreate:
    def test_a_new_wishlist_is_created_for_its_customer(self):
        assert create_wishlist(given(), CreateWishlist(customer_id=ADA)) == [CREATED]

    def test_an_existing_wishlist_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            create_wishlist(given(CREATED), CreateWishlist(customer_id=ADA))
        assert e.value.code == "wishlist_exists"


class TestAdd:
    def test_a_sku_is_added(self):
        assert add_item(given(CREATED), add("TEE-RED-M")) == [WishlistItemAdded(sku="TEE-RED-M")]

    def test_a_sku_already_there_changes_nothing(self):
        state = given(CREATED, WishlistItemAdded(sku="TEE-RED-M"))
        assert add_item(state, add("TEE-RED-M")) == []

    def test_a_sku_removed_earlier_is_added_again(self):
        state = given(
            CREATED, WishlistItemAdded(sku="TEE-RED-M"), WishlistItemRemoved(sku="TEE-RED-M")
        )
        assert add_item(state, add("TEE-RED-M")) == [WishlistItemAdded(sku="TEE-RED-M")]

    def test_an_unknown_wishlist_is_not_found(self):
        with pytest.raises(NotFound) as e:
            add_item(given(), add("TEE-RED-M"))
        assert e.value.code == "wishlist_not_found"


class TestRemove:
    def test_a_sku_on_the_wishlist_is_removed(self):
        state = given(CREATED, WishlistItemAdded(sku="A"), WishlistItemAdded(sku="B"))
        assert remove_item(state, remove("A")) == [WishlistItemRemoved(sku="A")]

    def test_a_sku_not_on_the_wishlist_changes_nothing(self):
        assert remove_item(given(CREATED, WishlistItemAdded(sku="A")), remove("B")) == []

    def test_an_unknown_wishlist_is_not_found(self):
        with pytest.raises(NotFound):
            remove_item(given(), remove("A"))


class TestState:
    def test_the_skus_keep_the_order_they_were_added_in(self):
        state = given(CREATED, *(WishlistItemAdded(sku=s) for s in ("B", "A", "C")))
        state = WISHLIST.evolve(state, WishlistItemRemoved(sku="A"))
        assert (state.exists, state.customer_id, state.skus) == (True, ADA, ("B", "C"))


class TestCommands:
    @pytest.mark.parametrize("sku", ["", "has space", "x" * 65, "ünï"])
    def test_a_malformed_sku_is_refused_before_any_decision(self, sku: str):
        with pytest.raises(ValidationError):
            add(sku)

    def test_unknown_fields_are_refused_and_commands_are_frozen(self):
        with pytest.raises(ValidationError):
            CreateWishlist(customer_id=ADA, note="x")  # type: ignore[call-arg]
        with pytest.raises(ValidationError):
            add("A").sku = "B"  # type: ignore[misc]
