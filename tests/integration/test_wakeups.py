"""Followers wake on commits (``eventstore/wakeups.py``): a commit wakes the subscribers of the
process that follow one of its topics (and those that follow every topic) and says how far it
went; with nothing committed, a started service's process managers and views send (almost) no
queries, and a follower not woken by a commit still moves past it on its next look."""

from __future__ import annotations

import threading
import time
from uuid import uuid4

import psycopg
import pytest

from commands.context import CommandContext
from domain.location.commands import RegisterLocation
from eventstore.follower import EVENTS_TABLE, Follower
from eventstore.wakeups import Wakeups, topic_bit, topic_mask
from tests.conftest import container_of_its_own
from tests.factories import send


@pytest.fixture
def own(database_url):
    with container_of_its_own(database_url, "ecom_wakeups") as container:
        yield container


def _register(container) -> int:
    code = f"WK-{uuid4().hex[:8]}"
    command = RegisterLocation(code=code, name=code, type="store", priority=1)
    return send(container, command, CommandContext.new()).position


def _head_reaches(wakeups: Wakeups, position: int) -> int:
    """The head the listener announces once it reached ``position`` (or after 5 s)."""
    deadline = time.monotonic() + 5
    while wakeups.head < position and time.monotonic() < deadline:
        time.sleep(0.01)
    return wakeups.head


def test_a_commit_wakes_every_subscriber_and_says_how_far_it_went(own):
    # Given two followers subscribed to the process's wake-ups, listening
    wakeups = Wakeups(own.url, EVENTS_TABLE)
    first, second = threading.Event(), threading.Event()
    wakeups.subscribe(first)
    wakeups.subscribe(second)
    try:
        assert first.wait(5)  # woken once when the listener connects
        first.clear()
        second.clear()
        # When an event is committed
        position = _register(own)
        # Then both are woken, and the head it announced is that commit's position
        assert first.wait(5) and second.wait(5)
        assert _head_reaches(wakeups, position) == position
    finally:
        wakeups.unsubscribe(first)
        wakeups.unsubscribe(second)
    # And with nobody subscribed the listening thread is gone
    assert wakeups._thread is None


def test_a_commit_wakes_only_the_followers_of_its_topics(own):
    registered = "location.LocationRegistered"
    placed = ["order.OrderPlaced"]
    assert not topic_bit(registered) & topic_mask(placed)  # the test's topics share no bit
    # Given followers of location events, of placed orders, and of everything
    wakeups = Wakeups(own.url, EVENTS_TABLE)
    locations, orders, everything = threading.Event(), threading.Event(), threading.Event()
    wakeups.subscribe(locations, topic_mask([registered, "location.LocationUpdated"]))
    wakeups.subscribe(orders, topic_mask(placed))
    wakeups.subscribe(everything)
    try:
        assert orders.wait(5)  # every one is woken once when the listener connects
        for event in (locations, orders, everything):
            event.clear()
        # (what each one's topics committed is unknown until a commit of them is heard)
        assert wakeups.head_of(orders) is None
        # When a location is registered
        position = _register(own)
        # Then the followers of location events and of everything wake, and their heads are
        # the commit's position
        assert locations.wait(5) and everything.wait(5)
        assert wakeups.head_of(locations) == wakeups.head_of(everything) == position
        # And the follower of placed orders sleeps on, though the head moved past the commit:
        # nothing of its own was announced to it
        assert _head_reaches(wakeups, position) == position
        assert not orders.wait(0.3)
        assert wakeups.head_of(orders) is None
        # When a second location is registered, the heads of its followers move with it
        locations.clear()
        later = _register(own)
        assert locations.wait(5) and _head_reaches(wakeups, later) == later
        assert wakeups.head_of(locations) == later and wakeups.head_of(orders) is None
    finally:
        for event in (locations, orders, everything):
            wakeups.unsubscribe(event)


def _statements(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()"
        ).fetchone()
    return row[0]


def test_an_idle_service_hardly_queries_and_a_commit_still_reaches_its_managers(own):
    # Given a started service (views, chainer, every process manager), caught up and quiet
    own.start_background()
    _register(own)
    time.sleep(3)
    # When nothing is committed for 8 s
    before = _statements(own.url)
    time.sleep(8)
    quiet = _statements(own.url) - before
    # Then the followers looked at most twice each (one look of all of them is about 250
    # statements; polling every 50-200 ms, as they did, was about 8,000 in 8 s)
    assert quiet < 800, quiet
    # And a commit is still followed: every manager's position moves past it, at once for a
    # manager of its topic (none follows locations), on its next look for the others
    position = _register(own)
    managers = list(own.processes.managers)
    deadline = time.monotonic() + Follower.quiet_s + 3
    behind = None
    while time.monotonic() < deadline:
        with psycopg.connect(own.url, autocommit=True) as conn:
            behind = conn.execute(
                "SELECT count(*) FROM process_tracking WHERE name = ANY(%s) AND position < %s",
                (managers, position),
            ).fetchone()[0]
        if behind == 0:
            break
        time.sleep(0.05)
    assert behind == 0
