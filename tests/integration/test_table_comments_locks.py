"""A deploy's ``describe`` (``COMMENT ON`` every table of a view) beside a running view's
``ANALYZE`` of the same schema: both lock the schema's tables in name order, so one waits for
the other instead of the two deadlocking (a projector process starting beside a running view
died of that)."""

from __future__ import annotations

import threading
import time

import psycopg

from projections.base import live_schema
from projections.product_search import ProductSearchView
from projections.table_comments import describe


def _waiting_on_a_lock(conn: psycopg.Connection, pid: int) -> bool:
    row = conn.execute(
        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
    ).fetchone()
    return row is not None and row[0] == "Lock"


def test_describe_waits_behind_an_analyze_of_the_same_schema_instead_of_deadlocking(container):
    """Given a transaction that, as ``ANALYZE`` does, has locked a view's first table by name
    (``categories``), when the view's comments are written meanwhile and then that
    transaction locks a later table (``products``), then the comments wait for it and are
    written after it commits: neither side is chosen as a deadlock's victim."""
    view = ProductSearchView()
    schema = live_schema(view.name)
    container.runner.ensure_schemas()
    url = container.url
    with psycopg.connect(url) as analyzing, psycopg.connect(url) as watching:
        watching.autocommit = True
        analyzing.execute(f"LOCK TABLE {schema}.categories IN SHARE UPDATE EXCLUSIVE MODE")
        outcome: list[BaseException | None] = []
        with psycopg.connect(url) as deploying:
            pid = deploying.info.backend_pid

            def deploy() -> None:
                try:
                    with deploying.transaction():
                        describe(deploying, schema, view.comments)
                    outcome.append(None)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    outcome.append(exc)

            t = threading.Thread(target=deploy)
            t.start()
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock(watching, pid) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert _waiting_on_a_lock(watching, pid), "describe should wait on categories"
            analyzing.execute(f"LOCK TABLE {schema}.products IN SHARE UPDATE EXCLUSIVE MODE")
            analyzing.commit()
            t.join(30)
    assert outcome == [None]
