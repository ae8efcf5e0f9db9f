"""The wishlist's command handlers (as under ``commands/``): each decides on one stream with
its command through ``execute`` (load, decide, append); ``HANDLERS`` goes to the dispatcher."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from tests.template.wishlist import domain as d


def create(w: WriteSide, c: d.CreateWishlist, ctx: CommandContext) -> Outcome:
    """A new wishlist under a new id, in the answer (a repeat under its idempotency key
    answers the first one's)."""
    wishlist_id = uuid4()

    def decide(state: d.WishlistState, _version: int):
        return d.create_wishlist(state, c), {"id": str(wishlist_id)}

    return execute(w.store, d.WISHLIST, wishlist_id, decide, ctx)


def add(w: WriteSide, c: d.AddToWishlist, ctx: CommandContext) -> Outcome:
    return execute(w.store, d.WISHLIST, c.wishlist_id, lambda s, _: d.add_item(s, c), ctx)


def remove(w: WriteSide, c: d.RemoveFromWishlist, ctx: CommandContext) -> Outcome:
    return execute(w.store, d.WISHLIST, c.wishlist_id, lambda s, _: d.remove_item(s, c), ctx)


HANDLERS = {d.CreateWishlist: create, d.AddToWishlist: add, d.RemoveFromWishlist: remove}
