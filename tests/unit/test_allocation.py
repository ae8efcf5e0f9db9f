"""Allocation prefers one location for the whole order, else splits by priority."""

from domain.allocation import Allocation, LineNeed, allocate

LINES = [LineNeed("l1", "A", 2), LineNeed("l2", "B", 1)]
PRIORITY = {"WH1": 1, "WH2": 2, "WH3": 3}


def test_the_best_single_location_that_fills_everything_wins():
    available = {"A": {"WH1": 1, "WH2": 5, "WH3": 5}, "B": {"WH2": 1, "WH3": 1}}
    assert allocate(LINES, PRIORITY, available) == [
        Allocation("l1", "A", "WH2", 2),
        Allocation("l2", "B", "WH2", 1),
    ]


def test_without_a_single_location_lines_split_in_priority_order():
    available = {"A": {"WH1": 1, "WH3": 1}, "B": {"WH2": 1}}
    assert allocate(LINES, PRIORITY, available) == [
        Allocation("l1", "A", "WH1", 1),
        Allocation("l1", "A", "WH3", 1),
        Allocation("l2", "B", "WH2", 1),
    ]


def test_a_line_that_cannot_be_covered_fails_the_allocation():
    assert allocate(LINES, PRIORITY, {"A": {"WH1": 2}}) is None


def test_two_lines_of_one_sku_need_their_sum_in_one_place():
    lines = [LineNeed("l1", "A", 2), LineNeed("l2", "A", 2)]
    allocs = allocate(lines, PRIORITY, {"A": {"WH1": 3, "WH2": 4}})
    assert {a.location for a in allocs} == {"WH2"}


def test_inactive_locations_are_not_used():
    assert allocate([LineNeed("l1", "A", 1)], {"WH2": 2}, {"A": {"WH1": 5}}) is None
