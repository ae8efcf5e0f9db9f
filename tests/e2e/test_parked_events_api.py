"""The parking lot over HTTP and from the ``ecom`` command: an event the ``locations`` view
cannot store (a second stream registering a taken code, appended to the store beneath the API,
which the view's unique code refuses) is parked by the running server; ``GET /projections``
counts it; admins list, retry and skip it (others get 403); the command lists, retries and
skips the same way.

The poison stays in the log for good, so this module runs on a database of its own: the
session's log is the one the Kafka tests rebuild every view from, expecting nothing parked."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from uuid import uuid4

import orjson
import psycopg
import pytest

from composition.bootstrap import build
from composition.settings import Settings
from domain.location.events import LocationRegistered
from eventstore.recorded import EventMeta
from eventstore.store import StreamAppend
from tests.e2e.conftest import TEST_SERVER_ENV, assert_error, client_for, running_server

META = EventMeta(datetime.now(UTC), "e2e-parking", "corr", "cause")


@pytest.fixture(scope="module")
def database_url(database_url: str):
    """A database of this module's own, beside the session's, dropped at the end."""
    name = f"ecom_parking_{uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(database_url, dbname=name)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def container(database_url: str):
    c = build(Settings(database_url=database_url, pool_size=4), url=database_url)
    c.migrate()
    yield c
    c.close()


@pytest.fixture(scope="module")
def server_url(database_url: str, container):
    with running_server(database_url, ECOM_RUN_PROCESSES="0") as base:
        yield base


@pytest.fixture
def api(server_url: str):
    with client_for(server_url) as client:
        yield client


def poison_location(api, container) -> tuple[str, int]:
    """Register a location over HTTP, then append beneath the API a second stream registering
    the same code (the command layer's code claim would refuse it; the view's unique code
    does); return the second stream and its position."""
    body = {"code": f"DUP-{uuid4().hex[:6]}".upper(), "name": "Twice", "type": "store"}
    assert api.post("/locations", json=body).status_code == 201
    stream = uuid4()
    event = LocationRegistered(**body, priority=0)
    return str(stream), container.store.append([StreamAppend(stream, 0, [event])], META)


def parked_for(api, stream: str, timeout_s: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        items = api.get("/projections/parked", params={"follower": "locations"}).json()["items"]
        mine = [p for p in items if p["stream_id"] == stream]
        if mine:
            return mine[0]
        assert time.monotonic() < deadline, "the server never parked the event"
        time.sleep(0.1)


def ecom(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **TEST_SERVER_ENV, "ECOM_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "composition.cli", *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_parked_event_is_listed_counted_retried_and_skipped_by_an_admin(
    api, container, server_url
):
    # given an event the locations view cannot store, written after the view is running
    stream, position = poison_location(api, container)

    # then the server parks it and the view moves on to the head
    parked = parked_for(api, stream)
    assert parked["position"] == position and parked["behind"] is None
    assert parked["event_type"] == "location.LocationRegistered"
    assert parked["attempts"] >= 1 and "UniqueViolation" in parked["error"]
    later = api.post(
        "/locations", json={"code": f"OK-{uuid4().hex[:6]}", "name": "Fine", "type": "store"}
    ).json()["position"]
    assert api.get("/locations", params={"min_position": later}).status_code == 200
    views = {v["name"]: v for v in api.get("/projections").json()}
    assert views["locations"]["parked"] >= 1
    assert all(isinstance(v["parked"], int) for v in views.values())

    # when an admin retries it, it fails again and stays parked
    r = api.post(f"/projections/parked/{parked['id']}/retry")
    assert r.status_code == 200, r.text
    assert r.json() | {"applied": 0, "still_parked": 1} == r.json()
    assert parked_for(api, stream)["attempts"] == parked["attempts"] + 1

    # when an admin skips it, it is gone
    r = api.post(f"/projections/parked/{parked['id']}/skip")
    assert r.status_code == 200, r.text
    assert r.json()["still_parked"] == 0
    items = api.get("/projections/parked", params={"follower": "locations"}).json()["items"]
    assert stream not in {p["stream_id"] for p in items}
    assert_error(
        api.post(f"/projections/parked/{parked['id']}/skip"), 404, "parked_event_not_found"
    )
    assert_error(api.post("/projections/parked/0/retry"), 404, "parked_event_not_found")
    assert_error(api.post("/projections/parked/abc/retry"), 422)
    assert_error(api.get("/projections/parked", params={"follower": "a\x00b"}), 422)


@pytest.mark.parametrize("role", ["merchant", "auditor", "analyst", "customer"])
def test_only_admins_reach_the_parking_lot(server_url, role):
    with client_for(server_url, role=role, sub=str(uuid4())) as other:
        assert_error(other.get("/projections/parked"), 403)
        assert_error(other.post("/projections/parked/1/retry"), 403)
        assert_error(other.post("/projections/parked/1/skip"), 403)


def test_the_ecom_command_lists_retries_and_skips(api, container, server_url, database_url):
    stream, position = poison_location(api, container)
    parked = parked_for(api, stream)

    listed = ecom(database_url, "projections", "parked", "--follower", "locations", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert parked["id"] in {r["id"] for r in rows}

    status = ecom(database_url, "projections", "status")
    assert status.returncode == 0 and "PARKED" in status.stdout.splitlines()[0]

    retried = ecom(database_url, "projections", "retry", str(parked["id"]))
    assert retried.returncode == 1 and "1 still parked" in retried.stdout, retried.stdout

    skipped = ecom(database_url, "projections", "skip", str(parked["id"]))
    assert skipped.returncode == 0, skipped.stderr
    items = api.get("/projections/parked", params={"follower": "locations"}).json()["items"]
    assert stream not in {p["stream_id"] for p in items}
    assert ecom(database_url, "projections", "skip", str(parked["id"])).returncode == 1
    assert ecom(database_url, "projections", "retry").returncode == 2
