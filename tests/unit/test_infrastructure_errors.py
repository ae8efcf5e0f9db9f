"""Infrastructure failures answer ``503 database_unavailable`` with ``Retry-After`` whatever
layer raised them (psycopg, its pool, the library's wrappers), and are logged once per outage;
anything else is not theirs to answer."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import orjson
import psycopg
import pytest
from eventsourcing import persistence
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from api import errors, gateway
from api.authentication import AuthConfig, mint
from api.errors import OutageLog, unavailable
from composition.settings import Settings


def wrapped(outer: type[Exception], inner: Exception) -> Exception:
    """``outer`` raised from ``inner``, as the library re-raises psycopg's errors."""
    try:
        raise outer(str(inner)) from inner
    except Exception as exc:  # noqa: BLE001
        return exc


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (psycopg.OperationalError("server closed the connection unexpectedly"), "unreachable"),
        (pg.AdminShutdown("terminating connection"), "unreachable"),
        (pg.CannotConnectNow("the database system is starting up"), "unreachable"),
        (psycopg.InterfaceError("the connection is closed"), "unreachable"),
        (wrapped(persistence.OperationalError, psycopg.OperationalError("x")), "unreachable"),
        (wrapped(persistence.InterfaceError, psycopg.InterfaceError("closed")), "unreachable"),
        (pg.LockNotAvailable("lock timeout"), "lock_timeout"),
        (wrapped(persistence.OperationalError, pg.LockNotAvailable("lock")), "lock_timeout"),
        (PoolTimeout("couldn't get a connection after 30 s"), "pool_exhausted"),
        (wrapped(persistence.OperationalError, PoolTimeout("no connection")), "pool_exhausted"),
        (wrapped(RuntimeError, psycopg.OperationalError("lost")), "unreachable"),
    ],
)
def test_an_infrastructure_failure_is_503_with_retry_after(exc, reason):
    answer = unavailable(exc)
    assert answer is not None and answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    error = orjson.loads(answer.body)["error"]
    assert (error["code"], error["details"]) == ("database_unavailable", {"reason": reason})
    assert "Idempotency-Key" in error["message"]


@pytest.mark.parametrize(
    "exc",
    [ValueError("bug"), psycopg.errors.UniqueViolation("dup"), persistence.IntegrityError("x")],
)
def test_anything_else_is_not_an_outage(exc):
    assert unavailable(exc) is None


def test_an_outage_is_logged_once_per_window_with_the_count_of_answers_since(caplog):
    outages = OutageLog(logging.getLogger("test.outage"), every_s=3600)
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        for _ in range(50):
            outages.failed(psycopg.OperationalError("server closed the connection"))
    assert len(caplog.records) == 1
    outages._last -= 3600  # the window has passed: the next failure logs, with the count
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        outages.failed(psycopg.OperationalError("still down"))
    assert len(caplog.records) == 2
    assert "49 more 503s" in caplog.records[-1].getMessage()


# ---- through the gateway ---------------------------------------------------------------------


def test_through_the_gateway_an_outage_is_503_and_never_500():
    secret = "outage-" + "k" * 40
    app = FastAPI()
    errors.install(app)

    @app.get("/api/v1/locations")
    def lost():  # as a route whose connection died mid-request
        raise persistence.OperationalError("server closed the connection unexpectedly")

    @app.post("/api/v1/locations")
    async def wrapped_lost(body: dict):  # raised from one, by code of ours or a library's
        raise RuntimeError("append failed") from pg.AdminShutdown("terminating connection")

    @app.get("/api/v1/products")
    def bug():
        raise ValueError("a bug is still a 500")

    settings = Settings(jwt_secret=secret, rate_per_principal=0, rate_per_client=0)
    app.state.container = SimpleNamespace(settings=settings)
    gateway.install(app)
    token = mint(AuthConfig("HS256", secret, secret), "ops", "admin")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for r in (client.get("/api/v1/locations"), client.post("/api/v1/locations", json={})):
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "database_unavailable"
            assert r.headers["retry-after"] == "1"
        assert client.get("/api/v1/products").status_code == 500
