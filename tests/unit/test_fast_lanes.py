"""Fast lanes in the gateway, in process on a small app of its own (no database): a lane runs
only after the gateway's checks, answers with the request id, may decline (the route then
answers), has its ``ApiError`` answered as the app answers it, is bounded by the request
timeout, and a lane registered for no route stops the app at start."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import authorization, errors
from api.auth import AuthConfig, mint
from api.errors import ApiError
from api.fast_lanes import query_params, send_json
from ecom.settings import Settings

SECRET = "lanes-" + "k" * 40
CONFIG = AuthConfig("HS256", SECRET, SECRET)


def bearer(role: str = "admin", sub: str = "ops") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(CONFIG, sub, role)}"}


def make_app(lanes_for=None, **settings) -> tuple[FastAPI, list[str]]:
    """An app with one route, ``GET /api/v1/locations/{location_id}`` (the route answers
    ``{"by": "route"}``) and a lane for it, which records what it did in the returned list."""
    app = FastAPI()
    errors.install(app)
    seen: list[str] = []

    @app.get("/api/v1/locations/{location_id}")
    async def location(location_id: str):
        seen.append("route")
        return {"by": "route", "id": location_id}

    async def lane(scope, receive, send, path_params) -> bool:
        query = query_params(scope, frozenset({"delay", "fail"}))
        if query is None:
            seen.append("declined")
            return False
        if "fail" in query:
            raise ApiError(404, "location_not_found", "No such location.")
        await asyncio.sleep(float(query.get("delay", 0)))
        seen.append("lane")
        body = orjson.dumps({"by": "lane", "id": path_params["location_id"]})
        await send_json(send, body, headers=[(b"etag", b'"1"')])
        return True

    defaults = {"jwt_secret": SECRET, "rate_per_principal": 0, "rate_per_client": 0}
    app.state.container = SimpleNamespace(settings=Settings(**{**defaults, **settings}))
    path = lanes_for or "/api/v1/locations/{location_id}"
    app.state.fast_lanes = {("GET", path): lane}
    authorization.install(app)
    return app, seen


@pytest.fixture
def app_and_seen():
    return make_app(request_timeout_s=0.3)


def test_the_lane_answers_after_the_gateway_checks(app_and_seen):
    app, seen = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    # Given no token, when the lane's route is asked, then the gateway refuses: no lane ran
    assert client.get("/api/v1/locations/7").status_code == 401
    assert seen == []
    # Given a token, then the lane answers, with the gateway's request id
    r = client.get("/api/v1/locations/7", headers={**bearer(), "X-Request-Id": "rid-7"})
    assert r.status_code == 200 and r.json() == {"by": "lane", "id": "7"}
    assert r.headers["ETag"] == '"1"' and r.headers["X-Request-Id"] == "rid-7"
    assert r.headers["content-type"] == "application/json"
    assert seen == ["lane"]


def test_a_lane_that_declines_leaves_the_answer_to_the_route(app_and_seen):
    app, seen = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/locations/7", params={"other": "1"}, headers=bearer())
    assert r.status_code == 200 and r.json() == {"by": "route", "id": "7"}
    assert seen == ["declined", "route"]


def test_a_lane_refusal_is_answered_like_the_app_answers_it(app_and_seen):
    app, seen = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/locations/7", params={"fail": "1"}, headers=bearer())
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "location_not_found"
    assert "X-Request-Id" in r.headers


def test_a_slow_lane_answers_503_request_timeout(app_and_seen):
    app, _ = app_and_seen
    client = TestClient(app, raise_server_exceptions=False)
    r = client.get("/api/v1/locations/7", params={"delay": "1"}, headers=bearer())
    assert r.status_code == 503 and r.json()["error"]["code"] == "request_timeout"


def test_a_lane_for_no_route_stops_the_app_at_start():
    app, _ = make_app(lanes_for="/api/v1/locatoins/{location_id}")
    with pytest.raises(RuntimeError, match="fast lanes for no route"):
        with TestClient(app):
            pass


def test_query_params_are_read_only_when_every_name_is_known_and_single():
    known = frozenset({"view", "min_position"})
    assert query_params({"query_string": b""}, known) == {}
    assert query_params({"query_string": b"view=customer"}, known) == {"view": "customer"}
    assert query_params({"query_string": b"view=a&view=b"}, known) is None
    assert query_params({"query_string": b"view=a&limit=3"}, known) is None
