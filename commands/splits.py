"""SplitOrder: move a confirmed, unshipped order's lines to child orders (one per part and
location). The parent's ``OrderSplit`` and each child's ``OrderPlaced{parent_order_id,
split_reason, split_location}`` are written in one transaction; the parent then freezes, its
reservations and authorization are released by the fulfillment process manager, and each child
runs the placement saga at its location."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute
from domain.errors import Conflict
from domain.order import fulfillment as decide
from domain.order.state import ORDER
from domain.order.values import LineQuantity
from eventstore.store import EventStore, StreamAppend


def split(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    *,
    reason: str,
    parts: Sequence[tuple[str, Sequence[LineQuantity]]],
) -> Outcome:
    """``result.extra["children"]`` lists ``{id, number, location}`` per part."""
    children: list[tuple[UUID, int]] = []
    pending: dict[str, list] = {}

    def decision(state, _v):  # noqa: ANN001
        if state.exists and not state.split and not state.confirmed:
            raise Conflict(
                "An order is split once the saga has confirmed it.", code="order_not_confirmed"
            )
        placeholder = [(order_id, 0)] * len(parts)
        decide.split_order(  # validate before taking numbers from the sequence
            state,
            order_id,
            reason=reason,
            parts=parts,
            children=placeholder,
            placed_by=ctx.actor,
            now=ctx.now,
        )
        while len(children) < len(parts):
            children.append((uuid4(), store.next_order_number()))
        events, child_events = decide.split_order(
            state,
            order_id,
            reason=reason,
            parts=parts,
            children=children,
            placed_by=ctx.actor,
            now=ctx.now,
        )
        pending["children"] = child_events
        extra = {
            "children": [
                {"id": str(cid), "number": n, "location": loc}
                for (cid, n), (loc, _) in zip(children, parts, strict=True)
            ]
        }
        return events, extra

    def also(_state, _events) -> list[StreamAppend]:  # noqa: ANN001
        return [StreamAppend(cid, 0, [placed]) for cid, placed in pending["children"]]

    return execute(store, ORDER, order_id, decision, ctx, also=also)
