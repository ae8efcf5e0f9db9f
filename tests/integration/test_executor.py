"""The shared load-decide-append loop against real PostgreSQL: If-Match, idempotency, no-ops."""

import pytest

from commands.context import CommandContext, Idempotency
from commands.executor import execute
from domain.errors import IdempotencyKeyReused, VersionMismatch
from domain.ids import location_stream
from domain.location.commands import DeactivateLocation, RegisterLocation
from domain.location.state import LOCATION
from tests.factories import send


def _code(tag: str) -> str:
    import uuid

    return f"EX-{tag}-{uuid.uuid4().hex[:8]}"


def test_a_stale_if_match_is_refused_and_writes_nothing(container):
    code = _code("ifm")
    send(
        container,
        RegisterLocation(code=code, name="A", type="store", priority=1),
        CommandContext.new("t"),
    )
    head = container.store.head()
    with pytest.raises(VersionMismatch) as e:
        send(
            container,
            DeactivateLocation(code=code, reason="x"),
            CommandContext.new("t", expected_version=5),
        )
    assert e.value.actual == 1
    assert container.store.head() == head


def test_a_matching_if_match_is_accepted(container):
    code = _code("ifm-ok")
    send(
        container,
        RegisterLocation(code=code, name="A", type="store", priority=1),
        CommandContext.new("t"),
    )
    result = send(
        container,
        DeactivateLocation(code=code, reason="x"),
        CommandContext.new("t", expected_version=1),
    )
    assert result.version == 2


def test_an_idempotent_repeat_writes_once_and_answers_the_same(container):
    code = _code("idem")
    key = Idempotency(principal="p1", key=code, request_hash="h1")
    first = send(
        container,
        RegisterLocation(code=code, name="A", type="store", priority=1),
        CommandContext.new("t", idempotency=key),
    )
    head = container.store.head()
    again = send(
        container,
        RegisterLocation(code=code, name="A", type="store", priority=1),
        CommandContext.new("t", idempotency=key),
    )
    assert (again.stream_id, again.version, again.position) == (
        first.stream_id,
        first.version,
        first.position,
    )
    assert again.replayed and container.store.head() == head


def test_the_same_key_with_another_request_is_refused(container):
    code = _code("idem2")
    key = Idempotency(principal="p1", key=code, request_hash="h1")
    send(
        container,
        RegisterLocation(code=code, name="A", type="store", priority=1),
        CommandContext.new("t", idempotency=key),
    )
    other = Idempotency(principal="p1", key=code, request_hash="h2")
    with pytest.raises(IdempotencyKeyReused):
        send(
            container,
            RegisterLocation(code=code, name="B", type="store", priority=1),
            CommandContext.new("t", idempotency=other),
        )


def test_keys_are_scoped_per_principal(container):
    code = _code("scope")
    send(
        container,
        RegisterLocation(code=code, name="A", type="store", priority=1),
        CommandContext.new("t", idempotency=Idempotency("p1", code, "h1")),
    )
    second = send(
        container,
        RegisterLocation(code=code + "b", name="A", type="store", priority=1),
        CommandContext.new("t", idempotency=Idempotency("p2", code, "h1")),
    )
    assert not second.replayed


def test_a_key_used_by_a_request_that_changed_nothing_is_taken_all_the_same(container):
    code = _code("noop")
    ctx = CommandContext.new("t")
    send(container, RegisterLocation(code=code, name="A", type="store", priority=1), ctx)
    head = container.store.head()

    def nothing(ctx):  # noqa: ANN001, ANN202 - a command that finds nothing to change
        return execute(container.store, LOCATION, location_stream(code), lambda s, v: [], ctx)

    key = Idempotency(principal="p1", key=code, request_hash="h1")
    first = nothing(CommandContext.new("t", idempotency=key))
    again = nothing(CommandContext.new("t", idempotency=key))
    assert again.replayed and (again.version, again.position) == (first.version, first.position)
    with pytest.raises(IdempotencyKeyReused):
        nothing(CommandContext.new("t", idempotency=Idempotency("p1", code, "h2")))
    assert container.store.head() == head
