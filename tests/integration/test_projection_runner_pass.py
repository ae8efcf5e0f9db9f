"""The live pass of the projection runner against real PostgreSQL: every view advanced in one
transaction, each with only its own events after its own position, exactly once; a view that
raises, a view another process holds and a batch that hits its limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

import psycopg
import pytest
from psycopg import Cursor, sql

from domain.events import DomainEvent
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.recorded import EventMeta, RecordedEvent
from eventstore.store import EventStore, StreamAppend
from projections.base import Projection, live_schema
from projections.runner import ProjectionRunner, lock_key

TICK, TOCK = "passtest.Ticked", "passtest.Tocked"
POISON = 666


class Ticked(DomainEvent):
    stream_type: ClassVar[str] = "passtest"
    n: int


class Tocked(DomainEvent):
    stream_type: ClassVar[str] = "passtest"
    n: int


class SeenView(Projection):
    """Records every event it is given, one row each; raises on ``n == POISON`` if asked to."""

    ddl = "CREATE TABLE {schema}.seen (position bigint NOT NULL, type text NOT NULL, n int);"

    def __init__(self, name: str, topics: tuple[str, ...], fails_on_poison: bool = False):
        self.name, self.topics, self.fails_on_poison = name, topics, fails_on_poison

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        if self.fails_on_poison and any(e.data["n"] == POISON for e in events):
            raise ValueError("a poisoned event")
        cur.executemany(
            sql.SQL("INSERT INTO {}.seen VALUES (%s, %s, %s)").format(sql.Identifier(schema)),
            [(e.position, e.type, e.data["n"]) for e in events],
        )


META = EventMeta(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "pass-test", "corr", "cause")


@pytest.fixture
def store(container) -> EventStore:
    return EventStore(container.store.recorder, EventMapper(EventRegistry([Ticked, Tocked])))


def views_named(*specs: tuple[str, tuple[str, ...]], poisoned: str = "") -> list[SeenView]:
    """Fresh views (unique schema names) so that tests sharing the database don't meet."""
    tag = uuid4().hex[:8]
    return [SeenView(f"pt_{tag}_{n}", topics, fails_on_poison=n == poisoned) for n, topics in specs]


def runner_of(container, store: EventStore, views, **kwargs) -> ProjectionRunner:
    runner = ProjectionRunner(container.pool, store.mapper, views, **kwargs)
    runner.ensure_schemas()
    return runner


def write(store: EventStore, *events: DomainEvent) -> list[int]:
    """Each event in its own stream and transaction; return their positions."""
    return [store.append([StreamAppend(uuid4(), 0, [e])], META) for e in events]


def given_position(container, view: Projection, position: int) -> None:
    with container.pool.connection() as conn:
        conn.execute(
            sql.SQL("UPDATE {}.tracking SET position = %s").format(
                sql.Identifier(live_schema(view.name))
            ),
            (position,),
        )


def seen(container, view: Projection) -> list[tuple[int, str, int]]:
    with container.pool.connection() as conn:
        return conn.execute(
            sql.SQL("SELECT position, type, n FROM {}.seen ORDER BY position").format(
                sql.Identifier(live_schema(view.name))
            )
        ).fetchall()


def test_one_pass_gives_each_view_exactly_its_events_after_its_position(container, store):
    views = views_named(("ticks", (TICK,)), ("tocks", (TOCK,)), ("both", (TICK, TOCK)))
    ticks, tocks, both = views
    runner = runner_of(container, store, views)
    start = store.head()
    p = write(store, Ticked(n=1), Tocked(n=2), Ticked(n=3), Tocked(n=4), Ticked(n=5))
    for view, position in ((ticks, start), (tocks, p[1]), (both, p[2])):
        given_position(container, view, position)

    assert runner.run_pass() > 0

    assert seen(container, ticks) == [(p[0], TICK, 1), (p[2], TICK, 3), (p[4], TICK, 5)]
    assert seen(container, tocks) == [(p[3], TOCK, 4)]
    assert seen(container, both) == [(p[3], TOCK, 4), (p[4], TICK, 5)]
    assert {runner.position(v.name) for v in views} == {store.head()}
    # and a second pass finds nothing more to do and applies nothing twice
    assert runner.run_pass() == 0
    assert len(seen(container, both)) == 2


def test_a_view_whose_apply_raises_does_not_hold_the_others_back(container, store, caplog):
    views = views_named(
        ("ticks", (TICK,)), ("poisoned", (TICK,)), ("tocks", (TOCK,)), poisoned="poisoned"
    )
    ticks, poisoned, tocks = views
    runner = runner_of(container, store, views)
    start = store.head()
    for view in views:
        given_position(container, view, start)
    p = write(store, Ticked(n=1), Ticked(n=POISON), Tocked(n=3))

    with caplog.at_level(logging.ERROR, logger="projections.runner"):
        runner.live_pass()

    assert [r[0] for r in seen(container, ticks)] == [p[0], p[1]]
    assert [r[0] for r in seen(container, tocks)] == [p[2]]
    assert runner.position(ticks.name) == runner.position(tocks.name) == store.head()
    assert runner.position(poisoned.name) == start and seen(container, poisoned) == []
    assert "a poisoned event" in caplog.text

    # and later passes keep the others moving while the poisoned view stays where it was
    q = write(store, Ticked(n=4), Tocked(n=5))
    runner.live_pass()
    assert [r[0] for r in seen(container, ticks)] == [p[0], p[1], q[0]]
    assert [r[0] for r in seen(container, tocks)] == [p[2], q[1]]
    assert runner.position(poisoned.name) == start


def test_a_view_another_process_holds_is_skipped_and_left_for_later(container, store, database_url):
    views = views_named(("free", (TICK,)), ("held", (TICK,)))
    free, held = views
    runner = runner_of(container, store, views)
    start = store.head()
    for view in views:
        given_position(container, view, start)
    p = write(store, Ticked(n=1), Ticked(n=2))

    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key(held.name),))
        runner.run_pass()
        assert runner.position(held.name) == start and seen(container, held) == []
        assert [r[0] for r in seen(container, free)] == p
        other.execute("SELECT pg_advisory_unlock(%s)", (lock_key(held.name),))

    runner.run_pass()
    assert [r[0] for r in seen(container, held)] == p
    assert [r[0] for r in seen(container, free)] == p
    assert runner.position(held.name) == store.head()


def test_a_pass_that_hits_the_batch_limit_moves_positions_to_the_last_event_fetched(
    container, store
):
    views = views_named(("ticks", (TICK,)), ("both", (TICK, TOCK)))
    ticks, both = views
    runner = runner_of(container, store, views, batch_size=3)
    start = store.head()
    for view in views:
        given_position(container, view, start)
    p = write(store, Ticked(n=1), Tocked(n=2), Ticked(n=3), Ticked(n=4), Tocked(n=5))

    runner.run_pass()

    assert runner.position(ticks.name) == runner.position(both.name) == p[2]
    assert [r[0] for r in seen(container, ticks)] == [p[0], p[2]]
    assert [r[0] for r in seen(container, both)] == p[:3]

    runner.run_pass()
    assert runner.position(ticks.name) == runner.position(both.name) == store.head()
    assert [r[0] for r in seen(container, ticks)] == [p[0], p[2], p[3]]
    assert [r[0] for r in seen(container, both)] == p


def test_a_view_far_behind_takes_one_batch_while_the_views_ahead_reach_the_head(container, store):
    views = views_named(("behind", (TICK,)), ("ahead", (TICK,)))
    behind, ahead = views
    runner = runner_of(container, store, views, batch_size=2)
    start = store.head()
    p = write(store, *(Ticked(n=i) for i in range(5)))
    given_position(container, behind, start)
    given_position(container, ahead, p[3])

    runner.run_pass()

    assert [r[0] for r in seen(container, behind)] == p[:2]
    assert runner.position(behind.name) == p[1]
    assert [r[0] for r in seen(container, ahead)] == [p[4]]
    assert runner.position(ahead.name) == store.head()


def test_two_runners_passing_at_once_apply_each_event_once(container, store):
    views = views_named(("ticks", (TICK,)), ("both", (TICK, TOCK)), ("tocks", (TOCK,)))
    first, second = runner_of(container, store, views), runner_of(container, store, views)
    start = store.head()
    for view in views:
        given_position(container, view, start)
    written: list[int] = []
    done = threading.Event()

    def writer() -> None:
        for i in range(60):
            written.extend(write(store, Ticked(n=i) if i % 3 else Tocked(n=i)))
        done.set()

    def passes(runner: ProjectionRunner) -> None:
        while not done.is_set():
            runner.live_pass()

    threads = [threading.Thread(target=f, args=a) for f, a in ((writer, ()),)] + [
        threading.Thread(target=passes, args=(r,)) for r in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    first.catch_up([v.name for v in views])

    ticks, both, tocks = (seen(container, v) for v in views)
    assert len(written) == 60
    assert [r[0] for r in both] == sorted(written)
    assert [r[0] for r in ticks] == sorted(p for i, p in enumerate(written) if i % 3)
    assert [r[0] for r in tocks] == sorted(p for i, p in enumerate(written) if not i % 3)


def test_a_reader_waiting_for_its_write_cuts_the_loops_gather_short(container, store, database_url):
    views = views_named(("ticks", (TICK,)))
    runner = runner_of(container, store, views, gather_s=10.0)
    given_position(container, views[0], store.head())
    runner.start(database_url)
    try:
        first = write(store, Ticked(n=1))[0]
        assert runner.wait_for(views[0].name, first, timeout_s=5.0)  # the loop now gathers
        later = write(store, Ticked(n=2))[0]
        started = time.monotonic()

        assert runner.wait_for(views[0].name, later, timeout_s=5.0)

        assert time.monotonic() - started < 2.0
    finally:
        runner.stop()
    assert [r[0] for r in seen(container, views[0])] == [first, later]


def test_a_commit_does_not_cut_the_gather_short_a_reader_in_another_process_does(
    container, store, database_url
):
    views = views_named(("ticks", (TICK,)))
    name = views[0].name
    runner = runner_of(container, store, views, gather_s=3.0)
    given_position(container, views[0], store.head())
    runner.start(database_url)
    # A runner that does not run the views here: as the API process's is
    reader = runner_of(container, store, views, gather_s=3.0)
    try:
        first = write(store, Ticked(n=1))[0]
        deadline = time.monotonic() + 5
        while runner.position(name) < first and time.monotonic() < deadline:
            time.sleep(0.01)  # (looked at without asking the loop to hurry)
        assert runner.position(name) == first  # a pass carried it: the loop now gathers
        # When an event is committed during the pause
        later = write(store, Ticked(n=2))[0]
        # Then the loop gathers on: the commit woke it, but its pass waits for the pause
        time.sleep(1.0)
        assert runner.position(name) < later
        # When a reader elsewhere waits for it
        started = time.monotonic()
        assert reader.wait_for(name, later, timeout_s=5.0)
        # Then its NOTIFY ends the pause (of 3 s) at once
        assert time.monotonic() - started < 1.0
    finally:
        runner.stop()
    assert [r[0] for r in seen(container, views[0])] == [first, later]


def _analyzed(container, schema: str) -> bool:
    """Whether ``schema.seen`` was analyzed by a statement (not by autovacuum)."""
    with container.pool.connection() as conn:
        row = conn.execute(
            "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE schemaname = %s AND relname = 'seen'",
            (schema,),
        ).fetchone()
    return bool(row and row[0])


def test_a_view_given_enough_events_is_analyzed_by_the_runner(container, store):
    """Given a view whose tables were never analyzed, when the live pass and a view's own run
    give it events past the threshold, then its tables have statistics (``ANALYZE`` ran after
    the commit), and below the threshold they have none."""
    (live,) = views_named(("a", (TICK,)))
    (alone,) = views_named(("b", (TICK,)))
    (few,) = views_named(("c", (TICK,)))
    runner = runner_of(container, store, [live, alone, few], batch_size=50)
    runner.statistics.first = 30
    write(store, *(Ticked(n=i) for i in range(40)))
    runner.run_pass([live.name])
    runner.run_once(alone.name)
    # the third view, with the first threshold back at 1,000, is given 10
    runner.statistics.first = 1_000
    runner.run_once(few.name, limit=10)
    assert _analyzed(container, live_schema(live.name))
    assert _analyzed(container, live_schema(alone.name))
    assert not _analyzed(container, live_schema(few.name))
    with container.pool.connection() as conn:
        tuples = conn.execute(
            sql.SQL("SELECT reltuples FROM pg_class WHERE oid = '{}.seen'::regclass").format(
                sql.Identifier(live_schema(live.name))
            )
        ).fetchone()[0]
    assert tuples >= 40  # the planner now knows the table's size


def test_a_rebuilt_view_goes_live_with_statistics(container, store):
    (view,) = views_named(("r", (TICK,)))
    runner = runner_of(container, store, [view])
    write(store, *(Ticked(n=i) for i in range(5)))
    runner.rebuild(view.name)
    assert _analyzed(container, live_schema(view.name))
