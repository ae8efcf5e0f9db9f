"""The plans an order's allocations call for: one plan per location, one plan line per order
line there, even when an edit made a line hold two reservations at the same location."""

from __future__ import annotations

from uuid import uuid4

from commands.fulfillment import plans_for


def allocation(line_id: str, location: str, quantity: int) -> dict:
    return {
        "line_id": line_id,
        "sku": f"SKU-{line_id}",
        "location": location,
        "quantity": quantity,
        "reservation_id": str(uuid4()),
    }


def test_a_line_grown_at_its_location_is_one_plan_line_holding_both_reservations():
    # given a line reserved at WH1, grown by an edit with a second reservation there
    first, grown = allocation("1", "WH1", 2), allocation("1", "WH1", 3)
    # when the plans are made
    [(_, location, lines, strategy)] = plans_for(uuid4(), [first, grown, allocation("2", "WH1", 1)])
    # then the plan has one line per order line, the grown one with both quantities
    assert (location, strategy) == ("WH1", "single_warehouse")
    assert [(x.line_id, x.allocated) for x in lines] == [("1", 5), ("2", 1)]
    assert str(lines[0].reservation_id) == first["reservation_id"]


def test_a_line_held_at_two_locations_is_in_both_plans():
    plans = plans_for(uuid4(), [allocation("1", "WH1", 2), allocation("1", "WH2", 1)])
    assert [(p[1], [(x.line_id, x.allocated) for x in p[2]], p[3]) for p in plans] == [
        ("WH1", [("1", 2)], "split_shipment"),
        ("WH2", [("1", 1)], "split_shipment"),
    ]
