"""Reviews over HTTP: submit (a customer, for themself), edit (its author), moderate and
respond (merchant, admin), vote (a customer, once per review; a changed vote moves the
count), read one review, and list a product's approved reviews. ``RULES`` are the routes' rows
of the authorization table; ``/reviews/{id}`` is a resource its author owns (``OWNED``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, PrincipalDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, Page, body_of
from commands import products
from commands.context import Outcome
from domain.errors import NotFound
from domain.review import commands as cmd
from projections import reviews as view

router = APIRouter(tags=["reviews"], responses=ERRORS)
RULES = (
    ("POST", "/products/{}/reviews", "admin customer:self"),
    ("GET", "/products/{}/reviews", "admin merchant analyst customer"),
    ("GET", "/reviews/{}", "admin merchant analyst customer:own"),
    ("PATCH", "/reviews/{}", "admin customer:own"),
    ("POST", "/reviews/{}/moderation", "admin merchant"),
    ("POST", "/reviews/{}/response", "admin merchant"),
    ("POST", "/reviews/{}/votes", "admin customer:self"),
)
OWNED = {"reviews": "review_not_found"}

SubmitBody = body_of(cmd.SubmitReview, path=("product_id",))
EditBody = body_of(cmd.EditReview, path=("review_id",))
ModerationBody = body_of(cmd.ModerateReview, path=("review_id",))
ResponseBody = body_of(cmd.RespondToReview, path=("review_id",))
VoteBody = body_of(cmd.CastVote, path=("review_id",))
Sort = Literal["newest", "helpful", "rating_desc", "rating_asc"]


class ReviewAck(Ack):
    id: UUID


class SubmittedReview(ReviewAck):
    status: Literal["pending"] = "pending"
    verified: bool


class SellerResponse(BaseModel):
    text: str
    responded_by: str
    responded_at: datetime


class Review(BaseModel):
    id: UUID
    product_id: UUID
    customer_id: UUID
    rating: int
    title: str | None
    text: str
    status: Literal["pending", "approved", "rejected", "flagged"]
    verified: bool
    helpful_count: int
    unhelpful_count: int
    response: SellerResponse | None
    created_at: datetime
    updated_at: datetime
    version: int


def _review(row: dict) -> Review:
    response = None
    if row["response"] is not None:
        response = SellerResponse(
            text=row["response"], responded_by=row["responded_by"], responded_at=row["responded_at"]
        )
    fields = {k: row[k] for k in Review.model_fields if k in row and k != "response"}
    return Review(**fields, response=response)


def _ack(review_id: UUID | str, done: Outcome) -> ReviewAck:
    return ReviewAck(id=review_id, version=done.version, position=done.position)


@router.post("/products/{product_id}/reviews", status_code=201, response_model=SubmittedReview)
def submit_review(product_id: UUID, body: SubmitBody, dispatch: DispatchDep, ctx: ContextDep):
    """A new review, ``pending``; ``verified`` when the customer has a delivered line of the
    product. A second review by the same customer is ``409 review_exists``."""
    done = dispatch(cmd.SubmitReview(product_id=product_id, **body.fields()), ctx)
    return SubmittedReview(
        id=done.extra["id"],
        verified=done.extra["verified"],
        version=done.version,
        position=done.position,
    )


@router.patch("/reviews/{review_id}", response_model=ReviewAck)
def edit_review(review_id: UUID, body: EditBody, dispatch: DispatchDep, ctx: ContextDep):
    """The author changes rating, title or text; the review goes back to ``pending``."""
    return _ack(review_id, dispatch(cmd.EditReview(review_id=review_id, **body.given()), ctx))


@router.post("/reviews/{review_id}/moderation", response_model=ReviewAck)
def moderate_review(review_id: UUID, body: ModerationBody, dispatch: DispatchDep, ctx: ContextDep):
    """``approve``, ``reject`` or ``flag``; a move the moderation table does not allow is
    ``409 illegal_transition``."""
    command = cmd.ModerateReview(review_id=review_id, **body.fields())
    return _ack(review_id, dispatch(command, ctx))


@router.post("/reviews/{review_id}/response", response_model=ReviewAck)
def respond_to_review(review_id: UUID, body: ResponseBody, dispatch: DispatchDep, ctx: ContextDep):
    command = cmd.RespondToReview(review_id=review_id, **body.fields())
    return _ack(review_id, dispatch(command, ctx))


@router.post("/reviews/{review_id}/votes", response_model=ReviewAck)
def vote_on_review(
    review_id: UUID,
    body: VoteBody,
    dispatch: DispatchDep,
    ctx: ContextDep,
    principal: PrincipalDep,
):
    """One vote per customer and review (a customer votes as themself; staff name the
    customer); voting again the other way moves the count across."""
    fields = body.fields()
    if principal.role == "customer":
        fields["customer_id"] = UUID(principal.id)
    return _ack(review_id, dispatch(cmd.CastVote(review_id=review_id, **fields), ctx))


@router.get("/reviews/{review_id}", response_model=Review, dependencies=[read_model(view.NAME)])
def get_review(review_id: UUID, container: ContainerDep, response: Response):
    """The review as its author and staff see it, whatever its status; ``ETag`` = version."""
    row = view.get_review(container.pool, review_id)
    if row is None:
        raise ApiError(404, "review_not_found", f"Review {review_id} does not exist.")
    response.headers["ETag"] = f'"{row["version"]}"'
    return _review(row)


@router.get(
    "/products/{product_id}/reviews",
    response_model=Page[Review],
    dependencies=[read_model(view.NAME)],
)
def list_product_reviews(
    product_id: UUID,
    container: ContainerDep,
    sort: Sort = "newest",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    """The product's approved reviews only, in ``sort`` order (ties: newest first)."""
    after = decode_cursor(cursor)
    if after is not None:
        try:
            after = (int(after[0]), datetime.fromisoformat(after[1]), UUID(after[2]))
        except (ValueError, TypeError, IndexError):
            raise ApiError(
                400, "malformed_cursor", "The cursor is not one this API issued."
            ) from None
    if not products.get(container.store, product_id).exists:
        raise NotFound(f"Product {product_id} does not exist.", code="product_not_found")
    rows = view.list_reviews(container.pool, product_id, sort=sort, limit=limit + 1, after=after)
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor(
            [int(last["sort_key"]), last["created_at"].isoformat(), str(last["id"])]
        )
    return Page(items=[_review(r) for r in rows], next_cursor=next_cursor)
