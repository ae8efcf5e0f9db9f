"""Read model: stock levels per (SKU, location), with thresholds and a low-stock flag, and the
queries that read it (one SKU with totals; a filtered, paged list).

A batch's events are summed per row in memory and written with one upsert per row, so many
events for the same row in one batch cost one statement and apply in order.
``low_stock`` is ``available <= coalesce(reorder_point, 0)``: out of stock counts as low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "inventory_levels"
_LEVEL_COLUMNS = (
    "sku, location, on_hand, reserved, available, reorder_point, reorder_quantity, max_stock, "
    "low_stock, updated_at"
)


@dataclass
class _RowChange:
    on_hand: int = 0
    reserved: int = 0
    thresholds: tuple | None = None
    updated_at: object = None


class InventoryLevelsView(Projection):
    name = NAME
    topics = tuple(
        f"inventory.{n}"
        for n in (
            "StockReceived",
            "StockAdjusted",
            "StockTransferred",
            "StockReserved",
            "ReservationConfirmed",
            "ReservationReleased",
            "ReservationExpired",
            "StockCommitted",
            "ThresholdsSet",
            "StockAlertRaised",
            "StockAlertResolved",
        )
    )
    ddl = """
    CREATE TABLE {schema}.levels (
        sku text NOT NULL,
        location text NOT NULL,
        on_hand int NOT NULL DEFAULT 0,
        reserved int NOT NULL DEFAULT 0,
        available int GENERATED ALWAYS AS (on_hand - reserved) STORED,
        reorder_point int,
        reorder_quantity int,
        max_stock int,
        low_stock boolean GENERATED ALWAYS AS
            (on_hand - reserved <= coalesce(reorder_point, 0)) STORED,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (sku, location)
    );
    CREATE INDEX ON {schema}.levels (location, sku);
    CREATE INDEX ON {schema}.levels (sku, location) WHERE low_stock;
    CREATE TABLE {schema}.skus (
        sku text PRIMARY KEY,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL
    );
    """
    comments = {
        "levels": "Stock per (SKU, location): units on hand, reserved, available, thresholds.",
        "levels.sku": "The stock-keeping unit.",
        "levels.location": "Location code (rm_locations.locations.code).",
        "levels.on_hand": "Units physically there (received, adjusted, transferred, shipped).",
        "levels.reserved": "Units held for orders not yet shipped.",
        "levels.available": "on_hand - reserved: units that can still be promised.",
        "levels.reorder_point": "Threshold: available at or below it is low stock (NULL: 0).",
        "levels.reorder_quantity": "Configured quantity to reorder when low (NULL: not set).",
        "levels.max_stock": "Configured maximum units to hold (NULL: not set).",
        "levels.low_stock": "available <= coalesce(reorder_point, 0); out of stock is low.",
        "levels.updated_at": "Business time of the last event that changed the row.",
        "skus": "Each SKU's inventory stream version (for If-Match on stock commands).",
        "skus.sku": "The stock-keeping unit.",
        "skus.version": "Version of the SKU's inventory stream this row reflects.",
        "skus.updated_at": "Business time of its last event.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        rows: dict[tuple[str, str], _RowChange] = {}
        versions: dict[str, tuple[int, object]] = {}

        def row(sku: str, location: str, at) -> _RowChange:
            change = rows.setdefault((sku, location), _RowChange())
            change.updated_at = at
            return change

        for e in events:
            d, at = e.data, e.meta.occurred_at
            sku = d["sku"]
            versions[sku] = (e.version, at)
            name = e.name
            if name == "StockTransferred":
                row(sku, d["from_location"], at).on_hand -= d["quantity"]
                row(sku, d["to_location"], at).on_hand += d["quantity"]
                continue
            change = row(sku, d["location"], at)
            if name == "StockReceived":
                change.on_hand += d["quantity"]
            elif name == "StockAdjusted":
                change.on_hand += d["delta"]
            elif name == "StockReserved":
                change.reserved += d["quantity"]
            elif name in ("ReservationReleased", "ReservationExpired"):
                change.reserved -= d["quantity"]
            elif name == "StockCommitted":
                change.on_hand -= d["quantity"]
                change.reserved -= d["quantity"]
            elif name == "ThresholdsSet":
                change.thresholds = (d["reorder_point"], d["reorder_quantity"], d["max_stock"])

        s = sql.Identifier(schema)
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.levels AS l (sku, location, on_hand, reserved, updated_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sku, location) DO UPDATE SET "
                "on_hand = l.on_hand + excluded.on_hand, "
                "reserved = l.reserved + excluded.reserved, updated_at = excluded.updated_at"
            ).format(s),
            [(k[0], k[1], c.on_hand, c.reserved, c.updated_at) for k, c in rows.items()],
        )
        with_thresholds = [(*c.thresholds, *k) for k, c in rows.items() if c.thresholds]
        if with_thresholds:
            cur.executemany(
                sql.SQL(
                    "UPDATE {}.levels SET reorder_point = %s, reorder_quantity = %s, "
                    "max_stock = %s WHERE sku = %s AND location = %s"
                ).format(s),
                with_thresholds,
            )
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.skus AS k VALUES (%s, %s, %s) ON CONFLICT (sku) DO UPDATE SET "
                "version = excluded.version, updated_at = excluded.updated_at"
            ).format(s),
            [(sku, v, at) for sku, (v, at) in versions.items()],
        )

    def compare_key(self) -> dict[str, str]:
        return {"levels": "sku, location", "skus": "sku"}


def sku_levels(pool: ConnectionPool, sku: str) -> dict | None:
    """One SKU: totals, version and a row per location; None if the view has never seen it."""
    s = sql.Identifier(live_schema(NAME))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(sql.SQL("SELECT version FROM {}.skus WHERE sku = %s").format(s), (sku,))
        head = cur.fetchone()
        if head is None:
            return None
        cur.execute(
            sql.SQL(
                "SELECT location, on_hand, reserved, available, reorder_point, reorder_quantity, "
                "max_stock, low_stock FROM {}.levels WHERE sku = %s ORDER BY location"
            ).format(s),
            (sku,),
        )
        locations = cur.fetchall()
    on_hand = sum(r["on_hand"] for r in locations)
    reserved = sum(r["reserved"] for r in locations)
    return {
        "sku": sku,
        "version": head["version"],
        "on_hand": on_hand,
        "reserved": reserved,
        "available": on_hand - reserved,
        "locations": locations,
    }


def list_levels(
    pool: ConnectionPool,
    *,
    low_stock: bool | None = None,
    location: str | None = None,
    after: tuple[str, str] | None = None,
    limit: int = 50,
) -> list[dict]:
    """Rows ordered by (sku, location), after the given key; fetch ``limit + 1`` to page."""
    where, params = [], []
    if low_stock is not None:
        where.append(sql.SQL("low_stock = %s"))
        params.append(low_stock)
    if location is not None:
        where.append(sql.SQL("location = %s"))
        params.append(location)
    if after is not None:
        where.append(sql.SQL("(sku, location) > (%s, %s)"))
        params.extend(after)
    clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL("")
    query = sql.SQL("SELECT {} FROM {}.levels{} ORDER BY sku, location LIMIT %s").format(
        sql.SQL(_LEVEL_COLUMNS), sql.Identifier(live_schema(NAME)), clause
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, [*params, limit])
        return cur.fetchall()
