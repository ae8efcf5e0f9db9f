"""Read model: every stock movement of a SKU (receipts, shipments, adjustments, transfers …),
signed, with its reference and actor, and the per-SKU paged query.

Movement types come from the one list in ``domain.inventory.events.MovementType``. A transfer
writes two rows (``transfer_out`` then ``transfer_in``) at the same position, told apart by
``seq``. Reservations move no units and are not movements.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "inventory_movements"


def _movements(e: RecordedEvent) -> list[tuple]:
    """(location, type, signed quantity, reference, reason) for one event."""
    d = e.data
    match e.name:
        case "StockReceived":
            return [(d["location"], "receipt", d["quantity"], d.get("reference"), None)]
        case "StockAdjusted":
            return [(d["location"], d["movement_type"], d["delta"], None, d["reason"])]
        case "StockCommitted":
            ref = d["shipment_id"]
            return [(d["location"], "shipment", -d["quantity"], ref, None)]
        case "StockTransferred":
            q = d["quantity"]
            return [
                (d["from_location"], "transfer_out", -q, d["to_location"], None),
                (d["to_location"], "transfer_in", q, d["from_location"], None),
            ]
    return []


class InventoryMovementsView(Projection):
    name = NAME
    topics = (
        "inventory.StockReceived",
        "inventory.StockAdjusted",
        "inventory.StockCommitted",
        "inventory.StockTransferred",
    )
    ddl = """
    CREATE TABLE {schema}.movements (
        position bigint NOT NULL,
        seq smallint NOT NULL,
        sku text NOT NULL,
        location text NOT NULL,
        type text NOT NULL,
        quantity int NOT NULL,
        reference text,
        reason text,
        actor text NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (position, seq)
    );
    CREATE INDEX ON {schema}.movements (sku, position, seq);
    """
    comments = {
        "movements": "Every change to units on hand, one row per (event, location touched).",
        "movements.position": "Event-log position of the event.",
        "movements.seq": "Order within the event (a transfer is two rows: out, then in).",
        "movements.sku": "The stock-keeping unit.",
        "movements.location": "Location code the units moved at.",
        "movements.type": "Movement type (receipt, adjustment, transfer_in/out, shipment, ...).",
        "movements.quantity": "Signed units: positive in, negative out.",
        "movements.reference": "External reference (purchase order, order id, ...), if any.",
        "movements.reason": "Reason given (adjustments), if any.",
        "movements.actor": "Who made the movement.",
        "movements.occurred_at": "When it happened (business time).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        rows = [
            (e.position, seq, e.data["sku"], *m, e.meta.actor, e.meta.occurred_at)
            for e in events
            for seq, m in enumerate(_movements(e))
        ]
        if rows:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {}.movements (position, seq, sku, location, type, quantity, "
                    "reference, reason, actor, occurred_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (position, seq) DO NOTHING"
                ).format(sql.Identifier(schema)),
                rows,
            )

    def compare_key(self) -> dict[str, str]:
        return {"movements": "position, seq"}


def sku_movements(
    pool: ConnectionPool, sku: str, *, after: tuple[int, int] | None = None, limit: int = 50
) -> list[dict]:
    """A SKU's movements in store order, after the given (position, seq); ``limit`` rows."""
    query = sql.SQL(
        "SELECT position, seq, sku, location, type, quantity, reference, reason, actor, "
        "occurred_at FROM {}.movements WHERE sku = %s AND (position, seq) > (%s, %s) "
        "ORDER BY position, seq LIMIT %s"
    ).format(sql.Identifier(live_schema(NAME)))
    after = after or (0, -1)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (sku, after[0], after[1], limit))
        return cur.fetchall()
