"""The suppliers view: a row per supplier and a row per SKU it supplies, folded from
``SupplierRegistered``; ``get_supplier`` and ``list_suppliers`` are its queries."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg_pool import ConnectionPool

from domain.supply.events import SupplierRegistered
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.supply_paging import page

NAME = "suppliers"


class SuppliersView(Projection):
    name = NAME
    topics = (SupplierRegistered.stored_name(),)
    ddl = """
    CREATE TABLE {schema}.suppliers (id uuid PRIMARY KEY, name text NOT NULL,
        email text NOT NULL, lead_time_days integer NOT NULL,
        registered_at timestamptz NOT NULL, version bigint NOT NULL);
    CREATE TABLE {schema}.items (supplier_id uuid NOT NULL, sku text NOT NULL,
        cost numeric NOT NULL, currency text NOT NULL, pack_size integer NOT NULL,
        min_order_quantity integer NOT NULL, PRIMARY KEY (supplier_id, sku));
    CREATE INDEX ON {schema}.items (sku);
    """
    comments = {
        "suppliers": "One row per registered supplier.",
        "suppliers.id": "The supplier's stream id.",
        "suppliers.name": "The supplier's name.",
        "suppliers.email": "The supplier's business email address.",
        "suppliers.lead_time_days": "Promised days from an approved order to its delivery.",
        "suppliers.registered_at": "Business time of the registration.",
        "suppliers.version": "Version of the supplier's stream the row reflects.",
        "items": "What each supplier sells, one row per SKU.",
        "items.supplier_id": "The supplier.",
        "items.sku": "The SKU it supplies.",
        "items.cost": "Cost of one unit, in currency.",
        "items.currency": "ISO 4217 currency of the cost.",
        "items.pack_size": "Units per pack: orders are whole packs.",
        "items.min_order_quantity": "Fewest units an order line may ask for.",
    }
    SUPPLIER = "INSERT INTO {}.suppliers VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    ITEM = "INSERT INTO {}.items VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        target = sql.Identifier(schema)
        for e in events:
            event = e.to_domain()
            if not isinstance(event, SupplierRegistered):
                continue
            cur.execute(
                sql.SQL(self.SUPPLIER).format(target),
                (
                    e.stream_id,
                    event.name,
                    event.email,
                    event.lead_time_days,
                    e.meta.occurred_at,
                    e.version,
                ),
            )
            for i in event.items:
                cur.execute(
                    sql.SQL(self.ITEM).format(target),
                    (e.stream_id, i.sku, i.cost, i.currency, i.pack_size, i.min_order_quantity),
                )

    def compare_key(self) -> dict[str, str]:
        return {"suppliers": "id", "items": "supplier_id, sku"}


_SELECT = "SELECT t.id, t.name, t.email, t.lead_time_days, t.registered_at FROM {}.suppliers t"


def _with_items(rows: list[dict], cur: Cursor) -> list[dict]:
    if not rows:
        return rows
    cur.execute(
        sql.SQL(
            "SELECT supplier_id, sku, cost, currency, pack_size, min_order_quantity "
            "FROM {}.items WHERE supplier_id = ANY(%s) ORDER BY sku"
        ).format(sql.Identifier(live_schema(NAME))),
        ([r["id"] for r in rows],),
    )
    items: dict[UUID, list[dict]] = {}
    for i in cur.fetchall():
        items.setdefault(i.pop("supplier_id"), []).append(
            {**i, "cost": {"amount": str(i["cost"]), "currency": i.pop("currency")}}
        )
    return [{**r, "items": items.get(r["id"], [])} for r in rows]


def list_suppliers(
    pool: ConnectionPool, *, sku: str | None = None, limit: int = 50, after: UUID | None = None
) -> tuple[list[dict], UUID | None]:
    """Suppliers in id order after ``after``; with ``sku``, those that supply it."""
    schema = sql.Identifier(live_schema(NAME))
    select = sql.SQL(_SELECT).format(schema)
    if sku is not None:
        select = sql.SQL("{} JOIN {}.items i ON i.supplier_id = t.id AND i.sku = {}").format(
            select, schema, sql.Literal(sku)
        )
    return page(pool, select, {}, limit, after, _with_items)


def get_supplier(pool: ConnectionPool, supplier_id: UUID) -> dict | None:
    rows, _ = page(
        pool,
        sql.SQL(_SELECT).format(sql.Identifier(live_schema(NAME))),
        {"id": supplier_id},
        1,
        None,
        _with_items,
    )
    return rows[0] if rows else None
