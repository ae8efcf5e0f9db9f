"""Handlers of the line edits of a confirmed order (add a line, change a quantity, remove a
line): each records only the request on the order (``LineEditRequested``), after the checks
the order's own state and the catalog can make, and answers at once. The line edit manager
(``commands/line_edit_manager.py``) carries the edit out: re-reserves the stock, re-authorizes
the new total, then records it on the order or rejects it with its reason. No request waits
on a payment provider.

Each answer's ``extra`` is ``{edit_id, line_id, status}``: ``pending`` for a recorded
request, ``applied`` for a quantity changed to what it already is (nothing to do)."""

from __future__ import annotations

from uuid import UUID, uuid4, uuid5

from commands import orders
from commands.bundles import is_bundle_sku
from commands.context import CommandContext, Outcome
from commands.executor import execute, replay_if_seen
from commands.prices import Buyer, effective_prices
from commands.products import price_for_order
from commands.write_side import WriteSide
from domain.bundle.limits import refuse_bundle_lines, refuse_bundle_sku
from domain.order import line_edits as decide
from domain.order.line_edit_commands import AddLine, ChangeLine, LineEdit, RemoveLine
from domain.order.state import ORDER, OrderState
from domain.order.values import PricedLine


def edit_id_for(ctx: CommandContext, order_id: UUID) -> UUID:
    """The edit's id: from the caller's idempotency key when it has one (a retry names the
    same edit), else new."""
    if ctx.idempotency is None:
        return uuid4()
    return uuid5(order_id, f"edit:{ctx.idempotency.principal}:{ctx.idempotency.key}")


def new_line_id(order_id: UUID, edit_id: UUID) -> str:
    """The id of the line an ``AddLine`` adds."""
    return str(uuid5(order_id, f"line:edit:{edit_id}"))


def _request(
    w: WriteSide,
    c: LineEdit,
    ctx: CommandContext,
    *,
    edit_id: UUID,
    line_id: str | None = None,
    priced: PricedLine | None = None,
) -> Outcome:
    def step(state: OrderState, _version: int):
        if line_id is None:  # a change or a removal names an existing line
            refuse_bundle_lines(state, [str(c.line_id)], "A line edit")  # type: ignore[attr-defined]
        events = decide.request_edit(
            state, c, ctx.now, edit_id=edit_id, actor=ctx.actor, new_line_id=line_id,
            priced=priced,
        )  # fmt: skip
        status = "pending" if events else "applied"
        return events, {
            "edit_id": str(edit_id),
            "line_id": line_id or getattr(c, "line_id", ""),
            "status": status,
        }

    return execute(w.store, ORDER, c.order_id, step, ctx)


def add_line(w: WriteSide, c: AddLine, ctx: CommandContext) -> Outcome:
    replay = replay_if_seen(w.store, ctx)  # a retry answers as the first did, priced or not
    if replay is not None:
        return replay
    orders.require_exists(w.store, c.order_id)
    state = orders.get(w.store, c.order_id)
    decide.require_editable(state, c.order_id)
    decide.require_quantity(c.quantity)
    if is_bundle_sku(w, c.sku):
        refuse_bundle_sku(c.sku, "Adding a line")
    sku = price_for_order(w, c.sku, state.currency)  # unknown or unsellable: refused
    # priced as a placement now would price it: its effective price under the pricing rules
    address = state.shipping_address
    buyer = Buyer(
        state.customer_id,
        address.country if address else None,
        address.region if address else None,
    )
    [effective] = effective_prices(w, [sku], [c.quantity], buyer, ctx.now)
    priced = PricedLine(c.sku, sku.product_id, sku.name, c.quantity, effective.price)
    edit_id = edit_id_for(ctx, c.order_id)
    line_id = new_line_id(c.order_id, edit_id)
    return _request(w, c, ctx, edit_id=edit_id, line_id=line_id, priced=priced)


def change_line(w: WriteSide, c: ChangeLine, ctx: CommandContext) -> Outcome:
    orders.require_exists(w.store, c.order_id)
    return _request(w, c, ctx, edit_id=edit_id_for(ctx, c.order_id))


def remove_line(w: WriteSide, c: RemoveLine, ctx: CommandContext) -> Outcome:
    orders.require_exists(w.store, c.order_id)
    return _request(w, c, ctx, edit_id=edit_id_for(ctx, c.order_id))


HANDLERS = {AddLine: add_line, ChangeLine: change_line, RemoveLine: remove_line}
