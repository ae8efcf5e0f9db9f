"""Read model of order search (schema ``rm_order_search``): one row per order with what staff
search by (number, customer, SKUs of its lines, tags, status, placement time), folded by the
order document's own fold (``projections/order_detail.py`` ``evolve_documents``, as the order
summaries are); ``search_orders`` is its query.

A query ``q`` matches an order by its number (``q`` all digits, an optional ``#``), its
customer's email (``q`` holding ``@``: the email as registered, case aside, read from the
customers view at query time, so a forgotten customer's orders are no longer found by it), a
SKU of one of its lines, or one of its tags (whole tag or tag key, case aside). ``status``,
``from`` and ``to`` narrow further; every filter combines with the others and ``total`` counts
the filtered set. Newest first, cursor on (created_at, id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.customer.contact import email_key
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.batch_writes import insert_records
from projections.order_detail import ORDER_TOPICS, evolve_documents

NAME = "order_search"
CUSTOMERS = "rm_customers"


def _tag_terms(tags: list[str]) -> list[str]:
    terms = set()
    for t in tags:
        folded = t.strip().casefold()
        terms.add(folded)
        terms.add(folded.split(":", 1)[0])
    return sorted(terms)


class OrderSearchView(Projection):
    name = NAME
    topics = ORDER_TOPICS
    ddl = """
    CREATE TABLE {schema}.orders (
        id uuid PRIMARY KEY,
        number bigint NOT NULL,
        customer_id uuid NOT NULL,
        status text NOT NULL,
        skus text[] NOT NULL,
        tags text[] NOT NULL,
        tag_terms text[] NOT NULL,
        currency text NOT NULL,
        total numeric NOT NULL,
        created_at timestamptz NOT NULL,
        version bigint NOT NULL,
        doc jsonb NOT NULL
    );
    CREATE INDEX ON {schema}.orders (number);
    CREATE INDEX ON {schema}.orders (customer_id, created_at DESC);
    CREATE INDEX ON {schema}.orders (created_at DESC, id DESC);
    CREATE INDEX ON {schema}.orders USING gin (skus);
    CREATE INDEX ON {schema}.orders USING gin (tag_terms);
    """
    comments = {
        "orders": "One row per order, with what staff search orders by.",
        "orders.id": "The order's stream id.",
        "orders.number": "Human order number.",
        "orders.customer_id": "The customer who placed it (email: the customers view).",
        "orders.status": "Current status.",
        "orders.skus": "SKUs of its lines.",
        "orders.tags": "Tags as given.",
        "orders.tag_terms": "Tags and tag keys case-folded (search terms).",
        "orders.currency": "ISO 4217 currency.",
        "orders.total": "Order total as placed or last edited.",
        "orders.created_at": "When it was placed (business time).",
        "orders.version": "Version of the order's stream the row reflects.",
        "orders.doc": "The order document the fold keeps (JSON).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        table = sql.SQL("{}.orders").format(sql.Identifier(schema))
        ids = list({e.stream_id for e in events})
        cur.execute(sql.SQL("SELECT id, doc FROM {} WHERE id = ANY(%s)").format(table), (ids,))
        docs = {r["id"]: r["doc"] for r in cur.fetchall()}
        changed = evolve_documents(docs, events)
        # The batch's rows in one statement (one per order: no id twice).
        insert_records(
            cur,
            table,
            ROW_COLUMNS,
            [_row(i, docs[i]) for i in changed],
            sql.SQL(
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, skus = excluded.skus, "
                "tags = excluded.tags, tag_terms = excluded.tag_terms, total = excluded.total, "
                "version = excluded.version, doc = excluded.doc"
            ),
        )

    def compare_key(self) -> dict[str, str]:
        return {"orders": "id"}


def _row(order_id: UUID, doc: dict[str, Any]) -> tuple:
    return (
        order_id,
        doc["number"],
        doc["customer_id"],
        doc["status"],
        sorted({line["sku"] for line in doc.get("lines", [])}),
        doc["tags"],
        _tag_terms(doc["tags"]),
        doc["currency"],
        doc["total"]["amount"],
        doc["created_at"],
        doc["version"],
        doc,
    )


#: The table's columns, in ``_row``'s order.
ROW_COLUMNS = (
    "id",
    "number",
    "customer_id",
    "status",
    "skus",
    "tags",
    "tag_terms",
    "currency",
    "total",
    "created_at",
    "version",
    "doc",
)


@dataclass(frozen=True)
class OrderSearch:
    q: str = ""
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int = 50
    after: tuple[datetime, UUID] | None = None


def search_orders(pool: ConnectionPool, f: OrderSearch) -> dict[str, Any]:
    """The page (newest first), ``total`` of the filtered set, and the key to go on after."""
    where: list[sql.Composable] = []
    params: dict[str, Any] = {}
    q = f.q.strip()
    if q:
        matches = [sql.SQL("%(q)s = ANY(o.skus)"), sql.SQL("%(term)s = ANY(o.tag_terms)")]
        params["q"], params["term"] = q, q.casefold()
        digits = q.removeprefix("#")
        if digits.isdigit() and len(digits) <= 18:
            params["number"] = int(digits)
            matches.append(sql.SQL("o.number = %(number)s"))
        if "@" in q:
            params["email"] = email_key(q)
            matches.append(
                sql.SQL(
                    "o.customer_id IN (SELECT id FROM {}.customers WHERE email_key = %(email)s)"
                ).format(sql.Identifier(CUSTOMERS))
            )
        where.append(sql.SQL("(") + sql.SQL(" OR ").join(matches) + sql.SQL(")"))
    if f.status is not None:
        params["status"] = f.status
        where.append(sql.SQL("o.status = %(status)s"))
    if f.created_from is not None:
        params["from"] = f.created_from
        where.append(sql.SQL("o.created_at >= %(from)s"))
    if f.created_to is not None:
        params["to"] = f.created_to
        where.append(sql.SQL("o.created_at < %(to)s"))
    clause = sql.SQL(" AND ").join(where) if where else sql.SQL("true")
    page = clause
    if f.after is not None:
        params["after_at"], params["after_id"] = f.after
        page = clause + sql.SQL(" AND (o.created_at, o.id) < (%(after_at)s, %(after_id)s)")
    params["limit"] = f.limit + 1
    table = sql.SQL("{}.orders o").format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT id, number, customer_id, status, skus, tags, currency, total::text AS "
                "total, created_at FROM {} WHERE {} ORDER BY created_at DESC, id DESC "
                "LIMIT %(limit)s"
            ).format(table, page),
            params,
        )
        rows = cur.fetchall()
        cur.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE {}").format(table, clause), params)
        total = cur.fetchone()["n"]
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return {
        "items": rows,
        "total": total,
        "after": (rows[-1]["created_at"], rows[-1]["id"]) if more else None,
    }
