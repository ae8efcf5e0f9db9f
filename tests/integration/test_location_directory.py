"""The write side's directory of locations folds the Location streams by position: it sees a
location as soon as it is registered, follows deactivation, and reads nothing new when
nothing changed."""

from __future__ import annotations

from uuid import uuid4

from commands.context import CommandContext
from commands.location_directory import LocationDirectory
from domain.location.commands import DeactivateLocation, RegisterLocation
from tests.factories import send


def _code() -> str:
    return f"LD-{uuid4().hex[:8]}"


def test_a_registered_location_is_known_to_the_next_decision(container):
    # Given a directory that has caught up
    directory = LocationDirectory(container.store)
    directory.refresh()
    seen = directory.position
    # When a location is registered
    code = _code()
    written = send(
        container,
        RegisterLocation(code=code, name=code, type="store", priority=3),
        CommandContext.new(),
    )
    # Then the very next read knows it, with its priority, and the position moved to its event
    assert directory.active()[code] == 3
    assert directory.position == written.position > seen


def test_a_deactivated_location_is_no_longer_offered(container):
    directory = LocationDirectory(container.store)
    code = _code()
    ctx = CommandContext.new()
    send(container, RegisterLocation(code=code, name=code, type="warehouse", priority=1), ctx)
    assert code in directory.active()
    send(container, DeactivateLocation(code=code, reason="closed"), ctx)
    assert code not in directory.active()


def test_nothing_new_reads_nothing_and_preference_is_priority_then_code(container):
    directory = LocationDirectory(container.store)
    ctx = CommandContext.new()
    tag = uuid4().hex[:6]
    for code, priority in ((f"LD-{tag}-b", 0), (f"LD-{tag}-a", 0), (f"LD-{tag}-c", 7)):
        send(
            container, RegisterLocation(code=code, name=code, type="store", priority=priority), ctx
        )
    mine = [c for c in directory.by_preference() if c.startswith(f"LD-{tag}")]
    assert mine == [f"LD-{tag}-a", f"LD-{tag}-b", f"LD-{tag}-c"]
    position = directory.position
    directory.refresh()
    assert directory.position == position
