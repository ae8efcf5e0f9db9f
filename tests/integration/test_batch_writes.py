"""``projections.batch_writes`` on a real table: a batch's rows in one statement (or as few
as the parameter limit allows), each value bound as a parameter of its column, the conflict
clause applied, the count of rows affected returned."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from projections import batch_writes
from projections.batch_writes import _numbered, insert_records, insert_values


@pytest.fixture
def table(database_url):
    name = f"bw_{uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id uuid PRIMARY KEY, n int NOT NULL, amount numeric, "
                "doc jsonb, note text, status text)"
            ).format(sql.Identifier(name))
        )
        try:
            yield conn, sql.Identifier(name)
        finally:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


def _rows(conn, table) -> list[tuple]:
    return conn.execute(
        sql.SQL("SELECT id, n, amount, doc, note, status FROM {} ORDER BY n").format(table)
    ).fetchall()


def test_numbered_placeholders_run_across_the_rows():
    assert _numbered((b"(", b", ", b", 0)"), 3) == b"($1, $2, 0), ($3, $4, 0), ($5, $6, 0)"
    assert _numbered((b"(", b")"), 1) == b"($1)"


def test_many_rows_in_one_statement_each_value_bound_to_its_column(table):
    conn, t = table
    rows = [
        (uuid4(), i, Decimal(f"{i}.10"), Jsonb({"i": i, "s": "it's 100% $1"}), f"%s {i}")
        for i in range(1200)
    ]
    with conn.cursor() as cur:
        head = sql.SQL("INSERT INTO {} (id, n, amount, doc, note, status)").format(t)
        affected = insert_values(cur, head, rows, row="(%s, %s, %s, %s, %s, 'new')")
    assert affected == 1200
    got = _rows(conn, t)
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in got] == [
        (r[0], r[1], r[2], r[3].obj, r[4], "new") for r in rows
    ]


def test_a_conflict_clause_applies_and_the_affected_rows_are_counted(table):
    conn, t = table
    ids = [uuid4() for _ in range(5)]
    head = sql.SQL("INSERT INTO {} (id, n)").format(t)
    with conn.cursor() as cur:
        assert insert_values(cur, head, [(i, n) for n, i in enumerate(ids[:3])]) == 3
        tail = sql.SQL("ON CONFLICT (id) DO UPDATE SET n = excluded.n + 100")
        assert insert_values(cur, head, [(i, n) for n, i in enumerate(ids)], tail) == 5
        assert insert_values(cur, head, [], tail) == 0
    assert [r[1] for r in _rows(conn, t)] == [3, 4, 100, 101, 102]


def test_a_batch_beyond_the_parameter_limit_is_split(table, monkeypatch):
    conn, t = table
    monkeypatch.setattr(batch_writes, "MAX_PARAMS", 10)  # five rows of two a statement
    seen: list[bytes] = []
    real = psycopg.RawCursor.execute

    def counted(self, query, params=None, **kw):  # noqa: ANN001, ANN202
        seen.append(query)
        return real(self, query, params, **kw)

    monkeypatch.setattr(psycopg.RawCursor, "execute", counted)
    rows = [(uuid4(), n) for n in range(12)]
    with conn.cursor() as cur:
        assert insert_values(cur, sql.SQL("INSERT INTO {} (id, n)").format(t), rows) == 12
    assert len(seen) == 3
    assert [r[1] for r in _rows(conn, t)] == list(range(12))


def test_records_as_one_json_parameter(table):
    conn, t = table
    rows = [(uuid4(), n, Decimal("1.50"), "a'b") for n in range(300)]
    with conn.cursor() as cur:
        assert insert_records(cur, t, ["id", "n", "amount", "note"], rows) == 300
    got = _rows(conn, t)
    assert [(r[0], r[1], r[2], r[4]) for r in got] == rows
