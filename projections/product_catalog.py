"""Read model: one row per product (details, price, lifecycle, categories, variants), folded
from the typed product events, and the queries that read it: one product, and a filtered,
cursor-paged list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.money import Money
from domain.product.events import (
    PRODUCT_EVENTS,
    CategoryAssigned,
    CategoryUnassigned,
    LifecycleStatusChanged,
    MasterVariantSet,
    PriceChanged,
    ProductCreated,
    ProductDetailsChanged,
    VariantAdded,
    VariantDeactivated,
)
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

COLUMNS = (
    "id, sku, name, description, brand, status, price_amount, price_currency, category_ids, "
    "attributes, variants, version, created_at, updated_at"
)


def _money(m: Money | None) -> dict[str, Any] | None:
    return None if m is None else m.model_dump(mode="json")


def _new_doc(e: RecordedEvent, c: ProductCreated) -> dict[str, Any]:
    return {
        "id": e.stream_id,
        "sku": c.sku,
        "name": c.name,
        "description": c.description,
        "brand": c.brand,
        "status": "draft",
        "price_amount": c.price.amount if c.price else None,
        "price_currency": c.price.currency if c.price else None,
        "category_ids": list(c.category_ids),
        "attributes": c.attributes,
        "variants": [],
        "version": e.version,
        "created_at": e.meta.occurred_at,
        "updated_at": e.meta.occurred_at,
    }


def _evolve(doc: dict[str, Any], e: RecordedEvent) -> None:
    match e.to_domain():
        case ProductDetailsChanged(changes=changes):
            for change in changes:
                doc[change.field] = change.new
        case PriceChanged(new=new):
            doc["price_amount"], doc["price_currency"] = new.amount, new.currency
        case VariantAdded(sku=sku, options=options, price=price):
            variant = {"sku": sku, "options": options, "price": _money(price)}
            doc["variants"] = [*doc["variants"], {**variant, "active": True, "master": False}]
        case VariantDeactivated(sku=sku):
            doc["variants"] = [
                {**v, "active": False} if v["sku"] == sku else v for v in doc["variants"]
            ]
        case MasterVariantSet(sku=sku):
            doc["variants"] = [{**v, "master": v["sku"] == sku} for v in doc["variants"]]
        case CategoryAssigned(category_id=category_id):
            doc["category_ids"] = [*doc["category_ids"], category_id]
        case CategoryUnassigned(category_id=gone):
            doc["category_ids"] = [c for c in doc["category_ids"] if c != gone]
        case LifecycleStatusChanged(new_status=status):
            doc["status"] = status
    doc["version"] = e.version
    doc["updated_at"] = e.meta.occurred_at


class ProductCatalogView(Projection):
    name = "product_catalog"
    topics = tuple(cls.stored_name() for cls in PRODUCT_EVENTS)
    ddl = """
    CREATE TABLE {schema}.products (
        id uuid PRIMARY KEY,
        sku text UNIQUE NOT NULL,
        name text NOT NULL,
        description text NOT NULL,
        brand text,
        status text NOT NULL,
        price_amount numeric,
        price_currency text,
        category_ids uuid[] NOT NULL,
        attributes jsonb NOT NULL,
        variants jsonb NOT NULL,
        version bigint NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX ON {schema}.products (created_at, id);
    CREATE INDEX ON {schema}.products (status, created_at, id);
    CREATE INDEX ON {schema}.products USING gin (category_ids);
    """
    comments = {
        "products": "One row per product: its current details, price and lifecycle status.",
        "products.id": "The product's stream id.",
        "products.sku": "The product's own SKU (variants have theirs in variants).",
        "products.name": "Display name.",
        "products.description": "Description text.",
        "products.brand": "Brand, if given.",
        "products.status": "draft, pending_approval, active, discontinued or archived.",
        "products.price_amount": "Current list price (NULL until priced).",
        "products.price_currency": "ISO 4217 currency of price_amount.",
        "products.category_ids": "Categories (rm_category_tree.categories.id) it is listed in.",
        "products.attributes": "Free-form attributes (JSON object).",
        "products.variants": "Its variants with their own SKUs and attributes (JSON array).",
        "products.version": "Version of the product's stream this row reflects.",
        "products.created_at": "When it was created (business time).",
        "products.updated_at": "When it last changed (business time).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        """Load the batch's products, fold the batch into them in order, write them back."""
        s = sql.Identifier(schema)
        ids = list({e.stream_id for e in events})
        cur.execute(
            sql.SQL("SELECT {} FROM {}.products WHERE id = ANY(%s)").format(sql.SQL(COLUMNS), s),
            (ids,),
        )
        docs = {row["id"]: dict(row) for row in cur.fetchall()}
        touched: dict[UUID, dict[str, Any]] = {}
        for e in events:
            doc = docs.get(e.stream_id)
            if e.name == "ProductCreated":
                if doc is None:
                    created = e.to_domain()
                    assert isinstance(created, ProductCreated)
                    docs[e.stream_id] = touched[e.stream_id] = _new_doc(e, created)
                continue
            if doc is None or e.version <= doc["version"]:
                continue  # already applied (or a stream we never saw created)
            _evolve(doc, e)
            touched[e.stream_id] = doc
        if not touched:
            return
        names = [c.strip() for c in COLUMNS.split(",")]
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in names[1:]
        )
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.products ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}"
            ).format(
                s, sql.SQL(COLUMNS), sql.SQL(", ").join([sql.Placeholder()] * len(names)), updates
            ),
            [
                tuple(Jsonb(doc[n]) if n in ("attributes", "variants") else doc[n] for n in names)
                for doc in touched.values()
            ],
        )

    def compare_key(self) -> dict[str, str]:
        return {"products": "id"}


def _table() -> sql.Composable:
    return sql.SQL("{}.products").format(sql.Identifier(live_schema("product_catalog")))


def get_product(pool: ConnectionPool, product_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = %s").format(sql.SQL(COLUMNS), _table()),
            (product_id,),
        )
        return cur.fetchone()


def list_products(
    pool: ConnectionPool,
    *,
    status: str | None = None,
    category_id: UUID | None = None,
    q: str | None = None,
    limit: int = 50,
    after: tuple[datetime, UUID] | None = None,
) -> list[dict[str, Any]]:
    """Products in (created_at, id) order, after the ``after`` key; at most ``limit`` rows."""
    where, params = [sql.SQL("true")], []
    if status is not None:
        where.append(sql.SQL("status = %s"))
        params.append(status)
    if category_id is not None:
        where.append(sql.SQL("%s = ANY(category_ids)"))
        params.append(category_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(sql.SQL("(name ILIKE %s OR sku ILIKE %s)"))
        params += [pattern, pattern]
    if after is not None:
        where.append(sql.SQL("(created_at, id) > (%s, %s)"))
        params += list(after)
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY created_at, id LIMIT %s").format(
        sql.SQL(COLUMNS), _table(), sql.SQL(" AND ").join(where)
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, [*params, limit])
        return cur.fetchall()
