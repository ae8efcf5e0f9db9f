"""Location: given events, when a decision runs, then these events or this error."""

import pytest
from pydantic import ValidationError

from domain.errors import Conflict, NotFound
from domain.location.commands import DeactivateLocation, RegisterLocation
from domain.location.decide import deactivate_location, register_location, require_active
from domain.location.events import LocationDeactivated, LocationRegistered
from domain.location.state import LOCATION

REGISTERED = LocationRegistered(code="WH1", name="Main", type="warehouse", priority=1)
REGISTER = RegisterLocation(code="WH1", name="Main", type="warehouse", priority=1)
CLOSE = DeactivateLocation(code="WH1", reason="closing")


def given(*events):
    return LOCATION.fold(events)


class TestRegister:
    def test_a_new_code_is_registered(self):
        assert register_location(given(), REGISTER) == [REGISTERED]

    def test_an_existing_code_is_a_conflict(self):
        with pytest.raises(Conflict) as e:
            register_location(given(REGISTERED), REGISTER)
        assert e.value.code == "location_exists"

    def test_a_negative_priority_is_refused_by_the_command_itself(self):
        assert RegisterLocation(code="WH1", name="Main", type="warehouse", priority=0)
        with pytest.raises(ValidationError):
            RegisterLocation(code="WH1", name="Main", type="warehouse", priority=-1)


class TestDeactivate:
    def test_an_active_location_is_deactivated(self):
        assert deactivate_location(given(REGISTERED), CLOSE) == [
            LocationDeactivated(reason="closing")
        ]

    def test_an_unknown_location_is_not_found(self):
        with pytest.raises(NotFound):
            deactivate_location(given(), CLOSE)

    def test_an_inactive_location_cannot_be_deactivated_again(self):
        state = given(REGISTERED, LocationDeactivated(reason="x"))
        with pytest.raises(Conflict) as e:
            require_active(state, "WH1")
        assert e.value.code == "location_inactive"
