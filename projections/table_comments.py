"""What each read-model table and column means, written into the database as ``COMMENT``s so an
analyst browsing with ``\\d+`` (or any SQL client) reads the definitions beside the data.

Each view declares its comments once, beside its DDL (``Projection.comments``: ``"table"`` for
a table, ``"table.column"`` for a column); the runner writes them when it creates the view's
schema and again at every deploy (``COMMENT ON`` replaces), so a changed text reaches existing
databases. The ``tracking`` table every schema has is described here.
"""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg import sql

TRACKING_COMMENTS: Mapping[str, str] = {
    "tracking": "How far this read model has read the event log (one row).",
    "tracking.position": "Last event-log position applied; the tables hold exactly the events "
    "up to it.",
    "tracking.updated_at": "When the position last moved.",
}


def describe(conn: psycopg.Connection, schema: str, comments: Mapping[str, str]) -> None:
    """Write ``comments`` (and the tracking table's) on the tables of ``schema``, table by
    table in name order: ``COMMENT ON`` locks its table until the transaction ends, and the
    runner's ``ANALYZE`` of a schema (``statistics.analyze``) takes the same lock on its
    tables in that order, so a deploy beside a running view waits instead of deadlocking."""
    every = {**TRACKING_COMMENTS, **comments}
    for key in sorted(every, key=lambda k: k.partition(".")[::2]):
        text = every[key]
        table, _, column = key.partition(".")
        if column:
            target = sql.SQL("COLUMN {}.{}.{}").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)
            )
        else:
            target = sql.SQL("TABLE {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        conn.execute(sql.SQL("COMMENT ON {} IS {}").format(target, sql.Literal(text)))
