"""A location registered through the command layer shows in its read model."""

from commands import locations
from commands.context import CommandContext
from domain.errors import Conflict
from projections.locations import list_locations


def test_registered_location_is_listed(container):
    ctx = CommandContext.new("tester")
    result = locations.register(
        container.store, ctx, code="WH-SMOKE", name="Smoke", type="warehouse", priority=1
    )
    assert result.version == 1 and result.position > 0
    container.runner.catch_up(["locations"])
    assert "WH-SMOKE" in [r["code"] for r in list_locations(container.pool)]


def test_registering_a_code_twice_is_a_conflict(container):
    ctx = CommandContext.new("tester")
    locations.register(container.store, ctx, code="WH-TWICE", name="A", type="store", priority=1)
    head = container.store.head()
    try:
        locations.register(
            container.store, ctx, code="WH-TWICE", name="B", type="store", priority=1
        )
        raise AssertionError("expected a conflict")
    except Conflict as e:
        assert e.code == "location_exists"
    assert container.store.head() == head
