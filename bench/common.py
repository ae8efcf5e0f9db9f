"""What the benchmarks share: a fresh database on a PostgreSQL server, the container built on
it, a synthetic event type registered only here, and a description of the machine."""

from __future__ import annotations

import argparse
import os
import platform
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import ClassVar

import psycopg
from psycopg.conninfo import make_conninfo

from composition.bootstrap import Container, build
from composition.settings import Settings
from domain.events import DomainEvent
from eventstore.recorded import EventMeta

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


class Ticked(DomainEvent):
    """The benchmarks' own event: small, like most domain events."""

    stream_type: ClassVar[str] = "bench"
    n: int
    sku: str
    note: str


def tick(n: int) -> Ticked:
    return Ticked(n=n, sku=f"SKU-{n % 977:04d}", note="synthetic benchmark event")


def meta() -> EventMeta:
    return EventMeta(datetime.now(UTC), "bench", str(uuid.uuid4()), str(uuid.uuid4()))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--url",
        default=os.environ.get("ECOM_BENCH_SERVER_URL", DEFAULT_SERVER),
        help="a PostgreSQL server; a fresh database is created on it and dropped after",
    )
    p.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return p


@contextmanager
def fresh_database(server_url: str, keep: bool = False) -> Iterator[str]:
    name = f"ecom_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(server_url, dbname=name)
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def container_on(url: str, pool_size: int = 8) -> Iterator[Container]:
    container = build(
        Settings(database_url=url, pool_size=pool_size, run_projections=False), url=url
    )
    container.store.mapper.registry.register(Ticked)
    container.migrate()
    try:
        yield container
    finally:
        container.close()


def machine(url: str) -> str:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, nproc {os.cpu_count()}, "
        f"RAM {mem_kb / 1024 / 1024:.0f} GiB, PostgreSQL {version} "
        f"(synchronous_commit={sync}), Python {platform.python_version()}"
    )


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


# ---- HTTP benchmarks: a server in its own process, load from another --------------------

BENCH_JWT_SECRET = "bench-" + "jwt-secret-" * 4
# A benchmark measures the request path, not the limiter refusing it: limits out of reach.
SERVER_ENV = {
    "ECOM_JWT_SECRET": BENCH_JWT_SECRET,
    "ECOM_RATE_PER_PRINCIPAL": "1000000",
    "ECOM_BURST_PER_PRINCIPAL": "1000000",
    "ECOM_RATE_PER_CLIENT": "1000000",
    "ECOM_BURST_PER_CLIENT": "1000000",
}


def bench_token(role: str = "admin", sub: str = "bench-admin") -> str:
    """A bearer token the benchmark servers accept (HS256 with ``BENCH_JWT_SECRET``)."""
    from api.authentication import AuthConfig, mint

    config = AuthConfig("HS256", BENCH_JWT_SECRET, BENCH_JWT_SECRET)
    return mint(config, sub, role, ttl_s=6 * 3600)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(command: list[str], env: dict[str, str], port: int, timeout_s: float = 120) -> Iterator:
    """Run ``command`` (a uvicorn server listening on ``port``) until the block ends; yields the
    process once ``/health`` answers 200."""
    import subprocess
    import sys
    import tempfile
    import time
    import urllib.request

    # The server's output (its access log: one line per request) goes to a file, not the
    # terminal; its tail is shown if the server fails to start.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, *command], env={**os.environ, **env}, stdout=log, stderr=log
    )
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"server did not start: {' '.join(command)}\n{tail}")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def api_server(url: str, port: int, workers: int = 1, **env: str):
    """The real API (``ecom serve``) on a benchmark database, process managers off unless
    ``env`` says otherwise."""
    command = ["-m", "composition.cli", "serve", "--port", str(port), "--log-level", "warning"]
    return served(
        command,
        {
            **SERVER_ENV,
            "ECOM_DATABASE_URL": url,
            "ECOM_RUN_PROCESSES": "0",
            "ECOM_WORKERS": str(workers),
            **env,
        },
        port,
    )


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run_load(spec: dict) -> dict:
    """Generate HTTP load from a separate (spawned) process and return what it saw.

    ``spec``: ``port``, ``connections`` (keep-alive, concurrent), ``seconds`` measured after
    ``warmup`` seconds, ``method``, ``paths`` (cycled), ``headers`` (dict), ``body`` (bytes or
    None; each ``__UUID__`` in it is replaced by a fresh UUID per request), ``collect_ids``
    (keep the ``id`` of every 201 answer), ``once`` (send each path once, then stop: the
    measured window runs from the start to the last answer). Returns ``statuses`` (counts),
    ``latencies_ms`` (sorted, 2xx answers inside the measured window), ``measured_s``, ``ids``."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_load_process, args=(spec, child), daemon=True)
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()
    if "error" in result:
        raise RuntimeError(f"load generator failed: {result['error']}")
    return result


def _load_process(spec: dict, conn) -> None:  # noqa: ANN001 - a multiprocessing Connection
    import asyncio

    try:
        conn.send(asyncio.run(_load(spec)))
    except BaseException as exc:  # reported to the parent
        conn.send({"error": repr(exc)})
    finally:
        conn.close()


async def _load(spec: dict) -> dict:
    """Closed loop: each connection sends its next request when the last answer arrives.
    A small HTTP/1.1 client on raw streams, so the generator costs little CPU."""
    import asyncio
    import itertools
    import time

    import orjson

    port, method = spec["port"], spec["method"].encode()
    once = spec.get("once", False)
    encoded = [p.encode() for p in spec["paths"]]
    paths = iter(encoded) if once else itertools.cycle(encoded)
    body = spec.get("body")
    extra = b"".join(f"{k}: {v}\r\n".encode() for k, v in spec.get("headers", {}).items())
    head = b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra
    if body is not None:
        head += b"Content-Type: application/json\r\n"
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    ids: list[str] = []
    collect_ids = spec.get("collect_ids", False)
    now = time.perf_counter
    begin = now()
    measure_from = begin + spec.get("warmup", 0.0)
    end = measure_from + spec["seconds"]
    last = [begin]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                t0 = now()
                if t0 >= end:
                    return
                path = next(paths, None)
                if path is None:
                    return
                request = method + b" " + path + head
                if body is not None:
                    payload = body.replace(b"__UUID__", str(uuid.uuid4()).encode())
                    request += b"Content-Length: %d\r\n\r\n" % len(payload) + payload
                else:
                    request += b"\r\n"
                writer.write(request)
                response_head = await reader.readuntil(b"\r\n\r\n")
                status = int(response_head[9:12])
                lower = response_head.lower()
                at = lower.find(b"content-length:")
                if at < 0:
                    raise RuntimeError("response without Content-Length")
                length = int(lower[at + 15 : lower.find(b"\r\n", at)])
                content = await reader.readexactly(length)
                t1 = now()
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201 and collect_ids:
                    ids.append(orjson.loads(content)["id"])
                if 200 <= status < 300 and t0 >= measure_from and t1 <= end:
                    latencies.append((t1 - t0) * 1000)
                last[0] = max(last[0], t1)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(spec["connections"])))
    latencies.sort()
    return {
        "statuses": statuses,
        "latencies_ms": latencies,
        "measured_s": last[0] - measure_from if once else spec["seconds"],
        "ids": ids,
    }


def load_summary(result: dict) -> dict:
    lat = result["latencies_ms"]
    return {
        "ok": len(lat),
        "rate": len(lat) / result["measured_s"],
        "p50": percentile(lat, 0.50),
        "p99": percentile(lat, 0.99),
        "statuses": result["statuses"],
    }
