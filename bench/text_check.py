"""The cost of the edge's text check (``api.text_hygiene``) per request.

1. The check alone: a typical ``POST /orders`` body (and its URL) checked as the gateway
   checks it, against nothing, and against the alternative of parsing every body and looking
   at each string.
2. Whole requests: the same body ``POST``ed in-process through the gateway (JWT, limits, the
   role table, the body read, a trivial route that reads it), with the check and with the
   check replaced by a no-op, interleaved, best of 5.

No database: the check is CPU only.

    python -m bench.text_check [--repeat 200000] [--requests 5000]"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import uuid4

from fastapi import FastAPI, Request

from api import errors, gateway, text_hygiene
from api.authentication import AuthConfig, mint
from bench.auth import SECRET
from composition.settings import Settings

ORDER = {
    "customer_id": str(uuid4()),
    "currency": "USD",
    "lines": [{"sku": "TEE-RED-M", "quantity": 2}, {"sku": "MUG-BLUE", "quantity": 1}],
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "1 Main St",
        "line2": "Apt 4",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    },
    "payment": {"method": "card", "token": "tok_visa"},
    "channel": "web",
    "priority": "standard",
    "gift": {"message": "Happy birthday!\nLove, Bea", "wrap": True},
}
PATH = "/api/v1/orders"


def _check(body: bytes, query: bytes) -> None:
    text_hygiene.check_query(query)
    text_hygiene.check_path(PATH, {})
    text_hygiene.check_body(body)


def _parse_and_walk(body: bytes, query: bytes) -> None:
    """The alternative: parse every body, look at every string."""
    text_hygiene.check_query(query)
    text_hygiene.check_path(PATH, {})
    text_hygiene._walk(json.loads(body), [], "")


def _nothing(body: bytes, query: bytes) -> None:
    return None


def per_call_ns(fn: Callable[[bytes, bytes], None], body: bytes, query: bytes, n: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter_ns()
        for _ in range(n):
            fn(body, query)
        best = min(best, (time.perf_counter_ns() - started) / n)
    return best


def _gateway_app() -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.post("/api/v1/locations")
    async def create(request: Request):
        return {"size": len(await request.body())}

    settings = Settings(jwt_secret=SECRET, rate_per_principal=1e9, burst_per_principal=10**9,
                        rate_per_client=1e9, burst_per_client=10**9)  # fmt: skip
    app.state.container = SimpleNamespace(settings=settings)
    gateway.install(app)
    return app


def per_request_us(app, body: bytes, n: int) -> float:  # noqa: ANN001
    """µs per in-process ``POST`` of ``body`` through ``app`` (``n`` sequential requests)."""
    token = mint(AuthConfig("HS256", SECRET, SECRET), "bench", "merchant", ttl_s=86_400)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/locations", "raw_path": b"/api/v1/locations",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "headers": [(b"authorization", f"Bearer {token}".encode()),
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    statuses = set()

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    async def run() -> float:
        for _ in range(200):
            await app(dict(scope), receive, send)
        started = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    assert statuses == {200}, statuses
    return elapsed / n * 1e6


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=5_000)
    args = parser.parse_args(argv)
    plain = json.dumps(ORDER, ensure_ascii=False).encode()
    escaped = json.dumps({**ORDER, "shipping_address": {**ORDER["shipping_address"],
                          "name": "Zoë Ørsted 😀"}}).encode()  # fmt: skip
    n = args.repeat
    rows = {
        "no check (baseline)": per_call_ns(_nothing, plain, b"", n),
        "check, typical body": per_call_ns(_check, plain, b"", n),
        "check, body with \\u escapes (é, emoji)": per_call_ns(_check, escaped, b"", n // 4),
        "check, typical body + query ?a=1&b=x%20y": per_call_ns(_check, plain, b"a=1&b=x%20y", n),
        "parse and walk every body instead": per_call_ns(_parse_and_walk, plain, b"", n // 4),
    }
    print(
        f"POST /orders body: {len(plain)} bytes ({len(escaped)} escaped); "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    for name, ns in rows.items():
        print(f"  {name:45s} {ns:8.0f} ns")

    app = _gateway_app()
    checks = {name: getattr(text_hygiene, name) for name in ("check_body", "check_query",
                                                              "check_path")}  # fmt: skip
    runs: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(5):  # interleaved: both see the same background load
        runs["with"].append(per_request_us(app, plain, args.requests))
        for name in checks:
            setattr(text_hygiene, name, lambda *a: None)
        try:
            runs["without"].append(per_request_us(app, plain, args.requests))
        finally:
            for name, fn in checks.items():
                setattr(text_hygiene, name, fn)
    with_us, without_us = min(runs["with"]), min(runs["without"])
    print(f"POST through the gateway, {args.requests:,} sequential in-process requests, best of 5:")
    print(f"  without the check {without_us:8.1f} µs/request")
    print(f"  with the check    {with_us:8.1f} µs/request ({with_us - without_us:+.1f} µs)")
    return {**rows, "gateway_with_us": with_us, "gateway_without_us": without_us}


if __name__ == "__main__":
    main()
