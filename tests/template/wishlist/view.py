"""The wishlists view (as under ``projections/``): a row per wishlist and a row per SKU on it,
folded from the typed events; ``get_wishlist`` is its query."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from tests.template.wishlist import domain as d

NAME = "wishlists"


class WishlistsView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in d.WISHLIST_EVENTS)
    ddl = """
    CREATE TABLE {schema}.wishlists (id uuid PRIMARY KEY, customer_id uuid NOT NULL,
        version bigint NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE {schema}.items (wishlist_id uuid NOT NULL, sku text NOT NULL,
        added_version bigint NOT NULL, PRIMARY KEY (wishlist_id, sku));
    """
    #: What each table and column holds, written as COMMENTs (every one must be described).
    comments = {
        "wishlists": "One row per wishlist.",
        "wishlists.id": "The wishlist's stream id.",
        "wishlists.customer_id": "The customer it belongs to.",
        "wishlists.version": "Version of the wishlist's stream the row reflects.",
        "wishlists.updated_at": "Business time of its last event.",
        "items": "The SKUs on each wishlist.",
        "items.wishlist_id": "The wishlist.",
        "items.sku": "The SKU on it.",
        "items.added_version": "Stream version of the event that added it (list order).",
    }
    CREATE = "INSERT INTO {}.wishlists VALUES (%s, %s, 0, %s) ON CONFLICT DO NOTHING"
    #: Every event moves the row's version; an event at or below it was applied already.
    MOVE = "UPDATE {}.wishlists SET version = %s, updated_at = %s WHERE id = %s AND version < %s"
    ADD = "INSERT INTO {}.items VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
    REMOVE = "DELETE FROM {}.items WHERE wishlist_id = %s AND sku = %s"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur.rowcount

        for e in events:
            event, at, stream = e.to_domain(), e.meta.occurred_at, e.stream_id
            if isinstance(event, d.WishlistCreated):
                run(self.CREATE, stream, event.customer_id, at)
            if not run(self.MOVE, e.version, at, stream, e.version):
                continue
            match event:
                case d.WishlistItemAdded(sku=sku):
                    run(self.ADD, stream, sku, e.version)
                case d.WishlistItemRemoved(sku=sku):
                    run(self.REMOVE, stream, sku)

    def compare_key(self) -> dict[str, str]:
        return {"wishlists": "id", "items": "wishlist_id, sku"}


def get_wishlist(pool: ConnectionPool, wishlist_id: UUID) -> dict | None:
    """The wishlist with its SKUs in the order they were added, or None."""
    query = """SELECT id, customer_id, version, ARRAY(SELECT sku FROM {0}.items
        WHERE wishlist_id = w.id ORDER BY added_version) AS skus
        FROM {0}.wishlists w WHERE id = %s"""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(query).format(sql.Identifier(live_schema(NAME))), (wishlist_id,))
        return cur.fetchone()
