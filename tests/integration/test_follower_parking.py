"""The follower base against real PostgreSQL: the runner's live pass parks a poisoned event and
the later events of its stream (and keeps parking them behind in later passes) while other
streams move on; a string the view's column cannot hold is such a poison; an infrastructure error
is retried and never parked; a process manager moves its position past events it ignores."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import Cursor, sql
from psycopg_pool import PoolClosed, PoolTimeout

from commands.process_manager import ProcessManager, ProcessRunner, Trigger
from domain.events import DomainEvent
from eventstore.follower import RetryPolicy, is_infrastructure
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.parking import ParkingLot
from eventstore.recorded import EventMeta, RecordedEvent
from eventstore.store import EventStore, StreamAppend
from projections.base import Projection, live_schema
from projections.runner import ProjectionRunner

FAST = RetryPolicy(attempts=3, backoff_s=0.01)
POISON = 666
META = EventMeta(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "park-test", "corr", "cause")


class Noted(DomainEvent):
    stream_type: ClassVar[str] = "parktest"
    n: int
    text: str = ""


class NoteView(Projection):
    """One row per event: its position, stream, number and text (at most 16 characters)."""

    topics = ("parktest.Noted",)
    ddl = (
        "CREATE TABLE {schema}.notes (position bigint PRIMARY KEY, stream uuid NOT NULL, "
        "n int NOT NULL, text varchar(16) NOT NULL);"
    )

    def __init__(self, fails_on_poison: bool = True):
        self.name = f"pk_{uuid4().hex[:8]}"
        self.fails_on_poison = fails_on_poison
        self.infra_failures = 0  # raise this many infrastructure errors first

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        if self.infra_failures:
            self.infra_failures -= 1
            raise psycopg.errors.AdminShutdown("terminating connection due to administrator")
        if self.fails_on_poison and any(e.data["n"] == POISON for e in events):
            raise ValueError("a poisoned event")
        cur.executemany(
            sql.SQL("INSERT INTO {}.notes VALUES (%s, %s, %s, %s)").format(sql.Identifier(schema)),
            [(e.position, e.stream_id, e.data["n"], e.data["text"]) for e in events],
        )


@pytest.fixture
def store(container) -> EventStore:
    return EventStore(container.store.recorder, EventMapper(EventRegistry([Noted])))


def runner_for(container, store, view) -> ProjectionRunner:
    runner = ProjectionRunner(
        container.pool,
        store.mapper,
        [view],
        parking=ParkingLot(container.pool.connection),
        retry=FAST,
    )
    runner.ensure_schemas()
    with container.pool.connection() as conn:
        conn.execute(
            sql.SQL("UPDATE {}.tracking SET position = %s").format(
                sql.Identifier(live_schema(view.name))
            ),
            (store.head(),),
        )
    return runner


class Streams:
    def __init__(self, store: EventStore):
        self.store, self.versions = store, {}

    def write(self, stream: UUID, n: int, text: str = "") -> int:
        v = self.versions.get(stream, 0)
        self.versions[stream] = v + 1
        return self.store.append([StreamAppend(stream, v, [Noted(n=n, text=text)])], META)


def notes(container, view) -> list[int]:
    with container.pool.connection() as conn:
        return [
            r[0]
            for r in conn.execute(
                sql.SQL("SELECT position FROM {}.notes ORDER BY position").format(
                    sql.Identifier(live_schema(view.name))
                )
            )
        ]


def passes_until(runner: ProjectionRunner, done, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the runner did not get there"
        runner.live_pass()
        time.sleep(0.01)


def test_the_live_pass_parks_a_poisoned_stream_and_keeps_parking_it_behind(container, store):
    # given a view that raises on one event of stream A, and a stream B beside it
    view = NoteView()
    runner = runner_for(container, store, view)
    s, a, b = Streams(store), uuid4(), uuid4()
    a1, b1, a2, b2, a3 = (
        s.write(a, 1),
        s.write(b, 10),
        s.write(a, POISON),
        s.write(b, 11),
        s.write(a, 3),
    )

    # when the live loop's passes run until the view reaches the head
    passes_until(runner, lambda: runner.position(view.name) >= a3)

    # then A's poison and A's later event are parked, everything else is applied
    assert notes(container, view) == [a1, b1, b2]
    parked = runner.parking.list(view.name)
    assert [(p.position, p.behind) for p in parked] == [(a2, None), (a3, parked[0].id)]
    assert parked[0].attempts == FAST.attempts and "a poisoned event" in parked[0].error

    # and later events of A are parked behind it in the one-transaction pass, B's applied
    a4, b3 = s.write(a, 4), s.write(b, 12)
    assert runner.run_pass() > 0
    assert notes(container, view) == [a1, b1, b2, b3]
    assert [p.position for p in runner.parking.list(view.name)] == [a2, a3, a4]

    # when the view is fixed and the stream retried, it is applied in order and cleared
    view.fails_on_poison = False
    outcome = runner.parking.retry(parked[1].id)
    assert (outcome.applied, outcome.still_parked) == (3, 0)
    assert notes(container, view) == sorted([a1, b1, b2, b3, a2, a3, a4])
    assert runner.parking.list(view.name) == []
    assert [s.parked for s in runner.status()] == [0]


def test_a_string_the_view_cannot_store_is_parked_not_retried_forever(container, store):
    # (not a NUL: the event would stay in the shared test database and trouble other readers)
    view = NoteView(fails_on_poison=False)
    runner = runner_for(container, store, view)
    s, long, good = Streams(store), uuid4(), uuid4()
    bad = s.write(long, 1, "x" * 100)
    fine = s.write(good, 2, "Ada")

    passes_until(runner, lambda: runner.position(view.name) >= fine)

    assert notes(container, view) == [fine]
    [parked] = runner.parking.list(view.name)
    assert parked.position == bad and "StringDataRightTruncation" in parked.error


def test_a_failed_retry_leaves_the_stream_parked_behind_the_event_that_failed(container, store):
    view = NoteView()
    runner = runner_for(container, store, view)
    s, a = Streams(store), uuid4()
    first, second = s.write(a, 1), s.write(a, POISON)
    with container.pool.connection() as conn:
        ids = [
            ParkingLot.park(conn, view.name, e, "parked by hand", 3)
            for e in store.read_all(after=first - 1, limit=2)
        ]
    with container.pool.connection() as conn:
        conn.execute("UPDATE parked_events SET behind = %s WHERE id = %s", (ids[0], ids[1]))
    runner.catch_up([view.name])

    outcome = runner.parking.retry(ids[0])

    assert (outcome.applied, outcome.still_parked) == (1, 1)
    assert notes(container, view) == [first]
    [left] = runner.parking.list(view.name)
    assert left.position == second and left.behind is None and left.attempts == 4

    # an operator skips it: it is dropped (nothing behind it to release)
    assert runner.parking.skip(left.id).still_parked == 0
    assert runner.parking.list(view.name) == [] and notes(container, view) == [first]


def test_an_infrastructure_error_is_retried_by_the_loop_and_never_parked(
    container, store, database_url
):
    # given a view whose apply meets the database going away more often than the tries
    view = NoteView(fails_on_poison=False)
    view.infra_failures = FAST.attempts * 2
    runner = runner_for(container, store, view)
    runner.max_backoff_s = 0.05
    s = Streams(store)
    written = [s.write(uuid4(), i) for i in range(3)]

    # when the background loop runs
    runner.start(database_url)
    try:
        deadline = time.monotonic() + 20
        while runner.position(view.name) < written[-1]:
            assert time.monotonic() < deadline, "the view never caught up after the outage"
            time.sleep(0.02)
    finally:
        runner.stop()

    # then every event is applied once the outage ends, and nothing was parked
    assert view.infra_failures == 0
    assert notes(container, view) == written
    assert runner.parking.list(view.name) == []


def test_infrastructure_errors_are_told_from_the_events_fault():
    for exc in (
        PoolTimeout("no connection"),
        PoolClosed("closed"),
        psycopg.errors.AdminShutdown("restart"),
        psycopg.errors.LockNotAvailable("lock timeout"),
        psycopg.errors.QueryCanceled("statement timeout"),
        psycopg.OperationalError("connection lost"),
    ):
        assert is_infrastructure(exc), exc
    for exc in (psycopg.errors.UntranslatableCharacter("\\u0000"), ValueError("bad"), KeyError()):
        assert not is_infrastructure(exc), exc
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = PoolTimeout("x")
    assert is_infrastructure(wrapped)


class Ignoring(ProcessManager):
    """Listens for an event type nobody writes."""

    topics = ("parktest.NeverWritten",)

    def __init__(self):
        self.name = f"ignoring-{uuid4().hex[:6]}"

    def handle(self, trigger: Trigger) -> None:
        raise AssertionError("no event of this type exists")


class Flaky(ProcessManager):
    """Fails on its events of one stream; with ``infra`` it fails like a lost connection."""

    topics = ("parktest.Noted",)

    def __init__(self, bad: UUID, infra: int = 0):
        self.name = f"flaky-{uuid4().hex[:6]}"
        self.bad, self.infra, self.handled, self.parked = bad, infra, [], []

    def handle(self, trigger: Trigger) -> None:
        if self.infra:
            self.infra -= 1
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        if trigger.event.stream_id == self.bad:
            raise ValueError("cannot handle this one")
        self.handled.append(trigger.event.position)

    def on_parked(self, trigger: Trigger, error: str) -> None:
        self.parked.append(trigger.event.position)


def tracked(store, name: str) -> int:
    with store.datastore.get_connection() as conn:
        return conn.execute(
            "SELECT position FROM process_tracking WHERE name = %s", (name,)
        ).fetchone()["position"]


def test_a_manager_moves_past_events_it_ignores(container, store):
    Streams(store).write(uuid4(), 1)
    manager = Ignoring()
    runner = ProcessRunner(container.store, [manager])

    runner.run_once(manager.name)

    assert tracked(store, manager.name) == store.head() > 0


def test_an_idle_manager_stores_its_position_at_most_once_a_second(container, store):
    """A write per idle manager per commit would cost a transaction per order for each: the
    position a manager moves past events it ignores is stored at most once per interval (or
    when it fell far behind), so it rescans at most that much of the log."""
    manager = Ignoring()
    runner = ProcessRunner(container.store, [manager])
    Streams(store).write(uuid4(), 1)
    runner.run_once(manager.name)
    first = tracked(store, manager.name)

    Streams(store).write(uuid4(), 1)
    runner.run_once(manager.name)
    assert tracked(store, manager.name) == first < store.head()  # within the interval

    runner.idle_store_s = 0.0
    runner.run_once(manager.name)
    assert tracked(store, manager.name) == store.head()


def test_a_managers_failing_stream_is_parked_and_the_hook_told(container, store):
    s, bad, good = Streams(store), uuid4(), uuid4()
    start = store.head()
    manager = Flaky(bad)
    runner = ProcessRunner(container.store, [manager], retry=FAST)
    with store.datastore.get_connection() as conn:
        conn.execute(
            "INSERT INTO process_tracking (name, position) VALUES (%s, %s)", (manager.name, start)
        )
    b1, g1, b2, g2 = s.write(bad, 1), s.write(good, 2), s.write(bad, 3), s.write(good, 4)

    runner.catch_up()

    assert manager.handled == [g1, g2]
    assert manager.parked == [b1]
    parked = runner.parking.list(f"process:{manager.name}")
    assert [(p.position, p.behind) for p in parked] == [(b1, None), (b2, parked[0].id)]
    assert tracked(store, manager.name) >= g2
    [status] = runner.status()
    assert status.parked == 2 and status.lag == 0

    manager.bad = None
    outcome = runner.parking.retry(parked[0].id)
    assert (outcome.applied, outcome.still_parked) == (2, 0)
    assert manager.handled == [g1, g2, b1, b2]


def test_a_managers_infrastructure_error_is_retried_and_never_parked(container, store):
    s = Streams(store)
    start = store.head()
    manager = Flaky(uuid4(), infra=FAST.attempts * 2)
    runner = ProcessRunner(container.store, [manager], retry=FAST)
    runner.max_backoff_s = 0.05
    with store.datastore.get_connection() as conn:
        conn.execute(
            "INSERT INTO process_tracking (name, position) VALUES (%s, %s)", (manager.name, start)
        )
    written = [s.write(uuid4(), i) for i in range(3)]

    runner.start(poll_s=0.01)
    try:
        deadline = time.monotonic() + 20
        while manager.handled != written:
            assert time.monotonic() < deadline, f"handled {manager.handled} of {written}"
            time.sleep(0.02)
    finally:
        runner.stop()

    assert runner.parking.list(f"process:{manager.name}") == []


def test_skipping_a_parked_event_releases_the_ones_behind_it(container, store, caplog):
    # given a poisoned event with a later event of its stream parked behind it
    view = NoteView()
    runner = runner_for(container, store, view)
    s, a = Streams(store), uuid4()
    poison, later = s.write(a, POISON), s.write(a, 2)
    passes_until(runner, lambda: runner.position(view.name) >= later)
    first, behind = runner.parking.list(view.name)
    assert (first.position, behind.position, behind.behind) == (poison, later, first.id)

    # when an operator skips the poisoned one
    with caplog.at_level("WARNING", logger="ecom.alerts"):
        outcome = runner.parking.skip(first.id, actor="admin:ops")

    # then it is dropped (and the decision logged), and the event behind it is applied
    assert (outcome.applied, outcome.still_parked) == (1, 0)
    assert notes(container, view) == [later]
    assert runner.parking.list(view.name) == []
    assert "admin:ops skipped parked event" in caplog.text
