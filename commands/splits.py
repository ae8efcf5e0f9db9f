"""SplitOrder: move a confirmed, unshipped order's lines to child orders (one per part and
location). The parent's ``OrderSplit`` and each child's ``OrderPlaced{parent_order_id,
split_reason, split_location}`` are written in one transaction; the parent then freezes, its
reservations and authorization are released by the fulfillment process manager, and each child
runs the placement saga at its location."""

from __future__ import annotations

from uuid import UUID, uuid4

from commands import orders
from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from domain.bundle.limits import refuse_bundle_lines
from domain.errors import Conflict
from domain.order import fulfillment as decide
from domain.order.fulfillment_commands import SplitOrder
from domain.order.state import ORDER
from eventstore.store import StreamAppend


def split(w: WriteSide, c: SplitOrder, ctx: CommandContext) -> Outcome:
    """``result.extra["children"]`` lists ``{id, number, location}`` per part."""
    store, order_id = w.store, c.order_id
    orders.require_exists(store, order_id)
    children: list[tuple[UUID, int]] = []
    pending: dict[str, list] = {}

    def decision(state, _v):  # noqa: ANN001
        if state.exists and not state.split and not state.confirmed:
            raise Conflict(
                "An order is split once the saga has confirmed it.", code="order_not_confirmed"
            )
        refuse_bundle_lines(state, None, "Splitting an order")
        placeholder = [(order_id, 0)] * len(c.parts)
        # validate before taking numbers from the sequence
        decide.split_order(state, c, placeholder, ctx.actor, ctx.now)
        while len(children) < len(c.parts):
            children.append((uuid4(), store.next_order_number()))
        events, child_events = decide.split_order(state, c, children, ctx.actor, ctx.now)
        pending["children"] = child_events
        extra = {
            "children": [
                {"id": str(cid), "number": n, "location": part.location}
                for (cid, n), part in zip(children, c.parts, strict=True)
            ]
        }
        return events, extra

    def also(_state, _events) -> list[StreamAppend]:  # noqa: ANN001
        return [StreamAppend(cid, 0, [placed]) for cid, placed in pending["children"]]

    return execute(store, ORDER, order_id, decision, ctx, also=also)


HANDLERS = {SplitOrder: split}
