"""A batch's rows written in one statement, so a view's ``apply`` pays one round trip per
batch and table, not one per row (``executemany`` pipelines them, but the server still parses,
plans and runs one statement per row):

- ``insert_records``: the rows as one JSON parameter, read back as the table's row type
  (``jsonb_populate_recordset``); a short statement whatever the batch's size, so the client
  does not rewrite thousands of placeholders. For tables with many columns.
- ``insert_values``: ``INSERT ... VALUES (...), (...) ...``, for a few columns or a row
  template with literals; batches with more parameters than a statement takes are split. A
  multi-row ``VALUES`` in an ``INSERT`` coerces each value to its target column as a one-row
  one does, so the parameters bind as they did one row at a time.

The rows of one statement must not share a conflict key when it ends in ``ON CONFLICT ... DO
UPDATE`` (the server refuses to update a row twice); with ``DO NOTHING`` the first of them
wins, as it would one at a time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

import orjson
from psycopg import Cursor, RawCursor, sql
from psycopg.types.json import Jsonb

#: Parameters one statement may carry (the protocol's limit is 65,535).
MAX_PARAMS = 60_000


def insert_values(
    cur: Cursor,
    head: sql.Composable,
    rows: Sequence[Sequence[object]],
    tail: sql.Composable = sql.SQL(""),
    row: str | None = None,
) -> int:
    """``head VALUES row, row, ... tail`` with ``rows`` as the parameters, in as few
    statements as the parameter limit allows; returns the rows the statements affected (the
    statement runs on a cursor of its own: ``tail`` returns nothing). ``row`` is one row's
    template (default: a ``%s`` per value of the first row).

    The statement is written with numbered placeholders (``$1, $2, ...``) and sent as it is
    (``RawCursor``): psycopg rewrites ``%s`` placeholders with a scan of the whole text, which
    it caches only for statements under 4 KB, so a batch of a few hundred rows was scanned
    anew every time (an eighth of the views' time catching up)."""
    if not rows:
        return 0
    pieces = tuple((row or "(" + ", ".join(["%s"] * len(rows[0])) + ")").encode().split(b"%s"))
    width = max(1, len(pieces) - 1)
    start, end = head.as_bytes(cur) + b" VALUES ", b" " + tail.as_bytes(cur)
    chunk = max(1, MAX_PARAMS // width)
    affected = 0
    with RawCursor(cur.connection) as raw:
        for i in range(0, len(rows), chunk):
            part = rows[i : i + chunk]
            raw.execute(
                start + _numbered(pieces, len(part)) + end, [value for r in part for value in r]
            )
            affected += raw.rowcount
    return affected


def _numbered(pieces: tuple[bytes, ...], count: int) -> bytes:
    """``count`` copies of the row template split at its placeholders (``pieces``), joined by
    commas, its placeholders numbered ``$1``, ``$2``, ... across all of them. Kept for the
    small counts a live pass writes (a large one is written once, in a rebuild's batch)."""
    return _numbered_kept(pieces, count) if count <= 256 else _numbered_new(pieces, count)


@lru_cache(maxsize=256)
def _numbered_kept(pieces: tuple[bytes, ...], count: int) -> bytes:
    return _numbered_new(pieces, count)


def _numbered_new(pieces: tuple[bytes, ...], count: int) -> bytes:
    out: list[bytes] = []
    n = 0
    for _ in range(count):
        if out:
            out.append(b", ")
        out.append(pieces[0])
        for piece in pieces[1:]:
            n += 1
            out.append(b"$%d" % n)
            out.append(piece)
    return b"".join(out)


def _json(value: object) -> bytes:
    # Decimals as strings (a numeric column reads them exactly, scale kept); UUIDs, dates
    # and times as orjson writes them (ISO 8601 with the offset when aware); what orjson
    # refuses (an integer beyond 64 bits) as ``json`` writes it.
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, default=str).encode()


def insert_records(
    cur: Cursor,
    table: sql.Composable,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    tail: sql.Composable = sql.SQL(""),
) -> int:
    """``INSERT INTO table (columns) ... tail`` of ``rows`` (values in ``columns`` order),
    sent as one JSON parameter read back as the table's own row type
    (``jsonb_populate_recordset``): one short statement however many rows, each value
    converted by its column's type as a bound parameter would be."""
    if not rows:
        return 0
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    cur.execute(
        sql.SQL(
            "INSERT INTO {t} ({c}) SELECT {c} FROM jsonb_populate_recordset(NULL::{t}, %s) {tail}"
        ).format(t=table, c=names, tail=tail),
        (Jsonb([dict(zip(columns, r, strict=True)) for r in rows], dumps=_json),),
    )
    return cur.rowcount
