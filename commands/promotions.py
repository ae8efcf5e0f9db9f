"""Handlers of the Promotion aggregate (``HANDLERS``): create, with its code claimed in the
same transaction (one stream per code in upper case, appended at version 0, as SKUs are), so
two promotions can never hold one code whatever the case; activate, pause, end."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute, load
from commands.products import at_own_stream
from commands.write_side import WriteSide
from domain.errors import Conflict, NotFound, VersionMismatch
from domain.events import DomainEvent
from domain.promotion import decide
from domain.promotion.commands import (
    ActivatePromotion,
    CreatePromotion,
    EndPromotion,
    PausePromotion,
)
from domain.promotion.events import PromotionCodeClaimed, PromotionCreated
from domain.promotion.state import PROMOTION, PROMOTION_CODE, PromotionState, code_stream
from eventstore.store import StreamAppend


def _claim_code(w: WriteSide, promotion_id: UUID):
    """``also`` for execute: claim the new promotion's code, refusing a taken one (409)."""

    def also(_state: PromotionState, events: Sequence[DomainEvent]) -> list[StreamAppend]:
        appends = []
        for event in events:
            if isinstance(event, PromotionCreated) and event.code is not None:
                stream = code_stream(event.code)
                if load(w.store, PROMOTION_CODE, stream).state.promotion_id is not None:
                    raise Conflict(
                        f"Promotion code '{event.code}' is already in use.",
                        code="code_taken",
                        details={"code": event.code},
                    )
                claimed = PromotionCodeClaimed(code=event.code, promotion_id=promotion_id)
                appends.append(StreamAppend(stream, 0, [claimed]))
        return appends

    return also


def create(w: WriteSide, c: CreatePromotion, ctx: CommandContext) -> Outcome:
    """A new promotion in ``draft``, its id made here (``result.stream_id``)."""
    promotion_id = uuid4()

    def decision(state: PromotionState, _v: int):
        events = decide.create_promotion(state, c, by=ctx.actor)
        return events, {"id": str(promotion_id)}

    result = execute(
        w.store, PROMOTION, promotion_id, decision, ctx, also=_claim_code(w, promotion_id)
    )
    return at_own_stream(w.store, result)


def _on_promotion(w: WriteSide, ctx: CommandContext, promotion_id: UUID, decision) -> Outcome:  # noqa: ANN001
    try:
        return execute(w.store, PROMOTION, promotion_id, lambda s, _v: decision(s), ctx)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound("No such promotion.", code="promotion_not_found") from None
        raise


def activate(w: WriteSide, c: ActivatePromotion, ctx: CommandContext) -> Outcome:
    return _on_promotion(w, ctx, c.promotion_id, lambda s: decide.activate(s, c, by=ctx.actor))


def pause(w: WriteSide, c: PausePromotion, ctx: CommandContext) -> Outcome:
    return _on_promotion(w, ctx, c.promotion_id, lambda s: decide.pause(s, c, by=ctx.actor))


def end(w: WriteSide, c: EndPromotion, ctx: CommandContext) -> Outcome:
    return _on_promotion(w, ctx, c.promotion_id, lambda s: decide.end(s, c, by=ctx.actor))


HANDLERS = {
    CreatePromotion: create,
    ActivatePromotion: activate,
    PausePromotion: pause,
    EndPromotion: end,
}
