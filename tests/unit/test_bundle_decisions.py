"""The Bundle's decisions, no database: given its events and what the write side knows of the
components, when CreateBundle is decided, then BundleCreated or a precisely named refusal."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.bundle.commands import CreateBundle
from domain.bundle.decide import ComponentFacts, create_bundle
from domain.bundle.events import BundleComponent, BundleCreated, BundlePricing
from domain.bundle.state import BUNDLE, bundle_id_for
from domain.errors import Conflict, InvalidCommand
from domain.money import Money

ID = bundle_id_for("KIT-1")
TEE = ComponentFacts("product", sellable=True, price=Money.of("10.00", "USD"))
CAP = ComponentFacts("product", sellable=True, price=Money.of("5.00", "USD"))
FACTS = {"TEE": TEE, "CAP": CAP}


def given(*events):
    return BUNDLE.fold(events)


def create(components=(("TEE", 2), ("CAP", 1)), pricing=None, sku="KIT-1") -> CreateBundle:
    return CreateBundle(
        sku=sku,
        name="Kit",
        components=[{"sku": s, "quantity": q} for s, q in components],
        pricing=pricing or {"type": "component_sum"},
    )


def created(pricing: BundlePricing) -> BundleCreated:
    return BundleCreated(
        bundle_id=ID,
        sku="KIT-1",
        name="Kit",
        components=[BundleComponent(sku="TEE", quantity=2), BundleComponent(sku="CAP", quantity=1)],
        pricing=pricing,
        currency="USD",
    )


def refused(command: CreateBundle, facts=FACTS) -> str:
    with pytest.raises(InvalidCommand) as e:
        create_bundle(given(), command, ID, facts)
    return e.value.code


class TestCreate:
    def test_a_component_sum_bundle_is_created(self):
        events = create_bundle(given(), create(), ID, FACTS)
        assert events == [created(BundlePricing(type="component_sum"))]

    def test_a_percentage_is_kept_with_two_decimals(self):
        c = create(pricing={"type": "percentage_discount", "value": "12.5"})
        [event] = create_bundle(given(), c, ID, FACTS)
        assert event.pricing == BundlePricing(type="percentage_discount", value="12.50")

    def test_a_fixed_price_is_kept_in_the_components_currency(self):
        c = create(pricing={"type": "fixed_price", "value": 19})
        [event] = create_bundle(given(), c, ID, FACTS)
        assert event.pricing == BundlePricing(type="fixed_price", value="19.00")
        assert event.currency == "USD"

    def test_the_bounds_of_a_percentage_are_allowed(self):
        for value in ("0", "100"):
            c = create(pricing={"type": "percentage_discount", "value": value})
            assert create_bundle(given(), c, ID, FACTS)

    def test_the_state_holds_what_was_created(self):
        state = given(created(BundlePricing(type="component_sum")))
        assert state.exists and state.sku == "KIT-1"
        assert [(c.sku, c.quantity) for c in state.components] == [("TEE", 2), ("CAP", 1)]

    def test_an_existing_bundle_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            create_bundle(given(created(BundlePricing(type="component_sum"))), create(), ID, FACTS)
        assert e.value.code == "bundle_exists"


class TestRefusals:
    def test_no_components(self):
        assert refused(create(components=())) == "no_components"

    @pytest.mark.parametrize("quantity", [0, -1, 1001])
    def test_a_quantity_out_of_range(self, quantity):
        assert refused(create(components=(("TEE", quantity),))) == "invalid_component_quantity"

    def test_a_component_listed_twice(self):
        assert refused(create(components=(("TEE", 1), ("TEE", 2)))) == "duplicate_component"

    def test_an_unknown_component(self):
        assert refused(create(components=(("NOPE", 1),))) == "unknown_component"

    def test_a_bundle_as_a_component(self):
        facts = {**FACTS, "KIT-0": ComponentFacts("bundle")}
        assert refused(create(components=(("KIT-0", 1),)), facts) == "component_is_bundle"

    def test_the_bundle_itself_as_a_component(self):
        assert refused(create(components=(("KIT-1", 1),))) == "component_is_bundle"

    def test_a_component_not_for_sale(self):
        facts = {"TEE": ComponentFacts("product", sellable=False, price=TEE.price)}
        assert refused(create(components=(("TEE", 1),)), facts) == "component_not_active"

    def test_a_component_without_a_price(self):
        facts = {"TEE": ComponentFacts("product", sellable=True)}
        assert refused(create(components=(("TEE", 1),)), facts) == "component_not_priced"

    def test_components_in_two_currencies(self):
        facts = {**FACTS, "CAP": ComponentFacts("product", True, Money.of("5", "EUR"))}
        assert refused(create(), facts) == "component_currency_mismatch"

    @pytest.mark.parametrize("value", ["-0.01", "100.01", "12.345"])
    def test_a_percentage_outside_0_to_100_or_too_precise(self, value):
        c = create(pricing={"type": "percentage_discount", "value": value})
        assert refused(c) == "invalid_percentage"

    def test_a_negative_price(self):
        assert refused(create(pricing={"type": "fixed_price", "value": "-1"})) == "invalid_price"

    def test_an_over_precise_price(self):
        c = create(pricing={"type": "fixed_price", "value": "9.999"})
        assert refused(c) == "currency_precision"

    def test_a_price_in_a_currency_without_minor_units(self):
        facts = {"TEE": ComponentFacts("product", True, Money.of("500", "JPY"))}
        c = create(components=(("TEE", 1),), pricing={"type": "fixed_price", "value": "450.5"})
        assert refused(c, facts) == "currency_precision"

    @pytest.mark.parametrize("kind", ["fixed_price", "percentage_discount"])
    def test_a_value_is_required(self, kind):
        assert refused(create(pricing={"type": kind})) == "pricing_value_required"

    def test_component_sum_takes_no_value(self):
        c = create(pricing={"type": "component_sum", "value": "3"})
        assert refused(c) == "pricing_value_not_allowed"


def test_a_bundle_id_is_made_of_its_sku():
    assert bundle_id_for("KIT-1") == bundle_id_for("KIT-1") != bundle_id_for("KIT-2")
    assert isinstance(bundle_id_for("KIT-1"), UUID)
