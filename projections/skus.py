"""Read model: the SKU registry (which product owns each claimed SKU), so that the inventory
reads tell a known SKU without stock (zeros) from an unknown one (404) without reading the log.

A claim is the one event of its SKU's stream and never changes: a repeat inserts nothing."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import Cursor, sql
from psycopg_pool import ConnectionPool

from domain.product.sku import SKU_EVENTS, SkuClaimed
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "skus"


class SkusView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in SKU_EVENTS)
    ddl = """
    CREATE TABLE {schema}.skus (
        sku text PRIMARY KEY,
        product_id uuid NOT NULL,
        is_variant boolean NOT NULL
    );
    """
    comments = {
        "skus": "Which product each SKU belongs to (a product's own SKU or a variant's).",
        "skus.sku": "The stock-keeping unit.",
        "skus.product_id": "The product (rm_product_catalog.products.id).",
        "skus.is_variant": "True for a variant's SKU, false for the product's own.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        claims = [e.to_domain() for e in events]
        cur.executemany(
            sql.SQL("INSERT INTO {}.skus VALUES (%s, %s, %s) ON CONFLICT (sku) DO NOTHING").format(
                sql.Identifier(schema)
            ),
            [(c.sku, c.product_id, c.is_variant) for c in claims if isinstance(c, SkuClaimed)],
        )

    def compare_key(self) -> dict[str, str]:
        return {"skus": "sku"}


def is_claimed(pool: ConnectionPool, sku: str) -> bool:
    """Whether the view has seen a claim of ``sku``."""
    with pool.connection() as conn:
        row = conn.execute(
            sql.SQL("SELECT 1 FROM {}.skus WHERE sku = %s").format(
                sql.Identifier(live_schema(NAME))
            ),
            (sku,),
        ).fetchone()
    return row is not None
