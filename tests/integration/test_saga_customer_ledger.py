"""The placement saga keeps each customer's order ledger (``customer_orders``) in its cache: a
returning customer's next order reads only the ledger's events since, not the customer's
whole history (read and folded twice an order before, so a loyal customer's orders grew
slower with every one of them); a ledger read without it (the API's first-order check, or
after the cache dropped it) starts from its latest snapshot."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from commands.stream_states import load_states
from commands.unit_of_work import UnitOfWork
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from domain.promotion import events as ev
from domain.promotion.state import CUSTOMER_ORDERS, customer_orders_stream
from tests.factories import active_product, send
from tests.integration.test_snapshots import ctx

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def test_a_returning_customers_ledger_is_read_from_the_sagas_cache(container):
    ctx = CommandContext.new("t")
    code = f"CL-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    container.runner.catch_up(["locations"])
    sku = active_product(container, price="10.00")[1]
    send(container, ReceiveStock(sku=sku, location=code, quantity=10), ctx)
    customer = uuid4()
    ledger = customer_orders_stream(customer)
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway)
    placed = []
    for n in range(1, 4):  # given: the customer's orders, each in a batch of its own
        order = PlaceOrder(
            customer_id=customer, currency="USD", lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=ADDRESS, payment=PaymentRef(token="tok_visa"),
        )  # fmt: skip
        placed.append(send(container, order, ctx).stream_id)
        event = container.store.load_with_positions(placed[-1])[0]
        saga.handle(Trigger("ledger-test", event))
        # then: the ledger counts every order so far, and the saga holds it at its version
        cached = saga.cache.get(ledger)
        assert cached is not None, "the ledger is not in the saga's cache"
        version, state = cached
        assert version == n
        assert state.orders == frozenset(placed)
    assert load_states(container.store, CUSTOMER_ORDERS, [ledger])[ledger].state == state
    assert [e.type for e in container.store.load(placed[-1])][-1] == "order.OrderConfirmed"


def test_a_long_ledger_is_read_from_its_latest_snapshot(store):
    # given: a customer's ledger of 250 counted orders, written a batch at a time
    customer = uuid4()
    ledger = customer_orders_stream(customer)
    for _ in range(5):
        uow = UnitOfWork(store)
        uow.load(CUSTOMER_ORDERS, [ledger])
        for _ in range(50):
            counted = ev.CustomerOrderCounted(customer_id=customer, order_id=uuid4())
            uow.apply(ledger, [counted], ctx().meta())
        uow.commit(ctx().meta())
    # when: it is read without a cache (as the API's first-order check reads it)
    loaded = load_states(store, CUSTOMER_ORDERS, [ledger])[ledger]
    # then: from a snapshot, not from its first event, and the same state
    assert loaded.version == 250 and len(loaded.state.orders) == 250
    assert loaded.snapshot_version >= 200 and loaded.events_read <= 50
