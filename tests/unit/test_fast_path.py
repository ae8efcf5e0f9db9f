"""A hot route's fast path (``api.fast_path``), in process on a small app of its own (no
database): it is the route's own handler, so it runs only after the gateway's checks and
answers with the request id; what it declines the same route's FastAPI handler answers, in its
own words; an error it raises is answered as the app answers it; the request timeout bounds it;
the OpenAPI entry is the route's."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from api import errors, gateway
from api.authentication import AuthConfig, mint
from api.errors import ApiError
from api.fast_path import fast_route, query_params, send_json
from composition.settings import Settings

SECRET = "lanes-" + "k" * 40
CONFIG = AuthConfig("HS256", SECRET, SECRET)


def bearer(role: str = "admin", sub: str = "ops") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(CONFIG, sub, role)}"}


def make_app(**settings) -> tuple[FastAPI, list[str]]:
    """An app with one route, ``GET /api/v1/locations/{location_id}``, whose fast path records
    what it did in the returned list (FastAPI's handler answers ``{"by": "route"}``)."""
    app = FastAPI()
    errors.install(app)
    seen: list[str] = []

    async def fast(scope, receive, send) -> bool:
        query = query_params(scope, frozenset({"delay", "fail"}))
        if query is None:
            seen.append("declined")
            return False
        if "fail" in query:
            raise ApiError(404, "location_not_found", "No such location.")
        await asyncio.sleep(float(query.get("delay", 0)))
        seen.append("fast")
        body = f'{{"by": "fast", "id": "{scope["path_params"]["location_id"]}"}}'.encode()
        await send_json(send, body, headers=[(b"etag", b'"1"')])
        return True

    async def location(location_id: str, limit: int = 1):
        seen.append("route")
        return {"by": "route", "id": location_id}

    router = APIRouter()
    router.add_api_route(
        "/locations/{location_id}", location, methods=["GET"], route_class_override=fast_route(fast)
    )
    app.include_router(router, prefix="/api/v1")
    defaults = {"jwt_secret": SECRET, "rate_per_principal": 0, "rate_per_client": 0}
    app.state.container = SimpleNamespace(settings=Settings(**{**defaults, **settings}))
    gateway.install(app)
    return app, seen


@pytest.fixture
def app_and_seen():
    return make_app(request_timeout_s=0.3)


def test_the_fast_path_answers_after_the_gateway_checks(app_and_seen):
    app, seen = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    # Given no token, when the route is asked, then the gateway refuses: nothing ran
    assert client.get("/api/v1/locations/7").status_code == 401
    assert seen == []
    # Given a token, then the fast path answers, with the gateway's request id
    r = client.get("/api/v1/locations/7", headers={**bearer(), "X-Request-Id": "rid-7"})
    assert r.status_code == 200 and r.json() == {"by": "fast", "id": "7"}
    assert r.headers["ETag"] == '"1"' and r.headers["X-Request-Id"] == "rid-7"
    assert r.headers["content-type"] == "application/json"
    assert seen == ["fast"]


def test_what_the_fast_path_declines_the_route_answers_in_its_own_words(app_and_seen):
    app, seen = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/locations/7", params={"limit": "2"}, headers=bearer())
    assert r.status_code == 200 and r.json() == {"by": "route", "id": "7"}
    assert seen == ["declined", "route"]
    r = client.get("/api/v1/locations/7", params={"limit": "x"}, headers=bearer())
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


def test_a_fast_path_refusal_is_answered_like_the_app_answers_it(app_and_seen):
    app, _ = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/locations/7", params={"fail": "1"}, headers=bearer())
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "location_not_found"
    assert "X-Request-Id" in r.headers


def test_a_slow_fast_path_answers_503_request_timeout(app_and_seen):
    app, _ = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/locations/7", params={"delay": "1"}, headers=bearer())
    assert r.status_code == 503 and r.json()["error"]["code"] == "request_timeout"


def test_the_openapi_entry_is_the_routes():
    app, _ = make_app()
    op = TestClient(app).get("/openapi.json").json()["paths"]["/api/v1/locations/{location_id}"]
    assert {p["name"] for p in op["get"]["parameters"]} == {"location_id", "limit"}


def test_query_params_are_read_only_when_every_name_is_known_and_single():
    known = frozenset({"view", "min_position"})
    assert query_params({"query_string": b""}, known) == {}
    assert query_params({"query_string": b"view=customer"}, known) == {"view": "customer"}
    assert query_params({"query_string": b"view=a&view=b"}, known) is None
    assert query_params({"query_string": b"view=a&limit=3"}, known) is None


def test_without_the_gateway_the_routers_own_dispatch_runs_the_fast_path_too():
    app, seen = make_app()
    app.user_middleware.clear()  # the app alone: FastAPI's router matches and dispatches
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/api/v1/locations/7").json() == {"by": "fast", "id": "7"}
    assert client.get("/api/v1/locations/7", params={"limit": 2}).json()["by"] == "route"
    assert seen == ["fast", "declined", "route"]


def test_the_router_takes_the_gateways_match_and_routes_only_what_it_did_not_match():
    app, seen = make_app()
    looped: list[str] = []
    routed = app.router.middleware_stack

    async def router_loop(scope, receive, send):  # the router's own matching
        looped.append(scope["path"])
        await routed(scope, receive, send)

    app.router.middleware_stack = router_loop  # before the gateway's setup (first request)
    client = TestClient(app, raise_server_exceptions=False)
    # Given requests for the route, when they are served, then the router never matched again
    assert client.get("/api/v1/locations/7", headers=bearer()).status_code == 200
    assert client.get("/api/v1/locations/7", params={"limit": 2}, headers=bearer()).json() == {
        "by": "route",
        "id": "7",
    }
    assert looped == [] and seen == ["fast", "declined", "route"]
    # and a path no route serves is the router's to answer (404)
    assert client.get("/api/v1/nowhere", headers=bearer()).status_code == 404
    assert looped == ["/api/v1/nowhere"]
