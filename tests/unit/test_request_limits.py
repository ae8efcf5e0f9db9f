"""Request limits at the gateway (``api.request_limits``), in process on a small app of its
own (no database): a body is read from the client once, bounded, whether or not its length is
declared, and the bytes reach the route; a declared length over the limit or not a number is
refused ``413`` before anything is read."""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api import errors, gateway
from api.authentication import AuthConfig, mint
from api.request_limits import BODY, MAX_BODY_BYTES
from composition.settings import Settings

SECRET = "limits-" + "k" * 40
BEARER = {"Authorization": f"Bearer {mint(AuthConfig('HS256', SECRET, SECRET), 'ops', 'admin')}"}


def make_app() -> tuple[FastAPI, dict]:
    """``POST /api/v1/locations`` echoes the size of the body it read and whether it is the
    gateway's bytes; ``seen`` counts the route's runs and the body messages read from the
    client."""
    app = FastAPI()
    errors.install(app)
    seen = {"route": 0, "reads": 0}

    @app.post("/api/v1/locations")
    async def echo(request: Request):
        seen["route"] += 1
        body = await request.body()
        return {"size": len(body), "shared": request.scope.get(BODY) == body}

    app.state.container = SimpleNamespace(
        settings=Settings(jwt_secret=SECRET, rate_per_principal=0, rate_per_client=0)
    )
    gateway.install(app)
    inner = app.build_middleware_stack

    def counting_stack():
        stack = inner()

        async def counted(scope, receive, send):
            async def counting_receive():
                message = await receive()
                if message["type"] == "http.request":
                    seen["reads"] += 1
                return message

            await stack(scope, counting_receive, send)

        return counted

    app.build_middleware_stack = counting_stack  # type: ignore[method-assign]
    return app, seen


def test_a_body_declared_over_the_limit_is_refused_413_before_the_app_reads_it():
    app, seen = make_app()
    r = TestClient(app).post(
        "/api/v1/locations", content=b"x" * (MAX_BODY_BYTES + 1), headers=BEARER
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert seen == {"route": 0, "reads": 0}


def test_a_body_within_the_limit_is_read_once_and_reaches_the_route():
    app, seen = make_app()
    r = TestClient(app).post("/api/v1/locations", content=b"x" * MAX_BODY_BYTES, headers=BEARER)
    assert r.status_code == 200 and r.json() == {"size": MAX_BODY_BYTES, "shared": True}
    assert seen == {"route": 1, "reads": 1}


def test_a_body_sent_in_chunks_is_read_once_too():
    app, seen = make_app()
    r = TestClient(app).post(
        "/api/v1/locations", content=iter([b"ab", b"cd", b"e"]), headers=BEARER
    )
    assert r.status_code == 200 and r.json()["size"] == 5
    assert seen == {"route": 1, "reads": 1}  # no length declared: read once all the same


def test_a_content_length_that_is_not_a_number_is_refused_413():
    app, seen = make_app()
    r = TestClient(app).post(
        "/api/v1/locations", content=b"x", headers={**BEARER, "Content-Length": "1e3"}
    )
    assert r.status_code == 413 and seen["route"] == 0
