"""The derived order status: its table (``derive_status``) and the legal moves between statuses."""

from __future__ import annotations

import pytest

from domain.errors import IllegalTransition
from domain.order.status import (
    TERMINAL,
    TRANSITIONS,
    StatusFacts,
    derive_status,
    fulfillment_status,
    require_transition,
)


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (StatusFacts(ordered=3), "pending"),
        (StatusFacts(ordered=3, confirmed=True), "confirmed"),
        (StatusFacts(ordered=3, confirmed=True, processing=True), "processing"),
        (StatusFacts(ordered=3, confirmed=True, shipped=1), "partially_shipped"),
        (StatusFacts(ordered=3, confirmed=True, shipped=3), "shipped"),
        (StatusFacts(ordered=3, cancelled_units=1, shipped=2), "shipped"),
        (StatusFacts(ordered=3, shipped=3, delivered=3), "delivered"),
        (StatusFacts(ordered=3, shipped=3, delivered=3, returned=3), "returned"),
        (StatusFacts(ordered=3, shipped=3, delivered=3, returned=1), "delivered"),
        (StatusFacts(ordered=3, shipped=3, cancelled=True), "cancelled"),
    ],
)
def test_the_status_is_the_first_row_of_the_table_that_holds(facts, status):
    assert derive_status(facts) == status


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        (StatusFacts(ordered=2), "unfulfilled"),
        (StatusFacts(ordered=2, shipped=1), "partially_fulfilled"),
        (StatusFacts(ordered=2, shipped=2), "fulfilled"),
        (StatusFacts(ordered=2, shipped=2, delivered=2, returned=1), "partially_returned"),
        (StatusFacts(ordered=2, shipped=2, delivered=2, returned=2), "returned"),
    ],
)
def test_the_fulfillment_status_follows_the_same_sums(facts, status):
    assert fulfillment_status(facts) == status


@pytest.mark.parametrize(
    ("current", "requested"),
    [(c, r) for c, nxt in TRANSITIONS.items() for r in sorted(nxt)],
)
def test_every_move_in_the_table_is_allowed(current, requested):
    require_transition(current, requested)


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        ("pending", "shipped"),
        ("pending", "processing"),
        ("processing", "confirmed"),
        ("shipped", "pending"),
        ("partially_shipped", "cancelled"),
        ("delivered", "cancelled"),
        ("cancelled", "confirmed"),
        ("returned", "delivered"),
    ],
)
def test_a_move_outside_the_table_is_an_illegal_transition(current, requested):
    with pytest.raises(IllegalTransition) as err:
        require_transition(current, requested)
    assert err.value.details == {"current": current, "requested": requested}


def test_cancelled_and_returned_are_terminal():
    assert TERMINAL == {"cancelled", "returned"}
