"""A bundle's order line, no database: placement records its components on the line (other
lines unchanged), the saga's needs expand it into component needs (quantity per bundle × the
line's), allocation covers all of them or none, and the order counts it reserved in whole
bundles."""

from __future__ import annotations

from uuid import uuid4

from domain.allocation import LineNeed, allocate
from domain.bundle.needs import bundle_line_ids, stock_needs
from domain.money import Money
from domain.order.commands import ConfirmOrder
from domain.order.decide import confirm_order
from domain.order.state import ORDER
from domain.order.values import LineComponent, PricedLine
from tests.unit.test_order_placement import NOW, ORDER_ID, decide, priced


def bundle_line(quantity: int = 3) -> PricedLine:
    kit = (("TEE", 2), ("CAP", 1))
    return PricedLine("KIT", uuid4(), "Kit", quantity, Money.of("25.00", "USD"), components=kit)


def test_placement_records_a_bundles_components_on_its_line_only():
    [placed] = decide([priced("A", 1), bundle_line(3)])
    plain, kit = placed.lines
    assert plain.components is None
    assert kit.components == [
        LineComponent(sku="TEE", quantity=2), LineComponent(sku="CAP", quantity=1),
    ]  # fmt: skip
    assert kit.total == Money.of("75.00", "USD")  # priced at the bundle's price


def test_an_order_placed_before_bundles_reads_as_before():
    [placed] = decide([priced("A", 2)])
    data = placed.model_dump(mode="json")
    del data["lines"][0]["components"]
    assert type(placed).model_validate(data).lines[0].components is None


def test_a_bundle_line_needs_each_component_times_the_bundles_ordered():
    [placed] = decide([priced("A", 1), bundle_line(3)])
    lines = placed.model_dump(mode="json")["lines"]
    plain_id, kit_id = lines[0]["line_id"], lines[1]["line_id"]
    assert stock_needs(lines) == [
        LineNeed(plain_id, "A", 1), LineNeed(kit_id, "TEE", 6), LineNeed(kit_id, "CAP", 3),
    ]  # fmt: skip
    assert bundle_line_ids(lines) == {kit_id}


def test_allocation_of_a_bundle_is_all_of_its_components_or_nothing():
    needs = [LineNeed("k", "TEE", 6), LineNeed("k", "CAP", 3)]
    locations = {"WH1": 1, "WH2": 2}
    short = {"TEE": {"WH1": 10}, "CAP": {"WH1": 1, "WH2": 1}}
    assert allocate(needs, locations, short) is None
    enough = {"TEE": {"WH1": 10}, "CAP": {"WH1": 3}}
    assert {(a.sku, a.quantity) for a in allocate(needs, locations, enough)} == {
        ("TEE", 6), ("CAP", 3),
    }  # fmt: skip


def test_a_confirmed_bundle_line_is_reserved_in_whole_bundles():
    [placed] = decide([priced("A", 2), bundle_line(3)])
    state = ORDER.fold([placed])
    plain, kit = (x.line_id for x in state.lines)
    allocations = [
        {
            "line_id": line,
            "sku": sku,
            "location": "WH1",
            "quantity": q,
            "reservation_id": str(uuid4()),
        }
        for line, sku, q in ((plain, "A", 2), (kit, "TEE", 6), (kit, "CAP", 3))
    ]
    events = confirm_order(state, ConfirmOrder(order_id=ORDER_ID, allocations=allocations), NOW)
    confirmed = ORDER.fold(events, state)
    assert [x.reserved for x in confirmed.lines] == [2, 3]
    assert confirmed.lines[1].components == (("TEE", 2), ("CAP", 1))
