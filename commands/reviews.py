"""Handlers for the Review stream (``HANDLERS``).

Submitting claims the (product, customer) pair (its claim stream) in the same transaction as
``ReviewSubmitted``: of concurrent submissions by one customer about one product, every append
but the first fails on the claim's version, is decided again and finds the pair taken
(``409 review_exists``). The product must exist on the write side (``404
product_not_found``); whether the review is verified is decided there too
(``commands/purchase_facts.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.purchase_facts import delivered_order
from commands.write_side import WriteSide
from domain.errors import Conflict, InvalidCommand, NotFound, VersionMismatch
from domain.events import DomainEvent
from domain.review import commands as cmd
from domain.review import decide
from domain.review.events import ReviewClaimed
from domain.review.state import REVIEW, REVIEW_CLAIM, ReviewState, review_claim_stream
from eventstore.store import StreamAppend


def require_product(w: WriteSide, product_id: UUID) -> None:
    if not w.products.current([product_id])[product_id].exists:
        raise NotFound(f"Product {product_id} does not exist.", code="product_not_found")


def submit(w: WriteSide, c: cmd.SubmitReview, ctx: CommandContext) -> Outcome:
    """A new review under a new id (``extra["id"]``)."""
    require_product(w, c.product_id)
    review_id = uuid4()
    claim_stream = review_claim_stream(c.product_id, c.customer_id)
    order = delivered_order(w, c.customer_id, c.product_id)

    def decision(state: ReviewState, _v: int):
        events = decide.submit(state, c, delivered_order=order, by=ctx.actor)
        return events, {"id": str(review_id), "verified": order is not None}

    def claim(_state: ReviewState, _events: Sequence[DomainEvent]) -> list[StreamAppend]:
        held = load(w.store, REVIEW_CLAIM, claim_stream)
        if held.state.review_id is not None:
            raise Conflict(
                "This customer has reviewed this product already.",
                code="review_exists",
                details={"review_id": str(held.state.review_id)},
            )
        event = ReviewClaimed(
            review_id=review_id, product_id=c.product_id, customer_id=c.customer_id
        )
        return [StreamAppend(claim_stream, held.version, [event])]

    return execute(w.store, REVIEW, review_id, decision, ctx, also=claim)


def _on_review(
    w: WriteSide,
    ctx: CommandContext,
    review_id: UUID,
    decision: Callable[[ReviewState], list[DomainEvent]],
) -> Outcome:
    """A decision on an existing review; an unknown one is not found even under If-Match."""
    try:
        return execute(w.store, REVIEW, review_id, lambda s, _v: decision(s), ctx)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound(f"Review {review_id} does not exist.", code="review_not_found") from None
        raise


def edit(w: WriteSide, c: cmd.EditReview, ctx: CommandContext) -> Outcome:
    return _on_review(w, ctx, c.review_id, lambda s: decide.edit(s, c, by=ctx.actor))


def moderate(w: WriteSide, c: cmd.ModerateReview, ctx: CommandContext) -> Outcome:
    return _on_review(w, ctx, c.review_id, lambda s: decide.moderate(s, c, by=ctx.actor))


def respond(w: WriteSide, c: cmd.RespondToReview, ctx: CommandContext) -> Outcome:
    return _on_review(w, ctx, c.review_id, lambda s: decide.respond(s, c, by=ctx.actor))


def vote(w: WriteSide, c: cmd.CastVote, ctx: CommandContext) -> Outcome:
    if c.customer_id is None:
        raise InvalidCommand(
            "Whose vote this is must be given (customer_id).",
            code="customer_required",
            details={"field": "customer_id"},
        )
    voter = c.customer_id
    return _on_review(w, ctx, c.review_id, lambda s: decide.vote(s, c, voter))


HANDLERS = {
    cmd.SubmitReview: submit,
    cmd.EditReview: edit,
    cmd.ModerateReview: moderate,
    cmd.RespondToReview: respond,
    cmd.CastVote: vote,
}
