"""The Promotion aggregate, given / when / then: creating (and every refusal of bad input, each
with its own code), and the lifecycle ``draft → active ⇄ paused → ended``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.promotion import decide
from domain.promotion import events as ev
from domain.promotion.commands import (
    ActivatePromotion,
    CreatePromotion,
    EndPromotion,
    PausePromotion,
)
from domain.promotion.state import PROMOTION, PromotionState

PID = uuid4()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)


def create(**kw) -> CreatePromotion:
    fields = {"name": "Spring", "target": "order", "kind": "percentage", "value": "10"}
    return CreatePromotion(**{**fields, **kw})


def given(*events: ev.PromotionEvent) -> PromotionState:
    return PROMOTION.fold(events)


CREATED = decide.create_promotion(PromotionState(), create(), by="admin")[0]
ACTIVATED = ev.PromotionActivated(activated_by="admin")
PAUSED = ev.PromotionPaused(paused_by="admin")
ENDED = ev.PromotionEnded(ended_by="admin")


# ---- create ------------------------------------------------------------------------------


def test_a_new_promotion_is_created_in_draft_with_its_terms():
    [event] = decide.create_promotion(
        PromotionState(),
        create(
            code="SPRING-10",
            target="products",
            value=12.5,
            conditions={
                "min_subtotal": {"amount": "50.00", "currency": "USD"},
                "skus": ["A", "A", "B"],
                "segments": ["vip"],
                "first_order_only": True,
            },
            valid_from=T0.isoformat(),
            valid_to=T1.isoformat(),
            usage_limit=10,
            per_customer_limit=1,
            stackable=True,
        ),  # fmt: skip
        by="admin",
    )
    assert isinstance(event, ev.PromotionCreated)
    assert (event.code, event.target, event.kind, event.value) == (
        "SPRING-10", "products", "percentage", Decimal("12.5"))  # fmt: skip
    assert event.currency == "USD"  # the minimum subtotal's
    assert event.conditions.skus == ("A", "B") and event.conditions.first_order_only
    assert (event.usage_limit, event.per_customer_limit, event.stackable) == (10, 1, True)
    state = given(event)
    assert state.status == "draft" and state.limited and state.in_window(T0)
    assert not state.in_window(T1)  # the window's end is exclusive


def test_a_fixed_amount_carries_its_currency():
    [event] = decide.create_promotion(
        PromotionState(),
        create(kind="fixed_amount", value={"amount": "5.00", "currency": "EUR"}),
        by="m",
    )
    assert (event.value, event.currency) == (Decimal("5.00"), "EUR")


def test_creating_twice_conflicts():
    with pytest.raises(Conflict) as e:
        decide.create_promotion(given(CREATED), create(), by="admin")
    assert e.value.code == "promotion_exists"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"value": "0"}, "invalid_percentage"),
        ({"value": "100.01"}, "invalid_percentage"),
        ({"value": -5}, "invalid_percentage"),
        ({"value": "12.345"}, "invalid_percentage"),
        ({"value": "ten"}, "invalid_percentage"),
        ({"value": "NaN"}, "invalid_percentage"),
        ({"value": {"amount": "5.00", "currency": "USD"}}, "invalid_value"),
        ({"kind": "fixed_amount", "value": "5"}, "invalid_value"),
        ({"kind": "fixed_amount", "value": {"amount": "-1.00", "currency": "USD"}},
         "negative_amount"),
        ({"kind": "fixed_amount", "value": {"amount": "0", "currency": "USD"}}, "negative_amount"),
        ({"kind": "fixed_amount", "value": {"amount": "1.005", "currency": "USD"}},
         "amount_too_precise"),
        ({"kind": "fixed_amount", "value": {"amount": "1.5", "currency": "JPY"}},
         "amount_too_precise"),
        ({"conditions": {"min_subtotal": {"amount": "-3", "currency": "USD"}}}, "negative_amount"),
        ({"conditions": {"min_subtotal": {"amount": "3.001", "currency": "USD"}}},
         "amount_too_precise"),
        ({"kind": "fixed_amount", "value": {"amount": "5", "currency": "USD"},
          "conditions": {"min_subtotal": {"amount": "3", "currency": "EUR"}}}, "currency_mismatch"),
        ({"conditions": {"skus": ["ok", "not a sku"]}}, "invalid_sku"),
        ({"conditions": {"segments": ["VIP!"]}}, "invalid_segment"),
        ({"valid_from": T1.isoformat(), "valid_to": T0.isoformat()}, "invalid_window"),
        ({"valid_from": T0.isoformat(), "valid_to": T0.isoformat()}, "invalid_window"),
        ({"code": "ab"}, "invalid_code"),
        ({"code": "SPRING 10"}, "invalid_code"),
        ({"code": "SPRÎNG"}, "invalid_code"),
        ({"code": "x" * 33}, "invalid_code"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_its_own_code(fields, code):
    with pytest.raises(InvalidCommand) as e:
        decide.create_promotion(PromotionState(), create(**fields), by="admin")
    assert e.value.code == code


def test_unknown_fields_and_limits_below_one_are_refused_by_the_message():
    with pytest.raises(ValidationError):
        create(usage_limit=0)
    with pytest.raises(ValidationError):
        create(per_customer_limit=-1)
    with pytest.raises(ValidationError):
        create(target="everything")
    with pytest.raises(ValidationError):
        create(surprise=True)


# ---- lifecycle ---------------------------------------------------------------------------

ACT, PAUSE, END = (ActivatePromotion(promotion_id=PID), PausePromotion(promotion_id=PID),
                   EndPromotion(promotion_id=PID))  # fmt: skip


@pytest.mark.parametrize(
    ("history", "step", "expected"),
    [
        ((CREATED,), decide.activate, ev.PromotionActivated),
        ((CREATED, ACTIVATED), decide.pause, ev.PromotionPaused),
        ((CREATED, ACTIVATED, PAUSED), decide.activate, ev.PromotionActivated),
        ((CREATED, ACTIVATED), decide.end, ev.PromotionEnded),
        ((CREATED, ACTIVATED, PAUSED), decide.end, ev.PromotionEnded),
    ],
)
def test_allowed_moves(history, step, expected):
    command = {decide.activate: ACT, decide.pause: PAUSE, decide.end: END}[step]
    [event] = step(given(*history), command, by="admin")
    assert isinstance(event, expected)
    assert given(*history, event).status == {ev.PromotionActivated: "active",
        ev.PromotionPaused: "paused", ev.PromotionEnded: "ended"}[expected]  # fmt: skip


@pytest.mark.parametrize(
    ("history", "step"),
    [
        ((CREATED,), decide.pause),
        ((CREATED,), decide.end),
        ((CREATED, ACTIVATED, ENDED), decide.activate),
        ((CREATED, ACTIVATED, ENDED), decide.pause),
    ],
)
def test_illegal_moves_conflict(history, step):
    command = {decide.activate: ACT, decide.pause: PAUSE, decide.end: END}[step]
    with pytest.raises(IllegalTransition):
        step(given(*history), command, by="admin")


@pytest.mark.parametrize(
    ("history", "step"),
    [
        ((CREATED, ACTIVATED), decide.activate),
        ((CREATED, ACTIVATED, PAUSED), decide.pause),
        ((CREATED, ACTIVATED, ENDED), decide.end),
    ],
)
def test_moving_to_where_it_is_changes_nothing(history, step):
    command = {decide.activate: ACT, decide.pause: PAUSE, decide.end: END}[step]
    assert step(given(*history), command, by="admin") == []


@pytest.mark.parametrize("step", [decide.activate, decide.pause, decide.end])
def test_an_unknown_promotion_is_not_found(step):
    command = {decide.activate: ACT, decide.pause: PAUSE, decide.end: END}[step]
    with pytest.raises(NotFound) as e:
        step(PromotionState(), command, by="admin")
    assert e.value.code == "promotion_not_found"
