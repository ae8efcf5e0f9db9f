"""Followers wake on commits (``eventstore/wakeups.py``): a commit wakes every subscriber of the
process and says how far it went; with nothing committed, a started service's process managers
and views send (almost) no queries."""

from __future__ import annotations

import threading
import time
from uuid import uuid4

import psycopg
import pytest

from commands.context import CommandContext
from domain.location.commands import RegisterLocation
from eventstore.follower import EVENTS_TABLE
from eventstore.wakeups import Wakeups
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
        deadline = time.monotonic() + 5
        while wakeups.head < position and time.monotonic() < deadline:
            time.sleep(0.01)
        assert wakeups.head == position
    finally:
        wakeups.unsubscribe(first)
        wakeups.unsubscribe(second)
    # And with nobody subscribed the listening thread is gone
    assert wakeups._thread is None


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
    # And a commit is still followed at once: every manager's position moves past it
    position = _register(own)
    managers = list(own.processes.managers)
    deadline = time.monotonic() + 3
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
