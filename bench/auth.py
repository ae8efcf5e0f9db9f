"""``python -m bench.auth``: what authentication and rate limiting cost per request.

The same in-process ASGI request (a trivial ``GET`` route, no network, no database) is served
by an app without the gateway and by the same app with it (JWT verified, both token buckets
taken, the route found in the role × route table, ``X-Request-Id``, access log at WARNING so
formatting is skipped as in production). The difference is the gateway's cost per request;
the parts are timed alone too: verifying an HS256, an RS256 and an EdDSA token, and one token
bucket ``take``. Prints a Markdown table."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Sequence
from types import SimpleNamespace

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi import FastAPI

from api import errors
from api.authentication import AuthConfig, authenticate, mint, verify
from api.rate_limit import RateLimiter
from composition.settings import Settings

SECRET = "bench-" + "s" * 40


def _app(gateway: bool) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/api/v1/locations")
    async def locations():
        return {"items": []}

    settings = Settings(
        jwt_secret=SECRET,
        rate_per_principal=1e9,
        burst_per_principal=10**9,
        rate_per_client=1e9,
        burst_per_client=10**9,
    )
    app.state.container = SimpleNamespace(settings=settings)
    if gateway:
        gateway.install(app)
    return app


def _serve(app: FastAPI, headers: list[tuple[bytes, bytes]], n: int) -> float:
    """Seconds for ``n`` sequential requests through the ASGI app."""
    scope_base = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/v1/locations",
        "raw_path": b"/api/v1/locations",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses = []

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def run() -> float:
        for _ in range(200):  # warm up: middleware stack, caches
            await app(dict(scope_base), receive, send)
        started = time.perf_counter()
        for _ in range(n):
            await app(dict(scope_base), receive, send)
        return time.perf_counter() - started

    elapsed = asyncio.run(run())
    assert set(statuses) == {200}, set(statuses)
    return elapsed


def _per_call(fn: Callable[[], object], n: int) -> float:
    for _ in range(min(n, 200)):
        fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def _asymmetric_configs() -> dict[str, tuple[AuthConfig, str]]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    out = {}
    for alg, key in (("RS256", rsa_key), ("EdDSA", ed_key)):
        public = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        config = AuthConfig(alg, public)
        out[alg] = (config, mint(config, "bench", "merchant", signing_key=key))
    return out


def main(argv: Sequence[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=5, help="best of N runs per configuration")
    args = p.parse_args(argv)
    n = args.requests
    hs = AuthConfig("HS256", SECRET, SECRET)
    token = mint(hs, "bench", "merchant", ttl_s=86_400)
    bearer = [(b"authorization", f"Bearer {token}".encode())]

    plain = _app(gateway=False)
    gated = _app(gateway=True)
    runs: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(args.repeats):  # interleaved, so both see the same background load
        runs["without"].append(_serve(plain, [], n) / n)
        runs["with"].append(_serve(gated, bearer, n) / n)
    without, with_gw = min(runs["without"]), min(runs["with"])

    header = f"Bearer {token}"
    calls: dict[str, Callable[[], object]] = {
        "verify HS256 (a token not seen before)": lambda: verify(hs, token),
        "authenticate HS256 (token seen before: cache hit)": lambda: authenticate(hs, header),
    }
    for alg, (config, tok) in _asymmetric_configs().items():
        calls[f"verify {alg} (a token not seen before)"] = lambda c=config, t=tok: verify(c, t)
    limiter = RateLimiter(1e9, 10**9)
    calls["token bucket take"] = lambda: limiter.take("sub:bench")
    parts = {
        name: min(_per_call(fn, n // 4) for _ in range(args.repeats)) for name, fn in calls.items()
    }

    us = 1e6
    print(f"\n{n:,} sequential in-process requests, best of {args.repeats}\n")
    print("| configuration | µs per request | requests/s (one core) |")
    print("|---|---|---|")
    print(f"| without the gateway | {without * us:.1f} | {1 / without:,.0f} |")
    print(f"| with the gateway (JWT HS256 + 2 buckets + table) | {with_gw * us:.1f} "
          f"| {1 / with_gw:,.0f} |")  # fmt: skip
    print(f"| **cost of the gateway** | **{(with_gw - without) * us:.1f}** | |")
    print("\n| part, alone | µs per call |\n|---|---|")
    for name, seconds in parts.items():
        print(f"| {name} | {seconds * us:.1f} |")
    return {"without_s": without, "with_s": with_gw, "parts": parts}


if __name__ == "__main__":
    main()
