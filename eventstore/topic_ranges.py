"""The events of a few topics after a position, in position order, read as one range of the
(topic, position) index per topic (``topic_ranges``).

**Why each topic is written into the statement.** Asked as ``topic = ANY(%s)`` or joined
from ``unnest(%s)``, a topic is unknown to the planner, which then takes it to be as common as
the average topic. A log's topics are anything but even (at ten million events, one type may
be nearly all of them, and the topics a directory follows a few hundred events in all), so
the planner walks the positions index from ``after`` and filters by topic, expecting to meet
the first page soon: a topic with no new event then costs a walk of the whole log after
``after`` (4 to 10 s a read at ten million events, on every placement). Written as a literal,
each topic is planned with its own statistics: a rare one reads its own index range, a
common one may walk the log, where it soon finds its page."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql


def topic_ranges(
    table: str, columns: str, topics: Sequence[str], *, upto: bool = False
) -> sql.Composed:
    """One statement over the events table ``table`` (a trusted name, as the store holds it):
    per topic of ``topics`` (as literals), its first events after a
    position (and up to one, with ``upto``), at most a limit of them; all merged in position
    order, at most a limit in all. Its parameters, per topic in order: ``after``, [``upto``,]
    the topic's limit; then the overall limit."""
    bound = " AND notification_id <= %s" if upto else ""
    ranges = [
        sql.SQL(
            "(SELECT {columns} FROM {table} WHERE topic = {topic} AND notification_id > %s"
            + bound
            + " ORDER BY notification_id LIMIT %s)"
        ).format(columns=sql.SQL(columns), table=sql.SQL(table), topic=sql.Literal(topic))
        for topic in topics
    ]
    return sql.SQL("SELECT * FROM ({}) e ORDER BY notification_id LIMIT %s").format(
        sql.SQL(" UNION ALL ").join(ranges)
    )
