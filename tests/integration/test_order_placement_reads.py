"""Placing reads less (the SKU owners and product states it keeps, a new order stream appended
without a read) and still sees every change: given a product an order was priced from, when
its price or status changes, then the next order pays the new price or is refused; concurrent
requests under one idempotency key write one order; a taken order id is refused; a returning
customer's data key comes with the placement's read."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import uuid4

import pytest

from commands import orders
from commands.context import CommandContext, Idempotency
from domain.errors import Conflict, InvalidCommand
from domain.money import Money
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from domain.product.commands import ChangeLifecycle, ChangePrice
from eventstore.privacy import KeyRing
from tests.factories import active_product, priced, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def place(container, lines, ctx=None, order_id=None, **kw):
    """Through the handler itself, which takes the order id a test names."""
    args = dict(
        customer_id=uuid4(),
        currency="USD",
        lines=lines,
        shipping_address=ADDRESS,
        payment=PaymentRef(token="tok"),
    )
    args.update(kw)
    write = priced(
        container,
        tax=FlatRateTax(Decimal("0.10")),
        shipping=FlatRateShipping(Decimal("5.00"), Decimal("100")),
    )
    ctx = ctx or CommandContext.new("tester")
    return orders.place(write, PlaceOrder(**args), ctx, order_id=order_id)


def unit_price(container, order_id):
    return orders.get(container.store, order_id).lines[0].unit_price.amount


def test_a_price_changed_after_an_order_is_the_price_of_the_next(container):
    product_id, sku = active_product(container, price="19.99")
    first = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    new_price = ChangePrice(
        product_id=product_id, price=Money.of(Decimal("7.50"), "USD"), reason="r"
    )
    send(container, new_price, CommandContext.new("m"))
    second = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    assert (unit_price(container, first), unit_price(container, second)) == (
        Decimal("19.99"),
        Decimal("7.50"),
    )


def test_a_product_discontinued_after_an_order_refuses_the_next(container):
    product_id, sku = active_product(container)
    place(container, [RequestedLine(sku=sku, quantity=1)])
    send(
        container,
        ChangeLifecycle(product_id=product_id, status="discontinued"),
        CommandContext.new("m"),
    )
    head = container.store.head()
    with pytest.raises(InvalidCommand) as err:
        place(container, [RequestedLine(sku=sku, quantity=1)])
    assert err.value.code == "product_not_active"
    assert container.store.head() == head


def test_concurrent_requests_under_one_key_place_one_order(container):
    _, sku = active_product(container)
    key = Idempotency(principal="tester", key=uuid4().hex, request_hash="h")

    def once(_):  # each request makes up its own order id, as the route does
        return place(
            container, [RequestedLine(sku=sku, quantity=1)], ctx=CommandContext.new(idempotency=key)
        )

    head = container.store.head()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(once, range(8)))
    assert len({(r.stream_id, r.version, r.position) for r in results}) == 1
    placed = container.store.read_all(head, 10_000, topics=["order.OrderPlaced"])
    assert [e.stream_id for e in placed] == [results[0].stream_id]


def test_placing_under_a_taken_order_id_is_refused_and_writes_nothing(container):
    _, sku = active_product(container)
    order_id = place(container, [RequestedLine(sku=sku, quantity=1)]).stream_id
    head = container.store.head()
    with pytest.raises(Conflict) as err:
        place(container, [RequestedLine(sku=sku, quantity=1)], order_id=order_id)
    assert err.value.code == "order_exists"
    assert container.store.head() == head


def _place_counting_key_lookups(container, customer, monkeypatch):
    """An order placed for ``customer``, and the key lookups of its own it made on the way
    (``KeyRing.link_stream`` calls, each still made)."""
    ring = container.store.mapper.keyring
    lookups = []
    link_stream = ring.link_stream
    monkeypatch.setattr(ring, "link_stream", lambda *a: (lookups.append(a), link_stream(*a))[1])
    _, sku = active_product(container)
    placed = place(container, [RequestedLine(sku=sku, quantity=1)], customer_id=customer)
    monkeypatch.undo()
    return placed, lookups


def test_a_returning_customer_s_order_needs_no_key_lookup_of_its_own(container, monkeypatch):
    # Given a customer who has a data key, made by another process (not cached in this one)
    customer = uuid4()
    key = KeyRing(container.pool).key_for_write(str(customer))
    ring = container.store.mapper.keyring
    assert not ring.has_cached(str(customer))
    # When the customer places an order
    order_id, lookups = _place_counting_key_lookups(container, customer, monkeypatch)
    # Then its key came with the placement's read, its link with the order's events
    assert lookups == [] and ring.key_for_write(str(customer)) == key
    assert KeyRing(container.pool).owner_of_stream(order_id.stream_id) == str(customer)
    # And the address reads back decrypted under that key
    assert orders.get(container.store, order_id.stream_id).shipping_address.name == "Ann"


def test_a_new_customer_s_first_order_brings_its_key_with_its_events(container, monkeypatch):
    # Given a customer who has no data key yet
    customer = uuid4()
    ring = container.store.mapper.keyring
    # When the customer places a first order
    order_id, lookups = _place_counting_key_lookups(container, customer, monkeypatch)
    # Then the key was made by the placement and written with the order, in its statement
    assert lookups == []
    fresh = KeyRing(container.pool)
    assert fresh.key_for_read(str(customer)) == ring.key_for_write(str(customer)) is not None
    assert fresh.owner_of_stream(order_id.stream_id) == str(customer)
    assert orders.get(container.store, order_id.stream_id).shipping_address.name == "Ann"
