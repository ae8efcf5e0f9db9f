"""Read model: forgotten customers; and the scrubbing of other views' copies of their data.

On ``customer.CustomerForgotten`` this view records the customer and, holding each order
view's advisory lock (so no batch of that view can write back a copy it read before), replaces
each personal leaf of the customer's order documents (order detail, the placement entry of the
order timeline) by the erased marker. Events those views
read later decode as erased anyway: the key is destroyed before the event is written, and a
rebuild decodes every event of the customer as erased.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.order.events import OrderPlaced
from eventstore.privacy import personal_paths, scrub
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.runner import lock_key

#: Each read-model copy of an order's personal data: (view, table, JSON column, key columns,
#: the condition that finds a customer's rows, with one ``%s`` for the customer ids).
ORDER_COPIES = (
    ("order_detail", "order_detail", "doc", ("id",), "doc ->> 'customer_id' = ANY(%s)"),
    (
        "order_timeline",
        "order_timeline",
        "data",
        ("order_id", "version"),
        "type = 'order_placed' AND data ->> 'customer_id' = ANY(%s)",
    ),
)


class PrivacyErasureView(Projection):
    name = "privacy_erasure"
    topics = ("customer.CustomerForgotten",)
    ddl = """
    CREATE TABLE {schema}.forgotten_customers (
        customer_id uuid PRIMARY KEY,
        forgotten_at timestamptz NOT NULL,
        forgotten_by text NOT NULL,
        position bigint NOT NULL
    );
    """

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.forgotten_customers VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (customer_id) DO NOTHING"
            ).format(sql.Identifier(schema)),
            [
                (e.stream_id, e.data["forgotten_at"], e.data["forgotten_by"], e.position)
                for e in events
            ],
        )
        scrub_order_copies(cur, [str(e.stream_id) for e in events])

    def compare_key(self) -> dict[str, str]:
        return {"forgotten_customers": "customer_id"}


def scrub_order_copies(cur: Cursor, customer_ids: list[str]) -> None:
    paths = personal_paths(OrderPlaced)
    for view, table, column, key, condition in ORDER_COPIES:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(view),))
        target = sql.SQL("{}.{}").format(sql.Identifier(live_schema(view)), sql.Identifier(table))
        keys = sql.SQL(", ").join(map(sql.Identifier, key))
        cur.execute(
            sql.SQL("SELECT {}, {} AS doc FROM {} WHERE {}").format(
                keys, sql.Identifier(column), target, sql.SQL(condition)
            ),
            (customer_ids,),
        )
        rows = cur.fetchall()
        for row in rows:
            scrub(row["doc"], paths)
        match = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in key)
        cur.executemany(
            sql.SQL("UPDATE {} SET {} = %s WHERE {}").format(target, sql.Identifier(column), match),
            [(Jsonb(row["doc"]), *(row[k] for k in key)) for row in rows],
        )


def forgotten_at(pool: ConnectionPool, customer_id: UUID) -> str | None:
    with pool.connection() as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT forgotten_at FROM {}.forgotten_customers WHERE customer_id = %s"
            ).format(sql.Identifier(live_schema("privacy_erasure"))),
            (customer_id,),
        ).fetchone()
    return None if row is None else row[0].isoformat()
