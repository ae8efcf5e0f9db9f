"""The API's body-size limit (``api.app.BodySizeLimit``) on a declared Content-Length."""

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from api.app import BodySizeLimit


def client(limit: int) -> TestClient:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request):
        return {"size": len(await request.body())}

    app.add_middleware(BodySizeLimit, max_bytes=limit)
    return TestClient(app)


def test_a_body_declared_over_the_limit_is_refused_413_before_the_app_reads_it():
    r = client(10).post("/echo", content=b"x" * 11)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_a_body_within_the_limit_reaches_the_app():
    assert client(10).post("/echo", content=b"x" * 10).json() == {"size": 10}


def test_a_content_length_that_is_not_a_number_is_refused_413():
    r = client(10).post("/echo", content=b"x", headers={"Content-Length": "1e3"})
    assert r.status_code == 413
