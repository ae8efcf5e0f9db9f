"""Capabilities (``composition/capabilities.py``) merge into one program, and a clash is refused:
a capability can add, never silently replace what another declared."""

from __future__ import annotations

from typing import ClassVar

import pytest

from composition.bootstrap import CORE
from composition.capabilities import Capability, combine
from domain.command import Command
from domain.events import DomainEvent
from projections.locations import LocationsView


class Ping(Command):
    pass


class Pinged(DomainEvent):
    stream_type: ClassVar[str] = "ping"


def handle(w, c, ctx):
    raise AssertionError("never run")


PING = Capability(name="ping", events=(Pinged,), handlers={Ping: handle})


def test_capabilities_merge_into_one_set_of_parts():
    parts = combine([CORE, PING])
    assert parts.events[-1] is Pinged and set(CORE.events) < set(parts.events)
    assert parts.handlers[Ping] is handle and set(CORE.handlers) < set(parts.handlers)
    assert [p.name for p in parts.projections()] == [p.name for p in CORE.projections()]


@pytest.mark.parametrize(
    ("clash", "what"),
    [
        (Capability(name="ping"), "capability"),
        (Capability(name="other", events=(Pinged,)), "event"),
        (Capability(name="other", handlers={Ping: handle}), "command"),
        (Capability(name="other", owned={"pings": "a"}), "owned resource"),
    ],
)
def test_a_clash_is_refused(clash: Capability, what: str):
    first = Capability(name="ping", events=(Pinged,), handlers={Ping: handle}, owned={"pings": "b"})
    with pytest.raises(ValueError, match=what):
        combine([first, clash])


def test_a_view_declared_twice_is_refused():
    twice = Capability(name="again", projections=lambda: [LocationsView()])
    with pytest.raises(ValueError, match="view declared by more than one capability: locations"):
        combine([CORE, twice]).projections()
