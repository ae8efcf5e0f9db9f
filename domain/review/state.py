"""The Review's decision state and ``evolve``, the claim stream's, and the claim's stream id.

The state holds who wrote it about what, what it says (an edit records the whole review as it
then stands), its moderation status, and each voter's vote (a changed vote is decided
against it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID, uuid5

from domain.aggregate import AggregateType
from domain.events import DomainEvent
from domain.ids import NAMESPACE
from domain.review import events as ev
from domain.review.moderation import APPROVED, FLAGGED, PENDING, REJECTED


def review_claim_stream(product_id: UUID, customer_id: UUID) -> UUID:
    """The stream that holds the one review of ``customer_id`` about ``product_id``."""
    return uuid5(NAMESPACE, f"review:{product_id}:{customer_id}")


@dataclass(frozen=True, slots=True)
class ReviewState:
    exists: bool = False
    product_id: UUID | None = None
    customer_id: UUID | None = None
    status: str = PENDING
    rating: int = 0
    title: str | None = None
    text: str = ""
    verified: bool = False
    #: voter → helpful?
    votes: tuple[tuple[UUID, bool], ...] = ()

    def vote_of(self, customer_id: UUID) -> bool | None:
        return next((h for c, h in self.votes if c == customer_id), None)

    @property
    def helpful(self) -> int:
        return sum(1 for _c, h in self.votes if h)

    @property
    def unhelpful(self) -> int:
        return sum(1 for _c, h in self.votes if not h)


_STATUS_OF = {ev.ReviewApproved: APPROVED, ev.ReviewRejected: REJECTED, ev.ReviewFlagged: FLAGGED}


def evolve(state: ReviewState, event: DomainEvent) -> ReviewState:
    match event:
        case ev.ReviewSubmitted():
            return ReviewState(
                exists=True,
                product_id=event.product_id,
                customer_id=event.customer_id,
                rating=event.rating,
                title=event.title,
                text=event.text,
                verified=event.verified,
            )
        case ev.ReviewEdited(rating=rating, title=title, text=text):
            return replace(state, rating=rating, title=title, text=text, status=PENDING)
        case ev.ReviewApproved() | ev.ReviewRejected() | ev.ReviewFlagged():
            return replace(state, status=_STATUS_OF[type(event)])
        case ev.VoteCast(customer_id=voter, helpful=helpful):
            return replace(state, votes=(*state.votes, (voter, helpful)))
        case ev.VoteChanged(customer_id=voter, helpful=helpful):
            votes = tuple((c, helpful if c == voter else h) for c, h in state.votes)
            return replace(state, votes=votes)
    return state


REVIEW = AggregateType("review", ReviewState, evolve, ev.REVIEW_EVENTS)


@dataclass(frozen=True, slots=True)
class ReviewClaim:
    review_id: UUID | None = None


def _claim(state: ReviewClaim, event: DomainEvent) -> ReviewClaim:
    if isinstance(event, ev.ReviewClaimed):
        return ReviewClaim(review_id=event.review_id)
    return state


REVIEW_CLAIM = AggregateType("review_claim", ReviewClaim, _claim, ev.REVIEW_CLAIM_EVENTS)
