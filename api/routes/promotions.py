"""Promotions over HTTP: create (``201``, ``draft``), activate, pause, end, and read one or a
page of them with their redemptions and remaining uses. ``RULES``: admins and merchants manage
promotions; analysts and auditors read them; customers meet them through their orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ContainerDep, ContextDep, DispatchDep, read_model
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.schemas import ERRORS, Ack, Page
from commands.context import Outcome
from domain.promotion.commands import (
    ActivatePromotion,
    CreatePromotion,
    EndPromotion,
    PausePromotion,
)
from projections import promotions as view

router = APIRouter(prefix="/promotions", tags=["promotions"], responses=ERRORS)
RULES = (
    ("POST", "/promotions", "admin merchant"),
    ("POST", "/promotions/{}/activate", "admin merchant"),
    ("POST", "/promotions/{}/pause", "admin merchant"),
    ("POST", "/promotions/{}/end", "admin merchant"),
    ("GET", "/promotions", "admin merchant analyst auditor"),
    ("GET", "/promotions/{}", "admin merchant analyst auditor"),
)
Status = Literal["draft", "active", "paused", "ended"]


class PromotionAck(Ack):
    id: UUID
    status: str


class PromotionOut(BaseModel):
    id: UUID
    name: str
    code: str | None
    target: str
    kind: str
    #: A percentage as a decimal string, or money for a fixed amount.
    value: str | dict[str, str]
    conditions: dict[str, Any]
    valid_from: datetime | None
    valid_to: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None
    stackable: bool
    status: Status
    #: Orders that got it and are not cancelled.
    redemptions: int
    #: Uses left under ``usage_limit`` (null: unlimited).
    remaining: int | None
    version: int
    created_at: datetime
    updated_at: datetime


def _ack(promotion_id: UUID | str, done: Outcome, status: str) -> PromotionAck:
    return PromotionAck(
        id=promotion_id, status=status, version=done.version, position=done.position
    )


@router.post("", status_code=201, response_model=PromotionAck)
def create_promotion(body: CreatePromotion, dispatch: DispatchDep, ctx: ContextDep):
    """A new promotion in ``draft``; a code already in use (any case) is ``409 code_taken``."""
    done = dispatch(body, ctx)
    return _ack(done.extra.get("id", done.stream_id), done, "draft")


@router.post("/{promotion_id}/activate", response_model=PromotionAck)
def activate_promotion(promotion_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(ActivatePromotion(promotion_id=promotion_id), ctx)
    return _ack(promotion_id, done, "active")


@router.post("/{promotion_id}/pause", response_model=PromotionAck)
def pause_promotion(promotion_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(PausePromotion(promotion_id=promotion_id), ctx)
    return _ack(promotion_id, done, "paused")


@router.post("/{promotion_id}/end", response_model=PromotionAck)
def end_promotion(promotion_id: UUID, dispatch: DispatchDep, ctx: ContextDep):
    done = dispatch(EndPromotion(promotion_id=promotion_id), ctx)
    return _ack(promotion_id, done, "ended")


@router.get("", response_model=Page[PromotionOut], dependencies=[read_model(view.NAME)])
def list_promotions(
    container: ContainerDep,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
):
    after = decode_cursor(cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]), UUID(after[1]))
        except (ValueError, TypeError, IndexError, KeyError):
            raise ApiError(
                400, "malformed_cursor", "The cursor is not one this API issued."
            ) from None
    rows = view.list_promotions(container.pool, status=status, after=after, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1]["created_at"].isoformat(), rows[-1]["id"]])
    return Page(items=[PromotionOut(**r) for r in rows], next_cursor=next_cursor)


@router.get("/{promotion_id}", response_model=PromotionOut, dependencies=[read_model(view.NAME)])
def get_promotion(promotion_id: UUID, container: ContainerDep):
    found = view.get_promotion(container.pool, promotion_id)
    if found is None:
        raise ApiError(404, "promotion_not_found", f"Promotion {promotion_id} does not exist.")
    return PromotionOut(**found)
