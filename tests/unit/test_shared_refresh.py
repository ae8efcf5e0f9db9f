"""``SharedRefresh``: every caller returns after a refresh that began after it asked, and
callers arriving together share refreshes instead of queueing one each."""

import threading
import time

import pytest

from commands.shared_refresh import SharedRefresh


def test_given_a_run_in_flight_when_a_caller_arrives_then_it_waits_for_a_run_that_began_later():
    began: list[float] = []
    asked_at: dict[str, float] = {}
    returned_after: dict[str, float] = {}
    first_running = threading.Event()
    release_first = threading.Event()

    def refresh() -> None:
        began.append(time.monotonic())
        if len(began) == 1:
            first_running.set()
            release_first.wait(5)

    shared = SharedRefresh(refresh)

    def call(name: str) -> None:
        asked_at[name] = time.monotonic()
        shared()
        returned_after[name] = began[-1]

    first = threading.Thread(target=call, args=("first",))
    first.start()
    assert first_running.wait(5)
    late = threading.Thread(target=call, args=("late",))
    late.start()
    time.sleep(0.05)
    release_first.set()
    first.join(5)
    late.join(5)
    assert len(began) == 2  # the run in flight did not count for the late caller
    assert returned_after["late"] >= asked_at["late"]


def test_when_many_callers_arrive_together_then_they_share_a_few_runs():
    runs = 0

    def refresh() -> None:
        nonlocal runs
        runs += 1
        time.sleep(0.02)

    shared = SharedRefresh(refresh)
    threads = [threading.Thread(target=shared) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert 1 <= runs <= 8  # one each would be 32


def test_given_a_failing_run_then_its_caller_raises_and_a_waiting_caller_runs_its_own():
    calls = 0
    running = threading.Event()
    release = threading.Event()

    def refresh() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            running.set()
            release.wait(5)
            raise ConnectionError("the database went away")

    shared = SharedRefresh(refresh)
    errors: list[BaseException] = []

    def first() -> None:
        try:
            shared()
        except ConnectionError as exc:
            errors.append(exc)

    t1 = threading.Thread(target=first)
    t1.start()
    assert running.wait(5)
    t2 = threading.Thread(target=shared)
    t2.start()
    time.sleep(0.05)
    release.set()
    t1.join(5)
    t2.join(5)
    assert len(errors) == 1
    assert calls == 2  # the waiter did not take the failed run for a fresh one


def test_a_lone_caller_runs_once_per_call():
    calls = 0

    def refresh() -> None:
        nonlocal calls
        calls += 1

    shared = SharedRefresh(refresh)
    for _ in range(3):
        shared()
    assert calls == 3
    with pytest.raises(ZeroDivisionError):
        SharedRefresh(lambda: 1 / 0)()


def test_a_caller_that_says_when_its_request_began_is_served_by_a_refresh_begun_since():
    runs = 0

    def refresh() -> None:
        nonlocal runs
        runs += 1

    shared = SharedRefresh(refresh)
    # Given a request that began, then a refresh for another caller
    request_began = time.monotonic()
    shared()
    assert runs == 1
    # When the request asks, saying when it began
    shared(since=request_began)
    # Then the refresh begun since serves it: no new read
    assert runs == 1
    # And a request that began after that refresh gets a new one
    shared(since=time.monotonic())
    assert runs == 2


def test_a_failed_refresh_serves_no_one():
    calls = 0

    def refresh() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("the database went away")

    shared = SharedRefresh(refresh)
    began = time.monotonic()
    with pytest.raises(RuntimeError):
        shared()
    shared(since=began)  # the failed run does not count
    assert calls == 2
