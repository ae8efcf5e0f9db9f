"""The PricingRule aggregate's decisions, no database: given its events, when a command is
decided, then these events or this error (with its code); a refused command decides no
event."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.money import Money
from domain.pricing.commands import CreatePricingRule, DeactivatePricingRule, UpdatePricingRule
from domain.pricing.decide import create_rule, deactivate_rule, update_rule
from domain.pricing.events import PricingRuleCreated, PricingRuleDeactivated, PricingRuleUpdated
from domain.pricing.rules import RuleScope
from domain.pricing.state import PRICING_RULE

RULE = UUID("5a0d7c1e-9b2f-4f43-8d3e-1c2b3a4d5e6f")
JAN = datetime(2026, 1, 1, tzinfo=UTC)
FEB = datetime(2026, 2, 1, tzinfo=UTC)
TIERS = {
    "tiers": [
        {"min": 1, "max": 9, "price": {"amount": "10.00", "currency": "USD"}},
        {"min": 10, "max": None, "percent_off": 20},
    ]
}


NINE = {"amount": "9", "currency": "USD"}
FRIDAY_NIGHT = {"weekday": 4, "from": "22:00", "to": "02:00"}


def given(*events):
    return PRICING_RULE.fold(events)


def create(rule_type: str = "tiered", config=None, **fields) -> CreatePricingRule:
    return CreatePricingRule(
        name=fields.pop("name", "Bulk tees"),
        type=rule_type,
        scope=fields.pop("scope", RuleScope(skus=["TEE"])),
        config=TIERS if config is None else config,
        priority=fields.pop("priority", 5),
        **fields,
    )


def created(**fields) -> PricingRuleCreated:
    [event] = create_rule(given(), create(**fields), RULE)
    assert isinstance(event, PricingRuleCreated)
    return event


def refused(config, rule_type: str = "tiered", **fields) -> str:
    with pytest.raises(InvalidCommand) as e:
        create_rule(given(), create(rule_type, config, **fields), RULE)
    return e.value.code


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


class TestCreate:
    def test_a_tiered_rule_is_created_with_its_normalised_definition(self):
        event = created()
        assert event.rule_id == RULE and event.rule_type == "tiered" and event.priority == 5
        assert event.config == {
            "tiers": [
                {"min": 1, "max": 9, "price": usd("10.00")},
                {"min": 10, "percent_off": "20"},
            ]
        }
        state = given(event)
        assert state.active and state.rule is not None and state.rule.currency == "USD"

    @pytest.mark.parametrize(
        ("rule_type", "config"),
        [
            ("segment", {"segments": {"vip": {"percent_off": 15}, "staff": {"price": usd("1")}}}),
            ("geographic", {"regions": {"US": {"percent_adjust": 5}, "US-CA": {"price": NINE}}}),
            ("time_based", {"percent_off": 10, "schedule": [FRIDAY_NIGHT]}),
            ("cost_plus", {"cost": usd("4.00"), "markup_percent": "150"}),
        ],
    )  # fmt: skip
    def test_every_type_is_created(self, rule_type, config):
        event = created(rule_type=rule_type, config=config)
        assert event.rule_type == rule_type and given(event).active

    def test_a_time_based_rule_may_have_a_window_and_no_schedule(self):
        event = created(rule_type="time_based", config={"percent_off": 5}, valid_from=JAN)
        assert event.valid_from == JAN

    def test_an_existing_rule_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            create_rule(given(created()), create(), RULE)
        assert e.value.code == "pricing_rule_exists"


class TestCreateRefusals:
    def test_an_unknown_type(self):
        assert refused({}, "loyalty") == "unknown_rule_type"

    def test_a_configuration_of_another_shape(self):
        assert refused({"segments": {}}) == "invalid_config"

    def test_a_tier_with_both_a_price_and_a_percentage(self):
        tier = {"min": 1, "max": 2, "price": usd("1"), "percent_off": 5}
        assert refused({"tiers": [tier]}) == "invalid_config"

    def test_overlapping_tiers(self):
        tiers = [{"min": 1, "max": 10, "percent_off": 5}, {"min": 10, "max": 20, "percent_off": 9}]
        assert refused({"tiers": tiers}) == "overlapping_tiers"

    def test_a_tier_after_an_open_ended_one(self):
        tiers = [{"min": 1, "max": None, "percent_off": 5}, {"min": 50, "percent_off": 9}]
        assert refused({"tiers": tiers}) == "overlapping_tiers"

    def test_a_tier_whose_max_is_below_its_min(self):
        assert refused({"tiers": [{"min": 5, "max": 4, "percent_off": 5}]}) == "invalid_tier"

    @pytest.mark.parametrize("percent", [-1, 101, "100.01"])
    def test_a_percentage_outside_0_to_100(self, percent):
        assert refused({"tiers": [{"min": 1, "percent_off": percent}]}) == "percent_out_of_range"

    def test_an_adjustment_outside_minus_100_to_100(self):
        config = {"regions": {"US": {"percent_adjust": -101}}}
        assert refused(config, "geographic") == "percent_out_of_range"

    def test_negative_money(self):
        assert refused({"tiers": [{"min": 1, "price": usd("-1.00")}]}) == "negative_money"

    def test_money_more_precise_than_its_currency(self):
        assert refused({"tiers": [{"min": 1, "price": usd("1.001")}]}) == "money_precision"
        yen = {"amount": "100.5", "currency": "JPY"}
        assert refused({"tiers": [{"min": 1, "price": yen}]}) == "money_precision"

    def test_money_in_two_currencies(self):
        tiers = [
            {"min": 1, "max": 1, "price": usd("1")},
            {"min": 2, "price": {"amount": "1", "currency": "EUR"}},
        ]
        assert refused({"tiers": tiers}) == "currency_mismatch"

    def test_a_validity_that_ends_before_it_starts(self):
        assert refused(TIERS, valid_from=FEB, valid_to=JAN) == "invalid_validity"
        assert refused(TIERS, valid_from=JAN, valid_to=JAN) == "invalid_validity"

    def test_a_result_that_would_be_negative(self):
        config = {"cost": usd("4.00"), "markup_percent": -101}
        assert refused(config, "cost_plus") == "negative_price"

    def test_a_region_that_is_no_country(self):
        assert (
            refused({"regions": {"usa": {"percent_adjust": 1}}}, "geographic") == "invalid_region"
        )

    def test_a_segment_name_with_odd_characters(self):
        assert refused({"segments": {"V I P": {"percent_off": 1}}}, "segment") == "invalid_segment"

    @pytest.mark.parametrize(
        "window",
        [
            {"weekday": 7, "from": "09:00", "to": "10:00"},
            {"weekday": 1, "from": "9:00", "to": "10:00"},
            {"weekday": 1, "from": "10:00", "to": "10:00"},
            {"weekday": 1, "from": "24:00", "to": "10:00"},
        ],
    )
    def test_a_bad_weekly_window(self, window):
        config = {"percent_off": 5, "schedule": [window]}
        assert refused(config, "time_based") == "invalid_schedule"

    def test_a_time_based_rule_with_no_time(self):
        assert refused({"percent_off": 5}, "time_based") == "time_window_required"


class TestUpdate:
    def test_the_fields_given_change_and_are_named(self):
        c = UpdatePricingRule(rule_id=RULE, priority=9, valid_to=FEB)
        [event] = update_rule(given(created()), c)
        assert isinstance(event, PricingRuleUpdated)
        assert event.changed == ["priority", "valid_to"]
        assert event.priority == 9 and event.valid_to == FEB and event.name == "Bulk tees"
        state = given(created(), event)
        assert state.rule is not None and state.rule.priority == 9

    def test_a_new_configuration_is_checked_against_the_rules_type(self):
        c = UpdatePricingRule(rule_id=RULE, config={"tiers": [{"min": 1, "percent_off": 50}]})
        [event] = update_rule(given(created()), c)
        rule = given(created(), event).rule
        assert rule is not None and rule.tiers[0].adjustment.percent == Decimal(-50)

    def test_a_change_to_nothing_new_writes_nothing(self):
        assert update_rule(given(created()), UpdatePricingRule(rule_id=RULE, priority=5)) == []

    def test_validity_is_checked_against_what_the_rule_has(self):
        with pytest.raises(InvalidCommand) as e:
            update_rule(
                given(created(valid_from=FEB)), UpdatePricingRule(rule_id=RULE, valid_to=JAN)
            )
        assert e.value.code == "invalid_validity"

    def test_an_end_may_be_removed(self):
        c = UpdatePricingRule(rule_id=RULE, valid_to=None)
        [event] = update_rule(given(created(valid_to=FEB)), c)
        assert event.valid_to is None and event.changed == ["valid_to"]

    def test_a_bad_configuration_is_refused(self):
        c = UpdatePricingRule(rule_id=RULE, config={"tiers": [{"min": 1, "percent_off": 120}]})
        with pytest.raises(InvalidCommand) as e:
            update_rule(given(created()), c)
        assert e.value.code == "percent_out_of_range"

    def test_a_name_cannot_be_removed(self):
        with pytest.raises(InvalidCommand) as e:
            update_rule(given(created()), UpdatePricingRule(rule_id=RULE, name=None))
        assert e.value.code == "invalid_config"

    def test_an_unknown_rule_is_not_found(self):
        with pytest.raises(NotFound) as e:
            update_rule(given(), UpdatePricingRule(rule_id=RULE, priority=1))
        assert e.value.code == "pricing_rule_not_found"

    def test_a_deactivated_rule_does_not_change(self):
        with pytest.raises(Conflict) as e:
            state = given(created(), PricingRuleDeactivated())
            update_rule(state, UpdatePricingRule(rule_id=RULE, priority=1))
        assert e.value.code == "pricing_rule_inactive"


class TestDeactivate:
    def test_an_active_rule_is_deactivated(self):
        c = DeactivatePricingRule(rule_id=RULE, reason="season over")
        assert deactivate_rule(given(created()), c) == [
            PricingRuleDeactivated(reason="season over")
        ]
        state = given(created(), PricingRuleDeactivated(reason="season over"))
        assert not state.active and state.rule is not None and not state.rule.active

    def test_deactivating_twice_writes_nothing(self):
        state = given(created(), PricingRuleDeactivated())
        assert deactivate_rule(state, DeactivatePricingRule(rule_id=RULE)) == []

    def test_an_unknown_rule_is_not_found(self):
        with pytest.raises(NotFound):
            deactivate_rule(given(), DeactivatePricingRule(rule_id=RULE))


def test_a_rules_fold_keeps_its_money_exact():
    rule = given(created()).rule
    assert rule is not None
    assert rule.tiers[0].adjustment.price == Money.of("10.00", "USD")
