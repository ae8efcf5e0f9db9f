"""The bundle price formulas (``domain/bundle/pricing.py``): sum, fixed price, percentage discount
(rounded half-up once), component sum, savings and savings percent (0 when the sum is 0)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.bundle.events import BundleComponent, BundlePricing
from domain.bundle.pricing import bundle_price, component_sum, price_of

KIT = [BundleComponent(sku="A", quantity=2), BundleComponent(sku="B", quantity=3)]


def test_the_sum_is_each_price_times_its_quantity():
    assert component_sum(KIT, {"A": D("10.00"), "B": D("3.33")}) == D("29.99")


def test_component_sum_pricing_saves_nothing():
    p = bundle_price(BundlePricing(type="component_sum"), KIT, {"A": D("10"), "B": D("1")}, "USD")
    assert (p.price, p.component_sum, p.savings, p.savings_percent) == (
        D("23.00"), D("23"), D("0.00"), D("0.00"),
    )  # fmt: skip


def test_a_fixed_price_is_the_price_and_savings_follow():
    p = price_of(BundlePricing(type="fixed_price", value="20.00"), D("25.00"), "USD")
    assert (p.price, p.savings, p.savings_percent) == (D("20.00"), D("5.00"), D("20.00"))


@pytest.mark.parametrize(
    ("total", "percent", "price"),
    [
        (D("23.33"), "15", D("19.83")),  # 19.8305 → 19.83
        (D("0.10"), "25", D("0.08")),  # 0.075 → 0.08: half-up, not to even
        (D("0.30"), "50", D("0.15")),
        (D("19.99"), "0", D("19.99")),
        (D("19.99"), "100", D("0.00")),
        (D("10.05"), "10", D("9.05")),  # 9.045 → 9.05
    ],
)
def test_a_percentage_discount_rounds_half_up_once(total, percent, price):
    p = price_of(BundlePricing(type="percentage_discount", value=percent), total, "USD")
    assert p.price == price
    assert p.savings == total - price


def test_a_currency_without_minor_units_rounds_to_whole_units():
    p = price_of(BundlePricing(type="percentage_discount", value="15"), D("1005"), "JPY")
    assert p.price == D("854")  # 854.25


def test_the_savings_percent_is_savings_over_sum_to_two_decimals():
    p = price_of(BundlePricing(type="fixed_price", value="2.00"), D("3.00"), "USD")
    assert p.savings_percent == D("33.33")
    p = price_of(BundlePricing(type="fixed_price", value="1.00"), D("3.00"), "USD")
    assert p.savings_percent == D("66.67")


def test_a_sum_of_zero_has_zero_savings_percent():
    for pricing in (
        BundlePricing(type="component_sum"),
        BundlePricing(type="percentage_discount", value="10"),
        BundlePricing(type="fixed_price", value="0"),
    ):
        p = price_of(pricing, D("0.00"), "USD")
        assert p.savings_percent == D("0.00") and p.price == D("0.00")
