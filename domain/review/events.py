"""Events of the Review stream (the stream id is the review id) and of its claim.

A review is unique per (product, customer) through its claim stream
(``domain.review.state.review_claim_stream``): ``ReviewClaimed`` at the version the submission
read, in the same transaction as ``ReviewSubmitted``. Every event carries who decided it; the
business time is the event's ``occurred_at`` (its metadata), stamped when it was decided."""

from __future__ import annotations

from typing import ClassVar, Literal
from uuid import UUID

from domain.events import DomainEvent

Decision = Literal["approve", "reject", "flag"]


class ReviewEvent(DomainEvent):
    stream_type: ClassVar[str] = "review"


class ReviewSubmitted(ReviewEvent):
    """A new review, ``pending``; ``verified`` when the customer had a delivered line of the
    product (``order_id`` names that order)."""

    product_id: UUID
    customer_id: UUID
    rating: int
    title: str | None = None
    text: str
    verified: bool
    order_id: UUID | None = None
    submitted_by: str


class ReviewEdited(ReviewEvent):
    """The author's new rating, title and text (all three, as they now stand); back to
    ``pending``."""

    rating: int
    title: str | None = None
    text: str
    edited_by: str


class ReviewApproved(ReviewEvent):
    reason: str | None = None
    moderated_by: str


class ReviewRejected(ReviewEvent):
    reason: str | None = None
    moderated_by: str


class ReviewFlagged(ReviewEvent):
    reason: str | None = None
    moderated_by: str


class SellerResponded(ReviewEvent):
    """The seller's response (a later one replaces it)."""

    text: str
    responded_by: str


class VoteCast(ReviewEvent):
    """A customer's first vote on the review."""

    customer_id: UUID
    helpful: bool


class VoteChanged(ReviewEvent):
    """A customer turned their vote round: one count down, the other up."""

    customer_id: UUID
    helpful: bool


REVIEW_EVENTS: tuple[type[DomainEvent], ...] = (
    ReviewSubmitted,
    ReviewEdited,
    ReviewApproved,
    ReviewRejected,
    ReviewFlagged,
    SellerResponded,
    VoteCast,
    VoteChanged,
)


class ReviewClaimEvent(DomainEvent):
    stream_type: ClassVar[str] = "review_claim"


class ReviewClaimed(ReviewClaimEvent):
    """The (product, customer) pair's one review."""

    review_id: UUID
    product_id: UUID
    customer_id: UUID


REVIEW_CLAIM_EVENTS: tuple[type[DomainEvent], ...] = (ReviewClaimed,)
