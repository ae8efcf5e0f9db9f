"""Redemptions: a limited promotion's uses, claimed with the order's stock and given back when
the order is cancelled; and the customer order ledger that ``first_order_only`` reads.

- **Claim** (``claim``, the placement saga's reserve phase, in its unit of work): for each
  promotion the order got (``OrderPlaced.promotions``) with a ``usage_limit``, one use on the
  promotion's redemption stream; with a ``per_customer_limit``, one on the (promotion,
  customer) stream; with ``first_order_only``, the customer's ledger must hold no other order.
  The batch's orders are decided in order against what the ones before them took, and the
  claims commit in the transaction that holds their stock, each stream at the version it was
  loaded at: two processes can never both take the last use (the loser's batch is decided
  again). A promotion without limits is never claimed, so automatic promotions do not put
  every order on one stream. Every order the saga takes on is counted in its customer's
  ledger (``CustomerOrderCounted``), so "first order" is a fact of the write side.
- **Give back** (``release``): the uses the order holds are released and it leaves its
  customer's ledger, once: a release finds what the order holds on the streams themselves, so
  running it again writes nothing. ``RedemptionReleaser`` does it for every ``OrderCancelled``
  (whatever cancelled the order: the saga's compensations, an approved cancellation, a parked
  step); the saga also does it for an order cancelled while its payment was being asked for
  (a cancellation that may have been handled before the claims committed).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commands.context import Clock, system_clock
from commands.process_manager import Trigger, WritingManager
from commands.unit_of_work import Load, UnitOfWork
from commands.write_side import WriteSide
from domain.promotion import events as ev
from domain.promotion.state import (
    CUSTOMER_ORDERS,
    PROMOTION,
    REDEMPTIONS,
    customer_orders_stream,
    customer_redemptions_stream,
    redemptions_stream,
)
from eventstore.recorded import EventMeta

#: The cancellation reason of an order whose promotion had no use left when the saga came.
EXHAUSTED = "promotion_exhausted"

Order = tuple[UUID, dict]  # (order id, its OrderPlaced data)


def _promotions(data: dict) -> list[UUID]:
    return [UUID(p["promotion_id"]) for p in data.get("promotions") or ()]


def loads(orders: Iterable[Order]) -> list[Load]:
    """What ``claim`` and ``release`` decide on that the orders alone name, as
    ``UnitOfWork.load_all`` takes it: their promotions and the customers' ledgers (to load
    with the caller's other streams), then ``load_limited``."""
    orders = list(orders)
    promotions = list(dict.fromkeys(pid for _oid, data in orders for pid in _promotions(data)))
    ledgers = [customer_orders_stream(UUID(d["customer_id"])) for _o, d in orders]
    # A returning customer's ledger grows by an event an order: from the caller's cache, only
    # what came since is read (from nothing, each batch read and folded the customer's whole
    # history, twice: 17 events an order after 17 orders each of 500 customers)
    return [(PROMOTION, promotions, False), (CUSTOMER_ORDERS, ledgers, True)]


def load_limited(uow: UnitOfWork, orders: Iterable[Order]) -> None:
    """After ``loads``: the redemption streams of the limited promotions (a query only when
    some promotion has a limit)."""
    streams = []
    for _oid, data in orders:
        customer = UUID(data["customer_id"])
        for pid in _promotions(data):
            s = uow.state(pid)
            if s.usage_limit is not None:
                streams.append(redemptions_stream(pid))
            if s.per_customer_limit is not None:
                streams.append(customer_redemptions_stream(pid, customer))
    uow.load(REDEMPTIONS, streams, cached=True)


def load(uow: UnitOfWork, orders: Iterable[Order]) -> None:
    """Load what ``claim`` and ``release`` decide on for these orders: their promotions, the
    limited ones' redemption streams and the customers' ledgers (three queries; a commit
    writes the streams in that order)."""
    orders = list(orders)
    [promotions, ledgers] = loads(orders)
    uow.load_all([promotions])
    load_limited(uow, orders)
    uow.load_all([ledgers])


def claim(uow: UnitOfWork, order_id: UUID, data: dict, meta: EventMeta) -> bool:
    """Take the order's uses and count it as its customer's; False (nothing applied) when a
    limit is reached or a first-order promotion meets an earlier order. Claiming again what
    the order holds changes nothing."""
    customer = UUID(data["customer_id"])
    ledger = customer_orders_stream(customer)
    point = uow.savepoint()
    for pid in _promotions(data):
        s = uow.state(pid)
        if s.conditions.first_order_only and uow.state(ledger).orders - {order_id}:
            uow.rollback_to(point)
            return False
        for stream, limit in (
            (redemptions_stream(pid), s.usage_limit),
            (customer_redemptions_stream(pid, customer), s.per_customer_limit),
        ):
            if limit is None:
                continue
            holders = uow.state(stream).orders
            if order_id in holders:
                continue
            if len(holders) >= limit:
                uow.rollback_to(point)
                return False
            event = ev.RedemptionClaimed(promotion_id=pid, order_id=order_id, customer_id=customer)
            uow.apply(stream, [event], meta)
    if order_id not in uow.state(ledger).orders:
        uow.apply(ledger, [ev.CustomerOrderCounted(customer_id=customer, order_id=order_id)], meta)
    return True


def release(uow: UnitOfWork, order_id: UUID, data: dict, reason: str, meta: EventMeta) -> None:
    """Give back every use the order holds and take it off its customer's ledger (streams
    loaded by ``load``)."""
    customer = UUID(data["customer_id"])
    for pid in _promotions(data):
        for stream in (redemptions_stream(pid), customer_redemptions_stream(pid, customer)):
            try:
                holders = uow.state(stream).orders
            except KeyError:  # not limited that way: never claimed
                continue
            if order_id in holders:
                event = ev.RedemptionReleased(promotion_id=pid, order_id=order_id, reason=reason)
                uow.apply(stream, [event], meta)
    ledger = customer_orders_stream(customer)
    if order_id in uow.state(ledger).orders:
        uow.apply(
            ledger, [ev.CustomerOrderUncounted(customer_id=customer, order_id=order_id)], meta
        )


class RedemptionReleaser(WritingManager):
    """``OrderCancelled`` → the order's uses given back and its ledger entry removed, in one
    transaction (a conflict is decided again by the runner's retry)."""

    name = "promotion_redemptions"
    topics = ("order.OrderCancelled",)

    def __init__(self, write: WriteSide, clock: Clock = system_clock):
        self.write, self.clock = write, clock

    def handle(self, trigger: Trigger) -> None:
        order_id = trigger.event.stream_id
        placed = self.store.load(order_id, up_to_version=1)
        if not placed:
            return
        data = placed[0].data
        uow = UnitOfWork(self.store)
        load(uow, [(order_id, data)])
        meta = trigger.context("release_redemptions", now=self.clock()).meta()
        release(uow, order_id, data, str(trigger.event.data.get("reason", "order_cancelled")), meta)
        uow.commit(meta)
