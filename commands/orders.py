"""Handlers for the Order aggregate: load, decide with ``domain.order``, append.

Each handler takes the write side, the command (``domain.order.commands``) and its context, and
is listed in ``HANDLERS``; confirm and cancel are the placement saga's calls.

PlaceOrder prices its lines from the catalog (``commands.bundles.prices_for_order``: the
products' prices, one read for all lines, a bundle's from its components') and the pricing
rules (``commands.prices.effective_prices``: each line's effective price and the rule that set
it, kept on the line), takes its number from the store's sequence, and claims (channel,
channel order id) in the same transaction, so a
repeated channel order returns the existing one. Its new stream is appended at version 0
without being read first (``_append_new``); anything that makes that append fail goes through
``execute`` as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from commands.bundles import prices_for_order
from commands.context import CommandContext, Outcome
from commands.customer_facts import customer_facts
from commands.executor import Decision, execute, idempotency_record, load, replay_if_seen
from commands.merchant_facts import refuse_suspended_merchants
from commands.order_promotions import terms_for
from commands.prices import Buyer, effective_prices
from commands.stream_states import load_together
from commands.time_travel import events_until, require_version
from commands.write_side import WriteSide
from domain.customer.state import CUSTOMER_STANDING
from domain.errors import ConcurrencyConflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.ids import channel_order_stream
from domain.order import decide as decide
from domain.order.commands import (
    AddNote,
    AddTag,
    AddTimelineEntry,
    CancelOrder,
    ConfirmOrder,
    DeleteNote,
    EditNote,
    ModifyOrder,
    PlaceOrder,
    RemoveTag,
)
from domain.order.events import ChannelOrderClaimed
from domain.order.placement import place_order, validate_requested_lines
from domain.order.state import ORDER, OrderState
from domain.order.values import PricedLine
from domain.product.state import PRODUCT
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore, IdempotencyKeyTaken, StreamAppend


class _ChannelOrderTaken(Exception):
    def __init__(self, order_id: UUID):
        self.order_id = order_id


def _claimed_order(store: EventStore, channel: str, channel_order_id: str) -> UUID | None:
    events = store.load(channel_order_stream(channel, channel_order_id), up_to_version=1)
    return events[0].to_domain().order_id if events else None  # type: ignore[attr-defined]


def _existing(store: EventStore, order_id: UUID) -> Outcome:
    loaded = load(store, ORDER, order_id)
    position = store.position_of(order_id, loaded.version) or 0
    extra = {
        "id": str(order_id),
        "number": loaded.state.number,
        "status": loaded.state.status,
        "existing": True,
    }
    return Outcome(order_id, loaded.version, position, replayed=True, extra=extra)


def place(
    w: WriteSide, c: PlaceOrder, ctx: CommandContext, *, order_id: UUID | None = None
) -> Outcome:
    """Place ``c`` as a new order (its id made up here, unless a test names one), totalled with
    the write side's pricing. ``result.extra`` holds ``id``, ``number``, ``status``
    (``pending``, or the existing channel order's) and ``existing``."""
    store = w.store
    began = time.monotonic()  # what a read begun since then found will do for the decision
    replay = replay_if_seen(store, ctx)
    if replay is not None:
        return replay
    channel, channel_order_id = c.channel, c.channel_order_id
    if channel_order_id is not None:
        existing = _claimed_order(store, channel, channel_order_id)
        if existing is not None:
            return _existing(store, existing)
    validate_requested_lines(c.lines)
    _read_together(w, c, began)
    standing = customer_facts(w, c.customer_id, since=began)
    if not standing.may_order:
        raise InvalidCommand(
            f"Customer {c.customer_id} may not order (status {standing.status}).",
            code=f"customer_{standing.status}",
        )
    prices = prices_for_order(w, [line.sku for line in c.lines], c.currency, since=began)
    refuse_suspended_merchants(w, [p.priced for p in prices])
    address = c.shipping_address
    buyer = Buyer(c.customer_id, address.country, address.region)
    quantities = [line.quantity for line in c.lines]
    effective = effective_prices(
        w, [p.priced for p in prices], quantities, buyer, ctx.now, since=began
    )
    priced = [
        PricedLine(
            p.priced.sku,
            p.priced.product_id,
            p.priced.name,
            q,
            e.price,
            price_rule_id=e.rule_id,
            price_rule_type=e.rule_type,
            components=(
                None if p.components is None else tuple((x.sku, x.quantity) for x in p.components)
            ),
        )
        for q, p, e in zip(quantities, prices, effective, strict=True)
    ]
    promotions = terms_for(w, c, priced, ctx.now, since=began)
    number = store.next_order_number()
    oid = order_id or uuid4()

    def decision(state: OrderState, _version: int):
        events = place_order(
            state,
            c,
            ctx.now,
            order_id=oid,
            number=number,
            priced=priced,
            tax_policy=w.pricing.tax,
            shipping_policy=w.pricing.shipping,
            placed_by=ctx.actor,
            promotions=promotions,
        )
        # The answer, decided with the events and kept with the key: a repeat says the same.
        answer = {"id": str(oid), "number": number, "status": "pending", "existing": False}
        return events, answer

    def claim(_state: OrderState, _events: Sequence[DomainEvent]) -> list[StreamAppend]:
        if channel_order_id is None:
            return []
        taken = _claimed_order(store, channel, channel_order_id)
        if taken is not None:
            raise _ChannelOrderTaken(taken)
        event = ChannelOrderClaimed(
            channel=channel, channel_order_id=channel_order_id, order_id=oid
        )
        return [StreamAppend(channel_order_stream(channel, channel_order_id), 0, [event])]

    try:
        first = _append_new(store, ctx, oid, decision, claim)
        if first is not None:
            return first
        return execute(store, ORDER, oid, decision, ctx, also=claim)
    except _ChannelOrderTaken as taken:
        return _existing(store, taken.order_id)


def _read_together(w: WriteSide, c: PlaceOrder, began: float) -> None:
    """The customer's and the products' new events, the pricing rules' and promotions' and
    the customer's data key in one query, folded into the write side's caches, directories
    and key ring as of now: the decision's reads after it (``since=began``) are then served
    from them (``commands/stream_states.py``, ``commands/directory_feed.py``). A bundle's
    components are read where it is priced."""
    owners = w.skus.owners_of([line.sku for line in c.lines])
    assert w.price_rules is not None  # a write side always has them (``WriteSide``)
    feed = w.price_rules.feed
    ring = w.store.mapper.keyring
    # The customer's data key too, unless known here: a returning customer's order is then
    # written with no key lookup of its own (``KeyRing.link_later``).
    keys_of = [] if ring is None or ring.has_cached(str(c.customer_id)) else [c.customer_id]
    load_together(
        w.store,
        [
            (CUSTOMER_STANDING, [c.customer_id], w.customers),
            (PRODUCT, set(owners.values()), w.products.cache),
        ],
        read=lambda after: feed.read_with(after, keys_of),
    )


def _append_new(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    decision: Callable[[OrderState, int], tuple[Sequence[DomainEvent], dict]],
    also: Callable[[OrderState, Sequence[DomainEvent]], list[StreamAppend]],
) -> Outcome | None:
    """The first write to an order stream whose id the caller has just made up: decided on
    the empty state without reading the stream, appended at expected version 0 (with the
    idempotency record, as ``execute`` writes it). None when that does not hold (the stream
    or a claim is taken, or the key was used meanwhile): ``execute`` then decides again on
    what is stored, with its replay and conflict rules."""
    if ctx.expected_version not in (None, 0):
        return None
    state = ORDER.initial()
    events, extra = decision(state, 0)
    if not events:
        return None
    appends = [*also(state, events), StreamAppend(order_id, 0, events)]
    record = None
    if ctx.idempotency is not None:
        record = idempotency_record(ctx, order_id, len(events), extra)
    try:
        position = store.append(appends, ctx.meta(), record)
    except (ConcurrencyConflict, IdempotencyKeyTaken):
        return None
    return Outcome(order_id, len(events), position, extra=extra)


def _on_order(
    w: WriteSide,
    ctx: CommandContext,
    order_id: UUID,
    decision: Callable[[OrderState], Decision],
) -> Outcome:
    return execute(w.store, ORDER, order_id, lambda state, _v: decision(state), ctx)


def modify(w: WriteSide, c: ModifyOrder, ctx: CommandContext) -> Outcome:
    return _on_order(
        w, ctx, c.order_id, lambda s: decide.modify_order(s, c, ctx.now, actor=ctx.actor)
    )


def add_note(w: WriteSide, c: AddNote, ctx: CommandContext) -> Outcome:
    """The new note's id is made up here: ``result.extra["note_id"]`` (kept with the key)."""
    note_id = uuid4()

    def decision(state: OrderState) -> Decision:
        events = decide.add_note(state, c, note_id=note_id, author=ctx.actor)
        return events, {"note_id": str(note_id)}

    result = _on_order(w, ctx, c.order_id, decision)
    if "note_id" not in result.extra:  # a key whose answer was kept before it named the note
        [added, *_] = w.store.load_many({c.order_id: result.version - 1})[c.order_id]
        result = replace(result, extra={"note_id": str(added.to_domain().note_id)})
    return result


def edit_note(w: WriteSide, c: EditNote, ctx: CommandContext) -> Outcome:
    return _on_order(w, ctx, c.order_id, lambda s: decide.edit_note(s, c, editor=ctx.actor))


def delete_note(w: WriteSide, c: DeleteNote, ctx: CommandContext) -> Outcome:
    return _on_order(w, ctx, c.order_id, lambda s: decide.delete_note(s, c, actor=ctx.actor))


def add_tag(w: WriteSide, c: AddTag, ctx: CommandContext) -> Outcome:
    return _on_order(w, ctx, c.order_id, lambda s: decide.add_tag(s, c, actor=ctx.actor))


def remove_tag(w: WriteSide, c: RemoveTag, ctx: CommandContext) -> Outcome:
    return _on_order(w, ctx, c.order_id, lambda s: decide.remove_tag(s, c, actor=ctx.actor))


def add_timeline_entry(w: WriteSide, c: AddTimelineEntry, ctx: CommandContext) -> Outcome:
    return _on_order(w, ctx, c.order_id, lambda s: decide.add_timeline_entry(s, c, actor=ctx.actor))


# ---- what the sagas ask of an order --------------------------------------------------------


def confirm(w: WriteSide, c: ConfirmOrder, ctx: CommandContext) -> Outcome:
    """From the placement saga: every line reserved and the payment authorized."""
    return execute(
        w.store, ORDER, c.order_id, lambda state, _v: decide.confirm_order(state, c, ctx.now), ctx
    )


def cancel(w: WriteSide, c: CancelOrder, ctx: CommandContext) -> Outcome:
    """From the saga (out of stock, payment declined, reservation expired) or an approval."""
    return execute(
        w.store,
        ORDER,
        c.order_id,
        lambda state, _v: decide.cancel_order(state, c, ctx.now, actor=ctx.actor),
        ctx,
    )


HANDLERS = {
    PlaceOrder: place,
    ModifyOrder: modify,
    AddNote: add_note,
    EditNote: edit_note,
    DeleteNote: delete_note,
    AddTag: add_tag,
    RemoveTag: remove_tag,
    AddTimelineEntry: add_timeline_entry,
    ConfirmOrder: confirm,
    CancelOrder: cancel,
}


# ---- reading the aggregate ---------------------------------------------------------------


def _order_events(store: EventStore, order_id: UUID) -> list[RecordedEvent]:
    events = store.load(order_id)
    if not events or events[0].type != "order.OrderPlaced":
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found")
    return events


def require_exists(store: EventStore, order_id: UUID) -> None:
    first = store.load(order_id, up_to_version=1)
    if not first or first[0].type != "order.OrderPlaced":
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found")


def get(store: EventStore, order_id: UUID) -> OrderState:
    return ORDER.fold(e.to_domain() for e in _order_events(store, order_id))


def state_at(
    store: EventStore,
    order_id: UUID,
    *,
    version: int | None = None,
    as_of: datetime | None = None,
) -> tuple[OrderState, int]:
    """The order as it was at ``version`` or at instant ``as_of``: (state, version then), the
    fold of the stream's prefix (its events up to the first one after either)."""
    events = _order_events(store, order_id)
    require_version(events, version, f"Order {order_id}")
    events = events_until(events, version=version, as_of=as_of)
    if not events:
        raise NotFound(
            f"Order {order_id} did not exist yet at that point.", code="order_not_yet_placed"
        )
    return ORDER.fold(e.to_domain() for e in events), events[-1].version
