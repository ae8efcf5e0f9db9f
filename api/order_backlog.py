"""How far the followers of the log that every order passes through trail the orders placed:
the age, in seconds of the database's clock, of the oldest ``OrderPlaced`` that one of them
has not taken yet (``OrderBacklog``). They are the placement saga (which decides the order)
and the views that follow ``OrderPlaced`` (which show it: a read that waits for its own
write gives up after 5 s).

Read in one statement: each follower's row (its position, and when it last moved: the saga's
in ``process_tracking``, a view's in its schema's ``tracking``; progress, not a read model's
content), then one step of the ``(topic, notification_id)`` index. A follower that has not
moved for ``stall_s`` is taken for one that is not running here (stopped, or run elsewhere)
and is not counted, so that nothing waits on a follower that is not working; so is one whose
row does not exist (the process managers never ran on this database)."""

from __future__ import annotations

from collections.abc import Iterable

from psycopg import AsyncConnection, sql

from commands.placement_saga import OrderPlacementSaga
from projections.base import live_schema

(PLACED_TOPIC,) = OrderPlacementSaga.topics  # the saga follows one topic


class OrderBacklog:
    def __init__(self, views: Iterable[str], stall_s: float):
        """``views``: the names of the views that follow ``OrderPlaced``."""
        rows = [
            sql.SQL("SELECT position, updated_at FROM process_tracking WHERE name = {}").format(
                sql.Literal(OrderPlacementSaga.name)
            ),
            *(
                sql.SQL("SELECT position, updated_at FROM {}.tracking").format(
                    sql.Identifier(live_schema(name))
                )
                for name in sorted(views)
            ),
        ]
        self.statement = sql.SQL(
            """
SELECT extract(epoch FROM clock_timestamp() - e.recorded_at)::float8
  FROM (SELECT min(f.position) AS position
          FROM ({rows}) AS f
         WHERE f.updated_at > clock_timestamp() - make_interval(secs => {stall})) AS m
 CROSS JOIN LATERAL (
        SELECT recorded_at
          FROM stored_events
         WHERE topic = {topic} AND notification_id > m.position
         ORDER BY notification_id
         LIMIT 1) AS e"""
        ).format(
            rows=sql.SQL(" UNION ALL ").join(rows),
            stall=sql.Literal(stall_s),
            topic=sql.Literal(PLACED_TOPIC),
        )

    async def seconds(self, conn: AsyncConnection) -> float:
        """Seconds since the oldest order a running follower has not taken yet was placed; 0
        when every one of them has taken every order."""
        cur = await conn.execute(self.statement, prepare=True)
        row = await cur.fetchone()
        return max(0.0, row[0]) if row and row[0] is not None else 0.0
