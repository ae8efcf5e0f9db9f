"""A location registered through the command layer shows in its read model."""

from commands.context import CommandContext
from domain.errors import Conflict
from domain.location.commands import RegisterLocation
from projections.locations import list_locations
from tests.factories import send


def test_registered_location_is_listed(container):
    ctx = CommandContext.new("tester")
    result = send(
        container,
        RegisterLocation(code="WH-SMOKE", name="Smoke", type="warehouse", priority=1),
        ctx,
    )
    assert result.version == 1 and result.position > 0
    container.runner.catch_up(["locations"])
    assert "WH-SMOKE" in [r["code"] for r in list_locations(container.pool)]


def test_registering_a_code_twice_is_a_conflict(container):
    ctx = CommandContext.new("tester")
    send(container, RegisterLocation(code="WH-TWICE", name="A", type="store", priority=1), ctx)
    head = container.store.head()
    try:
        send(container, RegisterLocation(code="WH-TWICE", name="B", type="store", priority=1), ctx)
        raise AssertionError("expected a conflict")
    except Conflict as e:
        assert e.code == "location_exists"
    assert container.store.head() == head
