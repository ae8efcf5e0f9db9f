"""The replenishment suggestions view: a row per suggestion (open, closed, or unsourced when no
supplier carries the SKU), folded from the suggestion streams; ``list_suggestions`` is its
query."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg_pool import ConnectionPool

from domain.supply.events import ReorderSuggested, ReorderSuggestionClosed
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.supply_paging import page

NAME = "replenishment"


class ReplenishmentView(Projection):
    name = NAME
    topics = (ReorderSuggested.stored_name(), ReorderSuggestionClosed.stored_name())
    ddl = """
    CREATE TABLE {schema}.suggestions (id uuid PRIMARY KEY, sku text NOT NULL,
        location text NOT NULL, status text NOT NULL, quantity integer NOT NULL,
        available integer NOT NULL, reorder_point integer NOT NULL, supplier_id uuid,
        purchase_order_id uuid, suggested_at timestamptz NOT NULL, closed_at timestamptz,
        close_reason text);
    CREATE INDEX ON {schema}.suggestions (sku, location);
    """
    comments = {
        "suggestions": "One row per reorder suggestion.",
        "suggestions.id": "The suggestion's id.",
        "suggestions.sku": "The SKU that fell to its reorder point.",
        "suggestions.location": "The location code where it did.",
        "suggestions.status": "open, closed, or unsourced (no supplier carries the SKU).",
        "suggestions.quantity": "Units suggested (whole packs of the chosen supplier).",
        "suggestions.available": "Units available there when it was suggested.",
        "suggestions.reorder_point": "The location's reorder point for the SKU then.",
        "suggestions.supplier_id": "The supplier chosen (shortest lead time, then cheapest).",
        "suggestions.purchase_order_id": "The pending purchase order drafted for it.",
        "suggestions.suggested_at": "Business time of the suggestion.",
        "suggestions.closed_at": "When its order was received or cancelled.",
        "suggestions.close_reason": "received or cancelled.",
    }
    OPEN = """INSERT INTO {}.suggestions VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
        NULL, NULL) ON CONFLICT DO NOTHING"""
    CLOSE = """UPDATE {}.suggestions SET status = 'closed', closed_at = %s, close_reason = %s
        WHERE id = %s AND status = 'open'"""

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        target = sql.Identifier(schema)
        for e in events:
            event = e.to_domain()
            if isinstance(event, ReorderSuggested):
                status = "open" if event.purchase_order_id is not None else "unsourced"
                cur.execute(
                    sql.SQL(self.OPEN).format(target),
                    (
                        event.suggestion_id,
                        event.sku,
                        event.location,
                        status,
                        event.quantity,
                        event.available,
                        event.reorder_point,
                        event.supplier_id,
                        event.purchase_order_id,
                        e.meta.occurred_at,
                    ),
                )
            elif isinstance(event, ReorderSuggestionClosed):
                cur.execute(
                    sql.SQL(self.CLOSE).format(target),
                    (e.meta.occurred_at, event.reason, event.suggestion_id),
                )

    def compare_key(self) -> dict[str, str]:
        return {"suggestions": "id"}


def list_suggestions(
    pool: ConnectionPool,
    *,
    status: str | None = None,
    sku: str | None = None,
    location: str | None = None,
    limit: int = 50,
    after: UUID | None = None,
) -> tuple[list[dict], UUID | None]:
    """Suggestions in id order after ``after``, filtered."""
    select = sql.SQL("SELECT t.* FROM {}.suggestions t").format(sql.Identifier(live_schema(NAME)))
    filters = {"status": status, "sku": sku, "location": location}
    return page(pool, select, filters, limit, after, lambda rows, _cur: rows)
