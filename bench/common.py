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

from domain.events import DomainEvent
from ecom.bootstrap import Container, build
from ecom.settings import Settings
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
