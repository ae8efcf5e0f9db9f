"""The one paged query the supply views share: rows of a table in id order after a cursor,
filtered by equality on named columns; the last id when there are more."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def page(
    pool: ConnectionPool,
    select: sql.Composable,
    filters: Mapping[str, object],
    limit: int,
    after: UUID | None,
    shape: Callable[[list[dict], object], list[dict]],
) -> tuple[list[dict], UUID | None]:
    """``select`` ends before its WHERE; ``filters`` are column → value (None: not filtered);
    ``shape(rows, cur)`` adds what each row carries besides its own columns."""
    where: list[sql.Composable] = [sql.SQL("TRUE")]
    args: list[object] = []
    for column, value in filters.items():
        if value is not None:
            where.append(sql.SQL("{} = %s").format(sql.Identifier("t", column)))
            args.append(value)
    if after is not None:
        where.append(sql.SQL("t.id > %s"))
        args.append(after)
    query = sql.SQL("{} WHERE {} ORDER BY t.id LIMIT %s").format(
        select, sql.SQL(" AND ").join(where)
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (*args, limit + 1))
        rows = cur.fetchall()
        more = len(rows) > limit
        rows = shape(rows[:limit], cur)
    return rows, (rows[-1]["id"] if more and rows else None)
