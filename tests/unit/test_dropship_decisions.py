"""Vendors, dropship locations and dropship requests, no database: given events, when a
decision, then events or an error; and a plan at a dropship location has strategy
``dropship``."""

from __future__ import annotations

from uuid import UUID

import pytest

from commands.fulfillment import plans_for
from domain.dropship import decide as dropship
from domain.dropship.events import DropshipRequested, DropshipShipped, RequestedLine
from domain.dropship.state import DROPSHIP
from domain.errors import Conflict, InvalidCommand
from domain.location.commands import RegisterLocation
from domain.location.decide import register_location
from domain.location.state import LOCATION
from domain.vendor import decide as vendors
from domain.vendor.commands import RegisterVendor
from domain.vendor.events import VendorRegistered
from domain.vendor.state import VENDOR

V = UUID("1e2d3c4b-5a69-4788-9a0b-c1d2e3f40516")
ORDER = UUID("2e2d3c4b-5a69-4788-9a0b-c1d2e3f40516")
PLAN = UUID("3e2d3c4b-5a69-4788-9a0b-c1d2e3f40516")
SHIPMENT = UUID("4e2d3c4b-5a69-4788-9a0b-c1d2e3f40516")
LINES = [
    RequestedLine(line_id="1", sku="A", quantity=2),
    RequestedLine(line_id="2", sku="B", quantity=1),
]


class TestVendor:
    def test_registration(self):
        c = RegisterVendor(name="Drop Co", email="ops@drop.example", lead_time_days=3)
        assert vendors.register(VENDOR.fold([]), c, vendor_id=V, by="admin") == [
            VendorRegistered(
                vendor_id=V, name="Drop Co", email="ops@drop.example", lead_time_days=3,
                registered_by="admin",
            )
        ]  # fmt: skip

    def test_a_bad_email_is_refused(self):
        c = RegisterVendor(name="Drop Co", email="nope", lead_time_days=3)
        with pytest.raises(InvalidCommand) as e:
            vendors.register(VENDOR.fold([]), c, vendor_id=V, by="admin")
        assert e.value.code == "invalid_email"

    def test_an_existing_vendor_is_a_conflict(self):
        c = RegisterVendor(name="Drop Co", email="ops@drop.example", lead_time_days=3)
        state = VENDOR.fold(vendors.register(VENDOR.fold([]), c, vendor_id=V, by="a"))
        with pytest.raises(Conflict):
            vendors.register(state, c, vendor_id=V, by="a")


class TestDropshipLocation:
    def test_a_dropship_location_carries_its_vendor(self):
        c = RegisterLocation(code="DS-1", name="Drop", type="dropship", priority=5, vendor_id=V)
        [event] = register_location(LOCATION.initial(), c)
        assert event.vendor_id == V
        assert LOCATION.fold([event]).vendor_id == V

    def test_a_dropship_location_without_a_vendor_is_refused(self):
        c = RegisterLocation(code="DS-1", name="Drop", type="dropship", priority=5)
        with pytest.raises(InvalidCommand) as e:
            register_location(LOCATION.initial(), c)
        assert e.value.code == "vendor_required"

    def test_a_warehouse_with_a_vendor_is_refused(self):
        c = RegisterLocation(code="WH-1", name="WH", type="warehouse", priority=5, vendor_id=V)
        with pytest.raises(InvalidCommand) as e:
            register_location(LOCATION.initial(), c)
        assert e.value.code == "vendor_not_allowed"

    def test_an_older_registration_reads_without_a_vendor(self):
        from domain.location.events import LocationRegistered

        old = LocationRegistered.model_validate(
            {"code": "WH-9", "name": "Old", "type": "warehouse", "priority": 1}
        )
        assert LOCATION.fold([old]).vendor_id is None


def allocation(location: str, line_id: str = "1") -> dict:
    return {"line_id": line_id, "sku": "A", "location": location, "quantity": 1,
            "reservation_id": "5e2d3c4b-5a69-4788-9a0b-c1d2e3f40516"}  # fmt: skip


class TestPlanStrategy:
    def test_a_plan_at_a_dropship_location_is_a_dropship_plan(self):
        plans = plans_for(ORDER, [allocation("DS-1"), allocation("WH-1", "2")], {"DS-1"})
        assert {loc: strategy for _id, loc, _l, strategy in plans} == {
            "DS-1": "dropship",
            "WH-1": "split_shipment",
        }

    def test_without_dropship_locations_the_strategies_are_as_before(self):
        [(_id, _loc, _lines, strategy)] = plans_for(ORDER, [allocation("WH-1")])
        assert strategy == "single_warehouse"


REQUESTED = DropshipRequested(
    order_id=ORDER, plan_id=PLAN, vendor_id=V, location="DS-1", lines=LINES, requested_by="p"
)


class TestDropshipRequest:
    def request(self, state):
        return dropship.request(
            state, order_id=ORDER, plan_id=PLAN, vendor_id=V, location="DS-1", lines=LINES, by="p"
        )

    def test_a_plan_asks_its_vendor_once(self):
        assert self.request(DROPSHIP.initial()) == [REQUESTED]
        assert self.request(DROPSHIP.fold([REQUESTED])) == []
        assert DROPSHIP.fold([REQUESTED]).status == "requested"

    def test_a_shipment_counts_once_then_its_delivery_once(self):
        state = DROPSHIP.fold([REQUESTED])
        shipped = dropship.record_shipped(state, SHIPMENT, 3)
        assert shipped == [DropshipShipped(shipment_id=SHIPMENT, units=3)]
        state = DROPSHIP.fold([REQUESTED, *shipped])
        assert state.status == "shipped"
        assert dropship.record_shipped(state, SHIPMENT, 3) == []
        delivered = dropship.record_delivered(state, SHIPMENT, 3)
        state = DROPSHIP.fold([REQUESTED, *shipped, *delivered])
        assert state.status == "delivered"
        assert dropship.record_delivered(state, SHIPMENT, 3) == []

    def test_a_partial_shipment(self):
        state = DROPSHIP.fold([REQUESTED, DropshipShipped(shipment_id=SHIPMENT, units=1)])
        assert state.status == "partially_shipped"

    def test_nothing_is_recorded_for_a_request_never_made_or_a_shipment_not_shipped(self):
        assert dropship.record_shipped(DROPSHIP.initial(), SHIPMENT, 1) == []
        assert dropship.record_delivered(DROPSHIP.fold([REQUESTED]), SHIPMENT, 1) == []
