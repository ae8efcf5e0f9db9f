"""The decisions on a review: each takes the state and the command (and what the handler read
from the write side) and returns the events ([] when nothing changes) or raises a named error
with its code. An unknown review is ``404 review_not_found``."""

from __future__ import annotations

from uuid import UUID

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.review import commands as cmd
from domain.review import events as ev
from domain.review.moderation import APPROVED, OUTCOME, PENDING, may_edit, may_move
from domain.review.state import ReviewState

_DECIDED = {"approve": ev.ReviewApproved, "reject": ev.ReviewRejected, "flag": ev.ReviewFlagged}


def valid_rating(rating: int) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidCommand(
            "A rating is a whole number from 1 to 5.",
            code="invalid_rating",
            details={"field": "rating", "min": 1, "max": 5},
        )
    return rating


def _text(value: str, field: str) -> str:
    if not value.strip():
        raise InvalidCommand(f"The {field} is blank.", code="blank_text", details={"field": field})
    return value


def existing(state: ReviewState, review_id: UUID) -> ReviewState:
    if not state.exists:
        raise NotFound(f"Review {review_id} does not exist.", code="review_not_found")
    return state


def submit(
    state: ReviewState, c: cmd.SubmitReview, *, delivered_order: UUID | None, by: str
) -> list[DomainEvent]:
    """``delivered_order``: an order of the customer with a delivered line of the product (the
    handler's finding on the write side), None when there is none: the review is unverified.
    That the customer has no other review of the product is the claim's (the handler's)."""
    rating, text = valid_rating(c.rating), _text(c.text, "text")
    title = _text(c.title, "title") if c.title is not None else None
    if state.exists:
        raise Conflict("This review exists already.", code="review_exists")
    return [
        ev.ReviewSubmitted(
            product_id=c.product_id,
            customer_id=c.customer_id,
            rating=rating,
            title=title,
            text=text,
            verified=delivered_order is not None,
            order_id=delivered_order,
            submitted_by=by,
        )
    ]


def edit(state: ReviewState, c: cmd.EditReview, *, by: str) -> list[DomainEvent]:
    """Fields not sent stay as they are; an edit that changes nothing writes nothing."""
    rating = valid_rating(c.rating) if c.rating is not None else None
    text = _text(c.text, "text") if c.text is not None else None
    title = _text(c.title, "title") if c.title is not None else None
    existing(state, c.review_id)
    new_rating = state.rating if rating is None else rating
    new_title = state.title if title is None else title
    new_text = state.text if text is None else text
    if (new_rating, new_title, new_text) == (state.rating, state.title, state.text):
        return []
    if not may_edit(state.status):
        raise IllegalTransition("review", state.status, PENDING)
    return [ev.ReviewEdited(rating=new_rating, title=new_title, text=new_text, edited_by=by)]


def moderate(state: ReviewState, c: cmd.ModerateReview, *, by: str) -> list[DomainEvent]:
    """The same decision twice changes nothing; a move the table does not allow is a
    ``409 illegal_transition``."""
    target = OUTCOME[c.decision]
    if existing(state, c.review_id).status == target:
        return []
    if not may_move(state.status, target):
        raise IllegalTransition("review", state.status, target)
    return [_DECIDED[c.decision](reason=c.reason, moderated_by=by)]


def respond(state: ReviewState, c: cmd.RespondToReview, *, by: str) -> list[DomainEvent]:
    existing(state, c.review_id)
    return [ev.SellerResponded(text=_text(c.text, "text"), responded_by=by)]


def vote(state: ReviewState, c: cmd.CastVote, voter: UUID) -> list[DomainEvent]:
    """One vote per customer: a first vote is cast, a different one changes it (the counts
    move across), the same one again changes nothing. Only approved reviews take votes, and
    never from their author."""
    existing(state, c.review_id)
    if state.status != APPROVED:
        raise Conflict(
            f"Review {c.review_id} is {state.status}: only approved reviews take votes.",
            code="review_not_approved",
        )
    if voter == state.customer_id:
        raise InvalidCommand("A customer cannot vote on their own review.", code="own_review")
    before = state.vote_of(voter)
    if before is None:
        return [ev.VoteCast(customer_id=voter, helpful=c.helpful)]
    if before == c.helpful:
        return []
    return [ev.VoteChanged(customer_id=voter, helpful=c.helpful)]
