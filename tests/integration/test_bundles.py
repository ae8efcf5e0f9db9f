"""Bundles on PostgreSQL: a SKU is a product's or a bundle's, never both, even when both are
claimed at once; the bundles view follows the components' current prices and a rebuild of it
equals the live one; placement prices a bundle line from its components."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import UUID, uuid4, uuid5

import pytest

from commands import bundles, inventory, orders
from commands.context import CommandContext
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import Trigger
from domain.bundle.commands import CreateBundle
from domain.bundle.state import bundle_id_for
from domain.errors import ConcurrencyConflict, Conflict, InvalidCommand
from domain.inventory.commands import ReceiveStock, ReserveStock
from domain.location.commands import RegisterLocation
from domain.money import Money
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import PaymentRef
from domain.product.commands import ChangePrice, CreateProduct
from projections import bundles as view
from projections.base import live_schema
from tests.factories import active_product, new_sku, send, write_of
from tests.integration.test_projection_rebuild import snapshot
from tests.integration.test_saga_resume import ADDRESS
from tests.tables import differences


def create(sku: str, components, pricing=None) -> CreateBundle:  # noqa: ANN001
    return CreateBundle(
        sku=sku,
        name=f"Bundle {sku}",
        components=[{"sku": s, "quantity": q} for s, q in components],
        pricing=pricing or {"type": "component_sum"},
    )


def test_a_sku_claimed_at_once_by_a_product_and_a_bundle_goes_to_one(container):
    component = active_product(container, price="5.00")[1]
    for _ in range(5):
        sku = new_sku("RACE")

        def as_product(sku=sku):
            price = Money.of("1.00", "USD")
            return send(container, CreateProduct(sku=sku, name="p", price=price), ctx())

        def as_bundle(sku=sku):
            return send(container, create(sku, [(component, 1)]), ctx())

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(as_product), pool.submit(as_bundle)]
        won = []
        for f in futures:
            try:
                won.append(f.result())
            except (Conflict, ConcurrencyConflict) as exc:
                assert getattr(exc, "code", "duplicate_sku") in (
                    "duplicate_sku",
                    "concurrency_conflict",
                )
        assert len(won) == 1, won
        owner = write_of(container).skus.owner_of(sku)
        assert owner == won[0].stream_id


def ctx() -> CommandContext:
    return CommandContext.new("bundles-test")


def test_the_view_prices_a_bundle_at_its_components_current_prices(container):
    a_id, a = active_product(container, price="10.00")
    b = active_product(container, price="4.00")[1]
    sku = new_sku("KIT")
    send(
        container,
        create(sku, [(a, 2), (b, 1)], {"type": "percentage_discount", "value": 10}),
        ctx(),
    )
    container.runner.catch_up([view.NAME])
    found = view.get_bundle(container.pool, bundle_id_for(sku))
    assert found is not None
    assert (found["component_sum"]["amount"], found["price"]["amount"]) == ("24.00", "21.60")
    change = ChangePrice(product_id=a_id, price={"amount": "12.50", "currency": "USD"}, reason="up")
    send(container, change, ctx())
    container.runner.catch_up([view.NAME])
    found = view.get_bundle(container.pool, bundle_id_for(sku))
    assert (found["component_sum"]["amount"], found["price"]["amount"]) == ("29.00", "26.10")
    assert (found["savings"]["amount"], found["savings_percent"]) == ("2.90", "10.00")


def test_a_rebuilt_bundles_view_equals_the_live_one(container):
    a = active_product(container, price="3.00")[1]
    send(container, create(new_sku("KIT"), [(a, 3)], {"type": "fixed_price", "value": "8"}), ctx())
    runner = container.runner
    runner.catch_up([view.NAME])
    before = snapshot(container.pool, live_schema(view.NAME))
    assert before["bundles"] and before["components"] and before["sku_prices"]
    runner.rebuild(view.NAME)
    after = snapshot(container.pool, live_schema(view.NAME))
    for table in before:
        assert differences(after[table], before[table]) is None, table


def test_placement_prices_a_bundle_line_from_its_components_write_side(container):
    a = active_product(container, price="10.00")[1]
    b = active_product(container, price="0.05")[1]
    sku = new_sku("KIT")
    send(
        container,
        create(sku, [(a, 1), (b, 1)], {"type": "percentage_discount", "value": 50}),
        ctx(),
    )
    [plain, kit] = bundles.prices_for_order(write_of(container), [a, sku], "USD")
    assert plain.components is None and plain.priced.unit_price.amount == Decimal("10.00")
    assert kit.priced.unit_price.amount == Decimal("5.03")  # 10.05 × 0.5 = 5.025 → 5.03
    assert [(c.sku, c.quantity) for c in kit.components] == [(a, 1), (b, 1)]
    with pytest.raises(InvalidCommand) as e:
        bundles.prices_for_order(write_of(container), [sku], "EUR")
    assert e.value.code == "currency_mismatch"


def test_the_saga_resuming_a_bundle_order_releases_a_partial_hold_and_reserves_afresh(container):
    """An earlier run held one component of the bundle only, then died: that hold is released
    and every component is reserved afresh (never one component twice)."""
    c = CommandContext.new("t")
    code = f"BR-{uuid4().hex[:8]}"
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), c)
    container.runner.catch_up(["locations"])
    a, b = (active_product(container, price="10.00")[1] for _ in range(2))
    for sku in (a, b):
        send(container, ReceiveStock(sku=sku, location=code, quantity=10), c)
    kit = new_sku("KIT")
    send(container, create(kit, [(a, 2), (b, 1)]), c)
    order = PlaceOrder(
        customer_id=uuid4(), currency="USD", lines=[RequestedLine(sku=kit, quantity=3)],
        shipping_address=ADDRESS, payment=PaymentRef(token="tok_visa"),
    )  # fmt: skip
    order_id = send(container, order, c).stream_id
    line_id = orders.get(container.store, order_id).lines[0].line_id
    partial = uuid5(order_id, f"reservation:{line_id}:{a}:{code}")
    held = ReserveStock(
        sku=a, reservation_id=partial, order_id=order_id, line_id=UUID(line_id), location=code,
        quantity=6, expires_at=None,
    )  # fmt: skip
    send(container, held, c)
    event = container.store.load_with_positions(order_id)[0]
    saga = OrderPlacementSaga(container.store, container.pool, container.gateway)

    saga.handle(Trigger("bundle-resume", event))

    state = orders.get(container.store, order_id)
    assert state.status == "confirmed" and state.lines[0].reserved == 3
    assert inventory.get(container.store, a).reservations[partial].status == "released"
    assert inventory.get(container.store, a).level(code).reserved == 6
    assert inventory.get(container.store, b).level(code).reserved == 3
    head = container.store.head()
    saga.handle(Trigger("bundle-resume", event))  # a second run: complete holds are kept
    assert container.store.head() == head
