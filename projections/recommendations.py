"""The recommendations view (schema ``rm_recommendations``), folded from the relationships
merchants declare and from the orders (their decoded dicts: a rebuild reads them by the
thousand):

- ``relationships``: each product's declared relationships;
- ``orders`` and ``order_products``: each top-level order (a split's children repeat their
  parent's lines and are left out) with its customer, time, status and units per product
  (an edit of its lines replaces them);
- ``pairs``: for two products, how many confirmed, not cancelled orders hold both (both
  directions), moved when an order is confirmed, cancelled or has its lines edited.

The queries beside it (``related``, ``bought_together``, ``trending``, ``for_customer``) join
the catalog and inventory views at query time: never the product asked about, never one that
is not active or has no unit available anywhere, and for a customer never one they bought
(any order of theirs not cancelled). Trending counts the units of the orders placed in the
last 7 days (not cancelled), by the database's clock at query time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.relationship import events as rel
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "recommendations"
KINDS = ("related", "bought_together", "trending")
TRENDING_WINDOW = "7 days"


class RecommendationsView(Projection):
    name = NAME
    topics = (
        *(cls.stored_name() for cls in rel.RELATIONSHIP_EVENTS),
        "order.OrderPlaced",
        "order.OrderConfirmed",
        "order.OrderCancelled",
        "order.LinesRevised",
    )
    ddl = """
    CREATE TABLE {schema}.relationships (
        product_id uuid NOT NULL, related_id uuid NOT NULL, type text NOT NULL,
        created_at timestamptz NOT NULL, PRIMARY KEY (product_id, related_id, type));
    CREATE TABLE {schema}.orders (
        order_id uuid PRIMARY KEY, customer_id uuid NOT NULL, placed_at timestamptz NOT NULL,
        status text NOT NULL, paired boolean NOT NULL);
    CREATE INDEX ON {schema}.orders (customer_id);
    CREATE INDEX ON {schema}.orders (placed_at);
    CREATE TABLE {schema}.order_products (
        order_id uuid NOT NULL, product_id uuid NOT NULL, units int NOT NULL,
        PRIMARY KEY (order_id, product_id));
    CREATE INDEX ON {schema}.order_products (product_id);
    CREATE TABLE {schema}.pairs (
        product_id uuid NOT NULL, other_id uuid NOT NULL, orders int NOT NULL,
        PRIMARY KEY (product_id, other_id));
    """
    comments = {
        "relationships": "Relationships merchants declared, from a product to another.",
        "relationships.product_id": "The product (rm_product_catalog.products.id).",
        "relationships.related_id": "The product it points to.",
        "relationships.type": "cross_sell, up_sell, accessory or similar.",
        "relationships.created_at": "Business time of the declaration.",
        "orders": "Each top-level order (not a split's child): who, when, how far it got.",
        "orders.order_id": "The order's stream id.",
        "orders.customer_id": "Its customer.",
        "orders.placed_at": "Business time of its placement.",
        "orders.status": "placed, confirmed or cancelled.",
        "orders.paired": "Its products are counted in pairs (confirmed and not cancelled).",
        "order_products": "Units of each product in each order (its lines, summed).",
        "order_products.order_id": "The order.",
        "order_products.product_id": "A product on its lines.",
        "order_products.units": "Units of it across the order's lines.",
        "pairs": "Bought together: confirmed, not cancelled orders holding both products.",
        "pairs.product_id": "One product.",
        "pairs.other_id": "Another (each pair is kept in both directions).",
        "pairs.orders": "How many such orders hold both.",
    }

    RELATE = "INSERT INTO {}.relationships VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
    PLACE = "INSERT INTO {}.orders VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
    MOVE = "UPDATE {}.orders SET status = %s, paired = %s WHERE order_id = %s"
    UNITS = "INSERT INTO {}.order_products VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
    CLEAR = "DELETE FROM {}.order_products WHERE order_id = ANY(%s)"
    KNOWN = "SELECT order_id, status, paired FROM {}.orders WHERE order_id = ANY(%s)"
    KNOWN_UNITS = (
        "SELECT order_id, product_id, units FROM {}.order_products WHERE order_id = ANY(%s)"
    )
    PAIR = """INSERT INTO {}.pairs VALUES (%s, %s, %s) ON CONFLICT (product_id, other_id)
        DO UPDATE SET orders = pairs.orders + excluded.orders"""
    UNPAIRED = "DELETE FROM {}.pairs WHERE orders <= 0 AND product_id = ANY(%s)"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        """A batch at a time: the orders it moves are read once, their statuses, units and the
        pairs' changes worked out in memory in log order, then written in a few statements."""

        def q(statement: str) -> sql.Composed:
            return sql.SQL(statement).format(sql.Identifier(schema))

        batch = _Batch()
        later = {e.stream_id for e in events if e.type in _ORDER_MOVES}
        if later:
            batch.load(cur.execute(q(self.KNOWN), (list(later),)).fetchall(),
                       cur.execute(q(self.KNOWN_UNITS), (list(later),)).fetchall())  # fmt: skip
        relations = []
        for e in events:
            if e.stream_type == "product_relationships":
                event = e.to_domain()
                if isinstance(event, rel.ProductsRelated):
                    relations.append((event.product_id, event.related_product_id,
                                      event.relationship, e.meta.occurred_at))  # fmt: skip
            else:
                batch.apply(e)
        if relations:
            cur.executemany(q(self.RELATE), relations)
        placed = [(o, *batch.placed[o], *batch.status[o]) for o in batch.placed]
        moved = [(*batch.status[o], o) for o in batch.status if o not in batch.placed]
        relined = [o for o in batch.revised if o not in batch.placed]
        units = [(o, p, n) for o in (*batch.placed, *relined) for p, n in batch.units[o].items()]
        for statement, rows in ((self.PLACE, placed), (self.MOVE, moved)):
            if rows:
                cur.executemany(q(statement), rows)
        if relined:
            cur.execute(q(self.CLEAR), (relined,))
        if units:
            cur.executemany(q(self.UNITS), units)
        deltas = [(a, b, n) for (a, b), n in batch.pairs.items() if n]
        if deltas:
            cur.executemany(q(self.PAIR), deltas)
            cur.execute(q(self.UNPAIRED), (list({a for a, _b, _n in deltas}),))

    def compare_key(self) -> dict[str, str]:
        return {
            "relationships": "product_id, related_id, type",
            "orders": "order_id",
            "order_products": "order_id, product_id",
            "pairs": "product_id, other_id",
        }


_ORDER_MOVES = ("order.OrderConfirmed", "order.OrderCancelled", "order.LinesRevised")


class _Batch:
    """The orders one batch of events moves, as they stand after each event: status and
    whether counted in pairs (``status``), units per product (``units``), and the changes to
    the pairs (``pairs``, both directions). ``placed``: the orders placed in the batch."""

    def __init__(self) -> None:
        self.status: dict[UUID, tuple[str, bool]] = {}
        self.units: dict[UUID, dict[UUID, int]] = {}
        self.placed: dict[UUID, tuple[UUID, Any]] = {}
        self.revised: set[UUID] = set()
        self.pairs = Counter[tuple[UUID, UUID]]()

    def load(self, orders: list[dict], units: list[dict]) -> None:
        for row in orders:
            self.status[row["order_id"]] = (row["status"], row["paired"])
            self.units[row["order_id"]] = {}
        for row in units:
            self.units[row["order_id"]][row["product_id"]] = row["units"]

    def _pair(self, order_id: UUID, step: int) -> None:
        products = list(self.units[order_id])
        for a in products:
            for b in products:
                if a != b:
                    self.pairs[(a, b)] += step

    def apply(self, e: RecordedEvent) -> None:
        order_id, d = e.stream_id, e.data
        if e.type == "order.OrderPlaced":
            if d.get("parent_order_id") is None and order_id not in self.status:
                self.placed[order_id] = (UUID(str(d["customer_id"])), e.meta.occurred_at)
                self.status[order_id] = ("placed", False)
                self.units[order_id] = _units(d["lines"])
            return
        status, paired = self.status.get(order_id, ("cancelled", False))
        if status == "cancelled":  # a split's child (unknown here), or over
            return
        if e.type == "order.OrderConfirmed" and status == "placed":
            self.status[order_id] = ("confirmed", True)
            self._pair(order_id, 1)
        elif e.type == "order.OrderCancelled":
            if paired:
                self._pair(order_id, -1)
            self.status[order_id] = ("cancelled", False)
        elif e.type == "order.LinesRevised":
            if paired:
                self._pair(order_id, -1)
            self.units[order_id] = _units(d["lines"])
            self.revised.add(order_id)
            if paired:
                self._pair(order_id, 1)


def _units(lines: list[dict]) -> dict[UUID, int]:
    per_product = Counter[UUID]()
    for line in lines:
        per_product[UUID(str(line["product_id"]))] += int(line["quantity"])
    return {p: n for p, n in per_product.items() if n > 0}


def _names() -> dict[str, sql.Identifier]:
    return {
        "rec": sql.Identifier(live_schema(NAME)),
        "catalog": sql.Identifier(live_schema("product_catalog")),
        "skus": sql.Identifier(live_schema("skus")),
        "stock": sql.Identifier(live_schema("inventory_levels")),
    }


#: A product that may be recommended: active, and some unit of one of its SKUs available.
_AVAILABLE = """p.status = 'active' AND EXISTS (SELECT 1 FROM {skus}.skus s
    JOIN {stock}.levels l ON l.sku = s.sku WHERE s.product_id = p.id AND l.available > 0)"""
_BOUGHT = """SELECT DISTINCT op.product_id FROM {rec}.orders o
    JOIN {rec}.order_products op ON op.order_id = o.order_id
    WHERE o.customer_id = %(customer)s AND o.status <> 'cancelled'"""
_TRENDING = """SELECT op.product_id, sum(op.units)::bigint AS score FROM {rec}.order_products op
    JOIN {rec}.orders o ON o.order_id = op.order_id
    WHERE o.placed_at >= now() - %(window)s::interval AND o.status <> 'cancelled'
    GROUP BY op.product_id"""


def _fetch(pool: ConnectionPool, query: str, **params: Any) -> list[dict[str, Any]]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL(query).format(**_names()), params)
        return cur.fetchall()


def _ranked(candidates: str) -> str:
    """Candidates ``(product_id, score)`` kept when available and not excluded, best first."""
    return f"""SELECT p.id AS product_id, p.sku, p.name, c.score FROM ({candidates}) c
        JOIN {{catalog}}.products p ON p.id = c.product_id
        WHERE NOT (p.id = ANY(%(exclude)s)) AND {_AVAILABLE}
        ORDER BY c.score DESC, p.id LIMIT %(limit)s"""


def related(pool: ConnectionPool, product_id: UUID, limit: int) -> list[dict[str, Any]]:
    """The products ``product_id`` points to (score: how many relationship types)."""
    candidates = """SELECT related_id AS product_id, count(*) AS score FROM {rec}.relationships
        WHERE product_id = %(product)s GROUP BY related_id"""
    return _fetch(pool, _ranked(candidates), product=product_id, exclude=[product_id], limit=limit)


def bought_together(pool: ConnectionPool, product_id: UUID, limit: int) -> list[dict[str, Any]]:
    """The products most often in the same confirmed orders (score: how many)."""
    candidates = """SELECT other_id AS product_id, orders AS score FROM {rec}.pairs
        WHERE product_id = %(product)s"""
    return _fetch(pool, _ranked(candidates), product=product_id, exclude=[product_id], limit=limit)


def trending(
    pool: ConnectionPool, limit: int, exclude: Sequence[UUID] = ()
) -> list[dict[str, Any]]:
    """The products with the most units ordered in the last 7 days (score: the units)."""
    return _fetch(
        pool, _ranked(_TRENDING), window=TRENDING_WINDOW, exclude=list(exclude), limit=limit
    )


def for_customer(pool: ConnectionPool, customer_id: UUID, limit: int) -> list[dict[str, Any]]:
    """From what the customer bought: what was bought with it and what it relates to (score:
    the sum), then trending products to fill the list; never what they bought."""
    candidates = """SELECT product_id, sum(score)::bigint AS score FROM (
            SELECT other_id AS product_id, orders AS score FROM {rec}.pairs
            WHERE product_id IN (%(bought)s)
            UNION ALL
            SELECT related_id, 1 FROM {rec}.relationships WHERE product_id IN (%(bought)s)
        ) s GROUP BY product_id""".replace("%(bought)s", _BOUGHT)
    bought = [r["product_id"] for r in _fetch(pool, _BOUGHT, customer=customer_id)]
    items = [
        {**r, "reason": "purchases"}
        for r in _fetch(
            pool, _ranked(candidates), customer=customer_id, exclude=bought, limit=limit
        )
    ]
    if len(items) < limit:
        chosen = bought + [r["product_id"] for r in items]
        more = trending(pool, limit - len(items), exclude=chosen)
        items += [{**r, "reason": "trending"} for r in more]
    return items
