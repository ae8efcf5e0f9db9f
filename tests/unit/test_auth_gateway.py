"""The gateway in process, on a small app of its own (no database): request ids, the access
log without secrets, timeouts, bodies without a length, unknown routes and routes without a
rule, the OpenAPI security description."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors, gateway
from api.authentication import AuthConfig, mint
from composition.settings import Settings

SECRET = "gateway-" + "k" * 40
CONFIG = AuthConfig("HS256", SECRET, SECRET)


def make_app(**settings) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/api/v1/health")
    def health():
        return {"status": "ok"}

    @app.get("/api/v1/locations")
    async def slow(delay: float = 0.0):
        await asyncio.sleep(delay)
        return {"items": []}

    @app.post("/api/v1/locations")
    async def echo(body: dict):
        return body

    @app.post("/api/v1/orders")
    async def place(body: dict):
        return body

    @app.get("/api/v1/audit/verify")
    async def verify(delay: float = 0.0):
        await asyncio.sleep(delay)
        return {"ok": True}

    @app.get("/api/v1/unruled")
    def unruled():
        return {}

    defaults = {"jwt_secret": SECRET, "rate_per_principal": 0, "rate_per_client": 0}
    app.state.container = SimpleNamespace(settings=Settings(**{**defaults, **settings}))
    gateway.install(app)
    return app


def bearer(role: str = "admin", sub: str = "ops") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(CONFIG, sub, role)}"}


@pytest.fixture
def client():
    return TestClient(make_app(request_timeout_s=0.3), raise_server_exceptions=False)


def test_every_answer_carries_a_request_id_and_a_sane_one_is_kept(client):
    for r in (
        client.get("/api/v1/health"),
        client.get("/api/v1/locations"),
        client.get("/api/v1/locations", headers=bearer()),
        client.get("/api/v1/nowhere", headers=bearer()),
    ):
        assert len(r.headers["X-Request-Id"]) >= 16
    r = client.get("/api/v1/health", headers={"X-Request-Id": "trace-7.a"})
    assert r.headers["X-Request-Id"] == "trace-7.a"
    r = client.get("/api/v1/health", headers={"X-Request-Id": "bad id\twith spaces"})
    assert r.headers["X-Request-Id"] != "bad id\twith spaces"


def test_the_access_log_names_request_and_principal_but_never_the_token(client, caplog):
    headers = {**bearer("merchant", "m-9"), "X-Request-Id": "rid-1"}
    token = headers["Authorization"].split()[1]
    with caplog.at_level(logging.INFO, logger="ecom.access"):
        client.post("/api/v1/locations", json={"card": "tok_secret_card"}, headers=headers)
    line = " ".join(r.getMessage() for r in caplog.records if r.name == "ecom.access")
    assert "rid-1" in line and "m-9" in line and "POST /api/v1/locations" in line
    assert token not in line and "tok_secret_card" not in line


def test_no_token_and_unknown_paths_answer_401_with_a_challenge(client):
    for path in ("/api/v1/locations", "/api/v1/nowhere"):
        r = client.get(path)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/nowhere", headers=bearer()).status_code == 404


def test_a_route_without_a_rule_is_denied_even_to_admins(client):
    r = client.get("/api/v1/unruled", headers=bearer())
    assert r.status_code == 403 and r.json()["error"]["code"] == "no_rule"


def test_a_slow_request_answers_503_request_timeout(client):
    r = client.get("/api/v1/locations", params={"delay": 2}, headers=bearer())
    assert r.status_code == 503 and r.json()["error"]["code"] == "request_timeout"
    assert r.headers["Retry-After"] == "1"
    assert client.get("/api/v1/locations", headers=bearer()).status_code == 200


def test_a_check_of_the_whole_log_has_the_time_it_needs(client):
    """``/audit/verify`` walks every event by design: the request time limit is not its."""
    r = client.get("/api/v1/audit/verify", params={"delay": 1}, headers=bearer())
    assert r.status_code == 200 and r.json() == {"ok": True}


def test_a_body_without_a_length_is_bounded(client):
    def chunks(n):
        for _ in range(n):
            yield b" " * 100_000

    big = client.post(
        "/api/v1/locations",
        content=chunks(11),
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    small = client.post(
        "/api/v1/locations",
        content=iter([b'{"a":', b" 1}"]),
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert small.status_code == 200 and small.json() == {"a": 1}


def test_limits_answer_429_with_retry_after_per_principal():
    app = make_app(rate_per_principal=0.5, burst_per_principal=2)
    client = TestClient(app)
    statuses = [
        client.get("/api/v1/locations", headers=bearer(sub="p1")).status_code for _ in "xyz"
    ]
    assert statuses == [200, 200, 429]
    r = client.get("/api/v1/locations", headers=bearer(sub="p1"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert client.get("/api/v1/locations", headers=bearer(sub="p2")).status_code == 200
    assert client.get("/api/v1/health").status_code == 200


def test_the_openapi_document_describes_bearer_auth_and_its_refusals():
    doc = TestClient(make_app()).get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    op = doc["paths"]["/api/v1/locations"]["get"]
    assert op["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "429"} <= set(op["responses"])
    assert "security" not in doc["paths"]["/api/v1/health"]["get"]


def test_docs_can_be_closed():
    client = TestClient(make_app(open_docs=False))
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/openapi.json", headers=bearer("auditor")).status_code == 200
    assert client.get("/openapi.json", headers=bearer("customer", sub=_uuid())).status_code == 403


def _uuid() -> str:
    return str(uuid4())


def test_a_customer_places_for_their_own_id_in_whatever_form_it_is_written(client):
    me, other = uuid4(), uuid4()
    headers = bearer("customer", str(me))
    for mine in (str(me), str(me).upper(), me.hex, f"urn:uuid:{me}"):
        r = client.post("/api/v1/orders", json={"customer_id": mine}, headers=headers)
        assert r.status_code == 200, (mine, r.text)
    for theirs in (str(other), other.hex, f"{{{other}}}", 123, None, "", ["x"]):
        r = client.post("/api/v1/orders", json={"customer_id": theirs}, headers=headers)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden_customer"
    duplicated = f'{{"customer_id": "{me}", "customer_id": "{other}"}}'.encode()
    r = client.post(
        "/api/v1/orders",
        content=duplicated,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 403


def test_a_bad_security_configuration_stops_the_app_at_start():
    from contextlib import asynccontextmanager

    def app_with(settings: Settings) -> FastAPI:
        @asynccontextmanager
        async def lifespan(app):
            app.state.container = SimpleNamespace(settings=settings)
            yield

        app = FastAPI(lifespan=lifespan)
        gateway.install(app)
        return app

    with pytest.raises(Exception, match="at least 32 bytes"):
        with TestClient(app_with(Settings(jwt_secret="short"))):
            pass
    with TestClient(app_with(Settings(jwt_secret=SECRET))) as client:
        assert client.get("/openapi.json").status_code == 200
