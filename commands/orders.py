"""Handlers for the Order aggregate: load, decide with ``domain.order``, append.

PlaceOrder prices its lines from the catalog (``commands.products.prices_for_order``, one read
for all lines), takes its number from the store's sequence, and claims (channel, channel order
id) in the same transaction, so a repeated channel order returns the existing one. Its new
stream is appended at version 0 without being read first (``_append_new``); anything that
makes that append fail goes through ``execute`` as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from commands.context import CommandContext, Outcome
from commands.executor import execute, idempotency_record, load, replay_if_seen
from commands.products import prices_for_order
from commands.time_travel import events_until
from commands.write_side import WriteSide
from domain.errors import ConcurrencyConflict, NotFound
from domain.events import DomainEvent
from domain.ids import channel_order_stream
from domain.order import decide as decide
from domain.order.events import ChannelOrderClaimed
from domain.order.placement import place_order, validate_requested_lines
from domain.order.state import ORDER, OrderState
from domain.order.values import (
    Address,
    Channel,
    GiftOptions,
    NoteKind,
    PaymentRef,
    PricedLine,
    Priority,
    RequestedLine,
)
from domain.pricing_policy import ShippingPolicy, TaxPolicy
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
    w: WriteSide,
    ctx: CommandContext,
    *,
    order_id: UUID,
    customer_id: UUID,
    currency: str,
    lines: Sequence[RequestedLine],
    shipping_address: Address,
    payment: PaymentRef,
    tax_policy: TaxPolicy,
    shipping_policy: ShippingPolicy,
    billing_address: Address | None = None,
    channel: Channel = "direct",
    channel_order_id: str | None = None,
    priority: Priority = "normal",
    gift: GiftOptions | None = None,
    scheduled_delivery: date | None = None,
) -> Outcome:
    """Place an order. ``result.extra`` holds ``id``, ``number``, ``status`` (``pending``, or
    the existing channel order's) and ``existing``."""
    store = w.store
    replay = replay_if_seen(store, ctx)
    if replay is not None:
        return replay
    if channel_order_id is not None:
        existing = _claimed_order(store, channel, channel_order_id)
        if existing is not None:
            return _existing(store, existing)
    validate_requested_lines(lines)
    prices = prices_for_order(w, [line.sku for line in lines], currency)
    priced = [
        PricedLine(p.sku, p.product_id, p.name, line.quantity, p.unit_price)
        for line, p in zip(lines, prices, strict=True)
    ]
    number = store.next_order_number()

    def decision(state: OrderState, _version: int):
        events = place_order(
            state,
            order_id=order_id,
            number=number,
            customer_id=customer_id,
            currency=currency,
            lines=priced,
            shipping_address=shipping_address,
            billing_address=billing_address,
            payment=payment,
            tax_policy=tax_policy,
            shipping_policy=shipping_policy,
            placed_at=ctx.now,
            placed_by=ctx.actor,
            channel=channel,
            channel_order_id=channel_order_id,
            priority=priority,
            gift=gift,
            scheduled_delivery=scheduled_delivery,
        )
        # The answer, decided with the events and kept with the key: a repeat says the same.
        answer = {"id": str(order_id), "number": number, "status": "pending", "existing": False}
        return events, answer

    def claim(_state: OrderState, _events: Sequence[DomainEvent]) -> list[StreamAppend]:
        if channel_order_id is None:
            return []
        taken = _claimed_order(store, channel, channel_order_id)
        if taken is not None:
            raise _ChannelOrderTaken(taken)
        event = ChannelOrderClaimed(
            channel=channel, channel_order_id=channel_order_id, order_id=order_id
        )
        return [StreamAppend(channel_order_stream(channel, channel_order_id), 0, [event])]

    try:
        first = _append_new(store, ctx, order_id, decision, claim)
        if first is not None:
            return first
        return execute(store, ORDER, order_id, decision, ctx, also=claim)
    except _ChannelOrderTaken as taken:
        return _existing(store, taken.order_id)


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


def modify(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    *,
    reason: str,
    shipping_address: Address | None = None,
    priority: Priority | None = None,
    gift: GiftOptions | None = None,
    scheduled_delivery: date | None = None,
) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.modify_order(
            state,
            order_id,
            reason=reason,
            actor=ctx.actor,
            today=ctx.now.date(),
            shipping_address=shipping_address,
            priority=priority,
            gift=gift,
            scheduled_delivery=scheduled_delivery,
        ),
        ctx,
    )


def add_note(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    *,
    note_id: UUID,
    text: str,
    kind: NoteKind = "internal",
    visible_to_customer: bool = False,
) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.add_note(
            state,
            order_id,
            note_id=note_id,
            text=text,
            author=ctx.actor,
            kind=kind,
            visible_to_customer=visible_to_customer,
        ),
        ctx,
    )


def edit_note(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    *,
    note_id: UUID,
    text: str | None = None,
    visible_to_customer: bool | None = None,
) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.edit_note(
            state,
            order_id,
            note_id=note_id,
            editor=ctx.actor,
            text=text,
            visible_to_customer=visible_to_customer,
        ),
        ctx,
    )


def delete_note(
    store: EventStore, ctx: CommandContext, order_id: UUID, *, note_id: UUID
) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.delete_note(state, order_id, note_id=note_id, actor=ctx.actor),
        ctx,
    )


def add_tag(store: EventStore, ctx: CommandContext, order_id: UUID, *, tag: str) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.add_tag(state, order_id, tag=tag, actor=ctx.actor),
        ctx,
    )


def remove_tag(store: EventStore, ctx: CommandContext, order_id: UUID, *, tag: str) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.remove_tag(state, order_id, tag=tag, actor=ctx.actor),
        ctx,
    )


def add_timeline_entry(
    store: EventStore,
    ctx: CommandContext,
    order_id: UUID,
    *,
    entry_type: str,
    description: str,
    metadata: dict[str, Any] | None = None,
) -> Outcome:
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.add_timeline_entry(
            state,
            order_id,
            entry_type=entry_type,
            description=description,
            actor=ctx.actor,
            metadata=metadata,
        ),
        ctx,
    )


def confirm(
    store: EventStore, ctx: CommandContext, order_id: UUID, *, allocations: list[dict[str, Any]]
) -> Outcome:
    """From the placement saga: every line reserved and the payment authorized."""
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.confirm_order(
            state, order_id, allocations=allocations, now=ctx.now
        ),
        ctx,
    )


def cancel(store: EventStore, ctx: CommandContext, order_id: UUID, *, reason: str) -> Outcome:
    """From the saga (out of stock, payment declined, reservation expired) or an approval."""
    return execute(
        store,
        ORDER,
        order_id,
        lambda state, _v: decide.cancel_order(
            state, order_id, reason=reason, actor=ctx.actor, now=ctx.now
        ),
        ctx,
    )


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
    events = events_until(_order_events(store, order_id), version=version, as_of=as_of)
    if not events:
        raise NotFound(
            f"Order {order_id} did not exist yet at that point.", code="order_not_yet_placed"
        )
    return ORDER.fold(e.to_domain() for e in events), events[-1].version
