"""The commands on a review, as messages. A rating is a whole number from 1 to 5; text is
bounded here and checked once more by the decisions (``decide``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from domain.command import Command, whole
from domain.review.events import Decision

Rating = whole(ge=1, le=5)
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class SubmitReview(Command):
    """A customer's review of a product; one per customer and product."""

    product_id: UUID
    customer_id: UUID
    rating: Rating
    title: Title | None = None
    text: Text


class EditReview(Command):
    """The author changes what they wrote; the review goes back to ``pending``."""

    review_id: UUID
    rating: Rating | None = None
    title: Title | None = None
    text: Text | None = None


class ModerateReview(Command):
    review_id: UUID
    decision: Decision
    reason: Reason | None = None


class RespondToReview(Command):
    """The seller's public answer to a review."""

    review_id: UUID
    text: Text


class CastVote(Command):
    """Whether a customer found the review helpful; ``customer_id`` is the caller's when a
    customer votes, and must be given when staff record a vote."""

    review_id: UUID
    helpful: bool
    customer_id: UUID | None = None
