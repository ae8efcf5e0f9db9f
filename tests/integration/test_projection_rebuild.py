"""Every read model rebuilt from position 0 equals the live one, row for row, and the live
one keeps serving while a rebuild runs beside it."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest
from psycopg import sql

from commands.context import CommandContext
from domain.location.commands import RegisterLocation
from projections.base import BOOKKEEPING_TABLES, live_schema
from projections.locations import list_locations
from tests.factories import send
from tests.tables import differences


@pytest.fixture(scope="module")
def seeded(container):
    """A few events of our own, so at least one view has rows whatever else ran before."""
    ctx = CommandContext.new("rebuild-test")
    for i in range(3):
        send(
            container,
            RegisterLocation(
                code=f"RB-{uuid4().hex[:8]}", name=f"Rebuild {i}", type="store", priority=i
            ),
            ctx,
        )
    return container


def snapshot(pool, schema: str) -> dict[str, list[tuple]]:
    """Every table of the schema but its bookkeeping (``BOOKKEEPING_TABLES``): all rows,
    ordered by all columns."""
    with pool.connection() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_type = 'BASE TABLE' "
                "AND table_name <> ALL(%s)",
                (schema, list(BOOKKEEPING_TABLES)),
            )
        ]
        out = {}
        for table in sorted(tables):
            rows = conn.execute(
                sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchall()
            out[table] = sorted(rows, key=lambda row: tuple(repr(v) for v in row))
    return out


def test_every_view_rebuilt_from_scratch_equals_the_live_view(seeded):
    runner = seeded.runner
    assert runner.projections, "no read models registered"
    for name in runner.projections:
        runner.catch_up([name])
        before = snapshot(seeded.pool, live_schema(name))
        position = runner.position(name)
        runner.rebuild(name)
        after = snapshot(seeded.pool, live_schema(name))
        assert after.keys() == before.keys(), name
        for table in before:
            problem = differences(after[table], before[table])
            assert problem is None, f"{name}.{table} differs after a rebuild: {problem}"
        assert runner.position(name) >= position


def test_the_live_view_keeps_serving_during_a_rebuild(seeded):
    runner = seeded.runner
    runner.catch_up(["locations"])
    expected = list_locations(seeded.pool)
    rebuilding = threading.Event()
    may_finish = threading.Event()

    def progress(position: int, head: int) -> None:
        rebuilding.set()
        may_finish.wait(timeout=30)

    worker = threading.Thread(
        target=runner.rebuild, args=("locations",), kwargs={"batch_size": 1, "progress": progress}
    )
    worker.start()
    try:
        assert rebuilding.wait(timeout=30)
        assert list_locations(seeded.pool) == expected
        statuses = {s.name: s.status for s in runner.status()}
        assert statuses["locations"] == "rebuilding"
    finally:
        may_finish.set()
        worker.join(timeout=60)
    assert not worker.is_alive()
    assert list_locations(seeded.pool) == expected
    assert {s.name: s.status for s in runner.status()}["locations"] != "rebuilding"
