"""Read model: forgotten customers; and the scrubbing of other views' copies of their data.

On ``customer.CustomerForgotten`` this view records the customer and, holding each order
view's advisory lock (so no batch of that view can write back a copy it read before), replaces
each personal leaf of the customer's order copies (order detail, summaries and search, the
placement and modification entries of the order timeline, the modifications list) by the
erased marker.
Events those views read later decode as erased anyway: the key is destroyed before the event
is written, and a rebuild decodes every event of the customer as erased.

The views scrubbed are the siblings of the schema this view is applied into: the in-process
views (``rm_<view>``) for ``rm_privacy_erasure``, and the same consumer group's views
(``rk_<group>__<view>``) for ``rk_<group>__privacy_erasure`` (docs/kafka.md); a sibling the
group does not build is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.customer.events import CustomerForgotten
from domain.order.events import OrderModified, OrderPlaced
from eventstore.privacy import ADDRESS_PARTS, GIFT_PARTS, personal_paths, scrub
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.runner import lock_key

KAFKA_SUFFIX = "__privacy_erasure"

_PLACED = "doc ->> 'customer_id' = ANY(%s)"
_OF_CUSTOMER = (
    "order_id IN (SELECT stream_id FROM personal_data_streams WHERE customer_id = ANY(%s::uuid[]))"
)
_ADDRESS_OR_GIFT = (*ADDRESS_PARTS, *GIFT_PARTS)
#: Each read-model copy of an order's personal data: (view, table, JSON column, key columns,
#: the condition that finds a customer's rows with one ``%s`` for the customer ids, the paths).
ORDER_COPIES = (
    ("order_detail", "order_detail", "doc", ("id",), _PLACED, personal_paths(OrderPlaced)),
    (
        "order_summaries",
        "order_summaries",
        "doc",
        ("id",),
        "customer_id = ANY(%s::uuid[])",
        personal_paths(OrderPlaced),
    ),
    (
        "order_search",
        "orders",
        "doc",
        ("id",),
        "customer_id = ANY(%s::uuid[])",
        personal_paths(OrderPlaced),
    ),
    (
        "order_timeline",
        "order_timeline",
        "data",
        ("order_id", "position"),
        "type = 'order_placed' AND data ->> 'customer_id' = ANY(%s)",
        personal_paths(OrderPlaced),
    ),
    (
        "order_timeline",
        "order_timeline",
        "data",
        ("order_id", "position"),
        f"type = 'order_modified' AND {_OF_CUSTOMER}",
        personal_paths(OrderModified),
    ),
    *(
        (
            "order_modifications",
            "order_modifications",
            column,
            ("order_id", "version"),
            _OF_CUSTOMER,
            _ADDRESS_OR_GIFT,
        )
        for column in ("old_value", "new_value")
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
    comments = {
        "forgotten_customers": "Customers whose data key was destroyed (right to be forgotten).",
        "forgotten_customers.customer_id": "The customer.",
        "forgotten_customers.forgotten_at": "When they were forgotten (business time).",
        "forgotten_customers.forgotten_by": "Who asked.",
        "forgotten_customers.position": "Event-log position of the CustomerForgotten event.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.forgotten_customers VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (customer_id) DO NOTHING"
            ).format(sql.Identifier(schema)),
            [
                (e.stream_id, f.forgotten_at, f.forgotten_by, e.position)
                for e in events
                if isinstance(f := e.to_domain(), CustomerForgotten)
            ],
        )
        scrub_order_copies(cur, [str(e.stream_id) for e in events], sibling_schemas(schema))

    def compare_key(self) -> dict[str, str]:
        return {"forgotten_customers": "customer_id"}


def sibling_schemas(schema: str) -> Callable[[str], str]:
    """Where view ``name`` lives beside this view's ``schema``: a Kafka group's own schema
    (``rk_<group>__privacy_erasure`` → ``rk_<group>__<name>``), else the in-process view."""
    if schema.startswith("rk_") and schema.endswith(KAFKA_SUFFIX):
        group_prefix = schema[: -len("privacy_erasure")]
        return lambda name: f"{group_prefix}{name}"[:63]  # as view_schemas.kafka_schema
    return live_schema


def scrub_order_copies(
    cur: Cursor, customer_ids: list[str], schema_of: Callable[[str], str] = live_schema
) -> None:
    # rows by name, in the caller's transaction (a Kafka consumer's cursor returns tuples)
    with cur.connection.cursor(row_factory=dict_row) as named:
        _scrub(named, customer_ids, schema_of)


def _scrub(cur: Cursor, customer_ids: list[str], schema_of: Callable[[str], str]) -> None:
    for view, table, column, key, condition, paths in ORDER_COPIES:
        schema = schema_of(view)
        cur.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (f'"{schema}"."{table}"',))
        if not cur.fetchone()["found"]:
            continue  # a Kafka group that does not build this view
        if schema == live_schema(view):  # the in-process view's batches hold this lock
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(view),))
        target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        keys = sql.SQL(", ").join(map(sql.Identifier, key))
        cur.execute(
            sql.SQL("SELECT {}, {} AS doc FROM {} WHERE {}").format(
                keys, sql.Identifier(column), target, sql.SQL(condition)
            ),
            (customer_ids,),
        )
        rows = cur.fetchall()
        for row in rows:
            if isinstance(row["doc"], dict):
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
