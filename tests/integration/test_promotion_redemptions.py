"""Redemptions on the real store (``commands/redemptions.py``): claims decided in order within
a batch never pass a limit, two units of work racing for the last use cannot both commit, a
release gives a use back once (a second release writes nothing), the release manager does it
for an ``OrderCancelled``, and the customer order ledger says whether an order is the first."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from commands import redemptions
from commands.context import CommandContext
from commands.executor import load
from commands.order_promotions import first_order
from commands.process_manager import Trigger
from commands.unit_of_work import UnitOfWork
from domain.errors import ConcurrencyConflict
from domain.order.commands import CancelOrder, PlaceOrder, RequestedLine
from domain.order.values import PaymentRef
from domain.promotion.commands import ActivatePromotion, CreatePromotion
from domain.promotion.state import (
    CUSTOMER_ORDERS,
    REDEMPTIONS,
    customer_orders_stream,
    redemptions_stream,
)
from tests.factories import active_product, send, write_of
from tests.unit.test_order_placement import ADDRESS


def ctx() -> CommandContext:
    return CommandContext.new("tester")


def limited(container, **limits) -> str:
    """An active promotion with a code (a code-less one would apply to every order placed)."""
    fields = {"name": "L", "target": "order", "kind": "percentage", "value": "10",
              "code": f"L-{uuid4().hex[:10]}", **limits}  # fmt: skip
    made = send(container, CreatePromotion(**fields), ctx())
    send(container, ActivatePromotion(promotion_id=made.stream_id), ctx())
    return made.stream_id


def placed(promotion_id, customer=None) -> tuple:
    """An order's id and the part of its ``OrderPlaced`` that redemptions read."""
    data = {"customer_id": str(customer or uuid4()),
            "promotions": [{"promotion_id": str(promotion_id), "code": None,
                            "amount": {"amount": "1.00", "currency": "USD"}}]}  # fmt: skip
    return uuid4(), data


def claim_all(store, orders) -> list[bool]:
    uow = UnitOfWork(store)
    redemptions.load(uow, orders)
    got = [redemptions.claim(uow, oid, data, ctx().meta()) for oid, data in orders]
    uow.commit(ctx().meta())
    return got


def holders(store, stream) -> frozenset:
    return load(store, REDEMPTIONS, stream).state.orders


def test_claims_in_one_batch_stop_at_the_limit(store, container):
    pid = limited(container, usage_limit=3)
    orders = [placed(pid) for _ in range(5)]
    assert claim_all(store, orders) == [True, True, True, False, False]
    assert holders(store, redemptions_stream(pid)) == {oid for oid, _ in orders[:3]}
    assert claim_all(store, orders[:1]) == [True]  # claiming again what it holds: nothing new
    assert load(store, REDEMPTIONS, redemptions_stream(pid)).version == 3


def test_two_units_of_work_cannot_both_take_the_last_use(store, container):
    pid = limited(container, usage_limit=1)
    a, b = placed(pid), placed(pid)
    first, second = UnitOfWork(store), UnitOfWork(store)
    redemptions.load(first, [a])
    redemptions.load(second, [b])
    assert redemptions.claim(first, *a, ctx().meta())
    assert redemptions.claim(second, *b, ctx().meta())  # each saw one free use
    first.commit(ctx().meta())
    with pytest.raises(ConcurrencyConflict):
        second.commit(ctx().meta())
    assert claim_all(store, [b]) == [False]  # decided again on fresh state
    assert holders(store, redemptions_stream(pid)) == {a[0]}


def test_a_per_customer_limit_counts_per_customer(store, container):
    pid = limited(container, per_customer_limit=1)
    ann, bob = uuid4(), uuid4()
    assert claim_all(store, [placed(pid, ann), placed(pid, ann), placed(pid, bob)]) == [
        True, False, True]  # fmt: skip


def test_a_release_gives_the_use_back_once_and_the_manager_does_it_on_cancellation(
    store, container
):
    # given an order placed with a code limited to one use, its use claimed
    sku = active_product(container, price="10.00")[1]
    code = f"ONE-{uuid4().hex[:8]}"
    pid = limited(container, usage_limit=1, code=code)
    order = send(container, PlaceOrder(
        customer_id=uuid4(), currency="USD", lines=[RequestedLine(sku=sku, quantity=1)],
        shipping_address=ADDRESS, payment=PaymentRef(token="tok_visa"),
        promotion_codes=[code.lower()]), ctx()).stream_id  # fmt: skip
    data = store.load(order, up_to_version=1)[0].data
    assert [p["promotion_id"] for p in data["promotions"]] == [str(pid)]
    assert claim_all(store, [(order, data)]) == [True]
    ledger = customer_orders_stream(UUID(data["customer_id"]))
    assert load(store, CUSTOMER_ORDERS, ledger).state.orders == {order}
    # when the order is cancelled and the manager gets its OrderCancelled, twice
    send(container, CancelOrder(order_id=order, reason="customer_request"), ctx())
    cancelled = store.load_with_positions(order)[-1]
    assert cancelled.type == "order.OrderCancelled"
    releaser = redemptions.RedemptionReleaser(write_of(container))
    for _ in range(2):
        releaser.handle(Trigger("promotion_redemptions", cancelled))
    # then the use is given back once, the order leaves the ledger, and the use is free again
    assert holders(store, redemptions_stream(pid)) == frozenset()
    assert load(store, REDEMPTIONS, redemptions_stream(pid)).version == 2
    assert load(store, CUSTOMER_ORDERS, ledger).state.orders == frozenset()
    assert claim_all(store, [placed(pid)]) == [True]


def test_the_ledger_says_whether_an_order_would_be_the_customers_first(store, container):
    pid = limited(container, usage_limit=100)
    customer = uuid4()
    assert first_order(write_of(container), customer)
    assert claim_all(store, [placed(pid, customer)]) == [True]
    assert not first_order(write_of(container), customer)
