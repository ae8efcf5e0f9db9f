"""The rule that priced an order line is a fact of its ``OrderPlaced``: placement records the
rule id and type the handler priced the line with, and lines stored before pricing rules
existed read unchanged (no rule)."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.money import Money
from domain.order.events import OrderPlaced
from domain.order.values import OrderLine, PricedLine
from tests.unit.test_order_placement import decide

RULE = UUID("00000000-0000-4000-8000-0000000000a1")


def test_placement_records_the_rule_that_priced_each_line():
    ruled = PricedLine("A", uuid4(), "A", 6, Money.of("15.00", "USD"), RULE, "tiered")
    plain = PricedLine("B", uuid4(), "B", 1, Money.of("20.00", "USD"))
    [placed] = decide([ruled, plain])
    assert isinstance(placed, OrderPlaced)
    first, second = placed.lines
    assert (first.price_rule_id, first.price_rule_type) == (RULE, "tiered")
    assert first.unit_price == Money.of("15.00", "USD") and first.total == Money.of("90.00", "USD")
    assert (second.price_rule_id, second.price_rule_type) == (None, None)


def test_a_line_stored_before_pricing_rules_reads_unchanged():
    old = {
        "line_id": "l-1",
        "sku": "A",
        "product_id": str(uuid4()),
        "name": "A",
        "quantity": 2,
        "unit_price": {"amount": "19.99", "currency": "USD"},
        "total": {"amount": "39.98", "currency": "USD"},
    }
    line = OrderLine.model_validate(old)
    assert (line.price_rule_id, line.price_rule_type) == (None, None)
    assert line.unit_price == Money.of("19.99", "USD")
