"""Time travel equals replay: for random streams (orders, products, inventory) and random past
instants or versions, the past state equals folding that stream's events, taken independently
from the global feed, up to that point."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import orjson
import pytest

from commands.context import CommandContext
from commands.time_travel import jsonable, state_at
from domain.errors import NotFound
from domain.ids import inventory_stream
from domain.inventory.commands import ReceiveStock
from domain.inventory.state import INVENTORY
from domain.location.commands import RegisterLocation
from domain.money import Money
from domain.order.commands import AddTag, PlaceOrder, RequestedLine
from domain.order.state import ORDER
from domain.order.values import Address, PaymentRef
from domain.product.commands import ChangeLifecycle, ChangePrice, CreateProduct
from domain.product.state import PRODUCT
from tests.factories import new_sku, send

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _at(minutes: int) -> CommandContext:
    return CommandContext.new("auditor-test", now=T0 + timedelta(minutes=minutes))


def _feed_events(container, stream_id):
    """The stream's events read from the global feed, not from the stream index."""
    out, after = [], 0
    while True:
        page = container.store.read_all(after=after, limit=500)
        if not page:
            return out
        out += [e for e in page if e.stream_id == stream_id]
        after = page[-1].position


def _fold(aggregate, events, instant):
    return aggregate.fold(e.to_domain() for e in events if e.meta.occurred_at <= instant)


@pytest.fixture(scope="module")
def history(container):
    rng = random.Random(7)
    location = f"TT-{uuid4().hex[:8]}"
    send(
        container, RegisterLocation(code=location, name="TT", type="warehouse", priority=1), _at(0)
    )
    sku = new_sku("TT")
    machine = CreateProduct(sku=sku, name="Time machine", price=Money.of(Decimal("12.50"), "USD"))
    product_id = send(container, machine, _at(1)).stream_id
    send(container, ChangeLifecycle(product_id=product_id, status="pending_approval"), _at(2))
    send(container, ChangeLifecycle(product_id=product_id, status="active"), _at(3))
    order_ids = []
    for i in range(8):
        minute = 10 + i * 10
        send(
            container,
            ReceiveStock(sku=sku, location=location, quantity=rng.randint(1, 9)),
            _at(minute),
        )
        send(
            container,
            ChangePrice(
                product_id=product_id,
                price=Money.of(Decimal(f"{12 + i}.50"), "USD"),
                reason="repricing",
            ),
            _at(minute + 1),
        )
        result = send(
            container,
            PlaceOrder(
                customer_id=uuid4(),
                currency="USD",
                lines=[RequestedLine(sku=sku, quantity=rng.randint(1, 3))],
                shipping_address=Address(
                    name="Tess", line1="1 Way", city="Town", postal_code="1", country="US"
                ),
                payment=PaymentRef(token="tok"),
            ),
            _at(minute + 2),
        )
        for j in range(rng.randint(1, 4)):
            send(container, AddTag(order_id=result.stream_id, tag=f"t{j}"), _at(minute + 3 + j))
        order_ids.append(result.stream_id)
    return {"orders": order_ids, "product_id": product_id, "sku": sku}


def test_past_order_states_equal_the_fold_of_the_feed_up_to_random_instants(container, history):
    rng = random.Random(11)
    for _ in range(40):
        order_id = rng.choice(history["orders"])
        events = _feed_events(container, order_id)
        instant = rng.choice(events).meta.occurred_at + timedelta(seconds=rng.choice([0, 1, 30]))
        state, version = state_at(container.store, ORDER, order_id, kind="order", as_of=instant)
        assert state == _fold(ORDER, events, instant)
        assert version == max(e.version for e in events if e.meta.occurred_at <= instant)


def test_past_product_and_inventory_states_equal_the_fold_of_the_feed(container, history):
    rng = random.Random(12)
    streams = [
        (PRODUCT, "product", history["product_id"]),
        (INVENTORY, "inventory", inventory_stream(history["sku"])),
    ]
    for aggregate, kind, stream_id in streams:
        events = _feed_events(container, stream_id)
        for _ in range(15):
            instant = rng.choice(events).meta.occurred_at
            state, _ = state_at(container.store, aggregate, stream_id, kind=kind, as_of=instant)
            assert jsonable(state) == jsonable(_fold(aggregate, events, instant))
        version = rng.randint(1, len(events))
        state, at = state_at(container.store, aggregate, stream_id, kind=kind, version=version)
        assert at == version
        assert state == aggregate.fold(e.to_domain() for e in events[:version])


def test_an_instant_before_the_first_event_is_not_found(container, history):
    with pytest.raises(NotFound) as err:
        state_at(
            container.store,
            PRODUCT,
            history["product_id"],
            kind="product",
            as_of=datetime(2000, 1, 1, tzinfo=UTC),
        )
    assert err.value.code == "product_not_yet_created"


def test_a_stream_of_another_type_is_not_found(container, history):
    with pytest.raises(NotFound) as err:
        state_at(container.store, PRODUCT, history["orders"][0], kind="product")
    assert err.value.code == "product_not_found"


def test_the_past_state_is_json_ready(container, history):
    state, _ = state_at(container.store, PRODUCT, history["product_id"], kind="product")
    doc = jsonable(state)
    assert doc["product_id"] == str(history["product_id"])
    assert orjson.loads(orjson.dumps(doc)) == doc
