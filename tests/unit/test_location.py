"""Location: given events, when a decision runs, then these events or this error."""

import pytest

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.location.decide import deactivate_location, register_location, require_active
from domain.location.events import LocationDeactivated, LocationRegistered
from domain.location.state import LOCATION

REGISTERED = LocationRegistered(code="WH1", name="Main", type="warehouse", priority=1)


def given(*events):
    return LOCATION.fold(events)


class TestRegister:
    def test_a_new_code_is_registered(self):
        assert register_location(given(), "WH1", "Main", "warehouse", 1) == [REGISTERED]

    def test_an_existing_code_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            register_location(given(REGISTERED), "WH1", "Main", "warehouse", 1)
        assert e.value.code == "location_exists"

    def test_a_negative_priority_is_invalid(self):
        with pytest.raises(InvalidCommand):
            register_location(given(), "WH1", "Main", "warehouse", -1)


class TestDeactivate:
    def test_an_active_location_is_deactivated(self):
        assert deactivate_location(given(REGISTERED), "WH1", "closing") == [
            LocationDeactivated(reason="closing")
        ]

    def test_an_unknown_location_is_not_found(self):
        with pytest.raises(NotFound):
            deactivate_location(given(), "WH1", "closing")

    def test_an_inactive_location_cannot_be_deactivated_again(self):
        state = given(REGISTERED, LocationDeactivated(reason="x"))
        with pytest.raises(Conflict) as e:
            require_active(state, "WH1")
        assert e.value.code == "location_inactive"
