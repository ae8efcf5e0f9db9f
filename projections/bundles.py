"""The bundles view: each bundle, its components, and the current price of every product and
variant SKU (folded from the product events), so ``get_bundle`` answers a bundle's price,
component sum and savings at the components' current prices (``domain.bundle.pricing``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.bundle.events import BUNDLE_EVENTS, BundleComponent, BundleCreated, BundlePricing
from domain.bundle.pricing import bundle_price
from domain.product.events import PriceChanged, ProductCreated, VariantAdded
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "bundles"
PRICE_EVENTS = (ProductCreated, PriceChanged, VariantAdded)


class BundlesView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in (*BUNDLE_EVENTS, *PRICE_EVENTS))
    ddl = """
    CREATE TABLE {schema}.bundles (id uuid PRIMARY KEY, sku text NOT NULL UNIQUE,
        name text NOT NULL, pricing_type text NOT NULL, pricing_value numeric,
        currency text NOT NULL, created_at timestamptz NOT NULL);
    CREATE TABLE {schema}.components (bundle_id uuid NOT NULL, sku text NOT NULL,
        quantity integer NOT NULL, position integer NOT NULL, PRIMARY KEY (bundle_id, sku));
    CREATE TABLE {schema}.product_prices (product_id uuid PRIMARY KEY, amount numeric,
        currency text, version bigint NOT NULL);
    CREATE TABLE {schema}.sku_prices (sku text PRIMARY KEY, product_id uuid NOT NULL,
        own_amount numeric, own_currency text);
    """
    comments = {
        "bundles": "One row per bundle (a SKU sold as a set of other SKUs).",
        "bundles.id": "The bundle's stream id (made of its SKU).",
        "bundles.sku": "The bundle's SKU, unique across products, variants and bundles.",
        "bundles.name": "The bundle's name.",
        "bundles.pricing_type": "fixed_price, percentage_discount or component_sum.",
        "bundles.pricing_value": "The fixed price, or the discount in percent; null for "
        "component_sum.",
        "bundles.currency": "The components' currency when the bundle was made.",
        "bundles.created_at": "Business time of BundleCreated.",
        "components": "The SKUs each bundle holds.",
        "components.bundle_id": "The bundle.",
        "components.sku": "A component's SKU (a product's or a variant's).",
        "components.quantity": "How many of it one bundle holds.",
        "components.position": "Its place in the bundle's list (0 first).",
        "product_prices": "Each product's current price, for pricing bundles.",
        "product_prices.product_id": "The product's stream id.",
        "product_prices.amount": "Its current price (null when it has none).",
        "product_prices.currency": "That price's currency.",
        "product_prices.version": "Version of the product's stream the row reflects.",
        "sku_prices": "Each product's and variant's SKU, with a variant's own price.",
        "sku_prices.sku": "The SKU.",
        "sku_prices.product_id": "The product it belongs to (its price when no own price).",
        "sku_prices.own_amount": "A variant's own price, null to use the product's.",
        "sku_prices.own_currency": "That own price's currency.",
    }
    BUNDLE = "INSERT INTO {}.bundles VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    COMPONENT = "INSERT INTO {}.components VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
    PRODUCT = """INSERT INTO {}.product_prices VALUES (%s, %s, %s, %s)
        ON CONFLICT (product_id) DO UPDATE SET amount = EXCLUDED.amount,
        currency = EXCLUDED.currency, version = EXCLUDED.version
        WHERE product_prices.version < EXCLUDED.version"""
    SKU = "INSERT INTO {}.sku_prices VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> None:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)

        for e in events:
            event = e.to_domain()
            match event:
                case BundleCreated():
                    value = event.pricing.value
                    run(self.BUNDLE, e.stream_id, event.sku, event.name, event.pricing.type,
                        value, event.currency, e.meta.occurred_at)  # fmt: skip
                    for i, c in enumerate(event.components):
                        run(self.COMPONENT, e.stream_id, c.sku, c.quantity, i)
                case ProductCreated(price=price):
                    amount, currency = (price.amount, price.currency) if price else (None, None)
                    run(self.PRODUCT, e.stream_id, amount, currency, e.version)
                    run(self.SKU, event.sku, e.stream_id, None, None)
                case PriceChanged(new=new):
                    run(self.PRODUCT, e.stream_id, new.amount, new.currency, e.version)
                case VariantAdded(price=price):
                    amount, currency = (price.amount, price.currency) if price else (None, None)
                    run(self.SKU, event.sku, e.stream_id, amount, currency)

    def compare_key(self) -> dict[str, str]:
        return {
            "bundles": "id",
            "components": "bundle_id, sku",
            "product_prices": "product_id",
            "sku_prices": "sku",
        }


def get_bundle(pool: ConnectionPool, bundle_id: UUID) -> dict | None:
    """The bundle with its components and its price at their current prices, or None."""
    schema = sql.Identifier(live_schema(NAME))
    bundle_q = "SELECT * FROM {}.bundles WHERE id = %s"
    components_q = """SELECT c.sku, c.quantity,
        COALESCE(s.own_amount, p.amount) AS amount
        FROM {0}.components c LEFT JOIN {0}.sku_prices s ON s.sku = c.sku
        LEFT JOIN {0}.product_prices p ON p.product_id = s.product_id
        WHERE c.bundle_id = %s ORDER BY c.position"""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(bundle_q).format(schema), (bundle_id,))
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute(sql.SQL(components_q).format(schema), (bundle_id,))
        rows = cur.fetchall()
    components = [BundleComponent(sku=r["sku"], quantity=r["quantity"]) for r in rows]
    unit = {r["sku"]: r["amount"] if r["amount"] is not None else Decimal(0) for r in rows}
    value = row["pricing_value"]
    pricing = BundlePricing(type=row["pricing_type"], value=None if value is None else str(value))
    currency = row["currency"]
    price = bundle_price(pricing, components, unit, currency)
    return {
        "id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "components": [{"sku": c.sku, "quantity": c.quantity} for c in components],
        "pricing": {"type": pricing.type, "value": pricing.value},
        "currency": currency,
        "price": {"amount": str(price.price), "currency": currency},
        "component_sum": {"amount": str(price.component_sum), "currency": currency},
        "savings": {"amount": str(price.savings), "currency": currency},
        "savings_percent": str(price.savings_percent),
    }
