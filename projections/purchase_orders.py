"""The purchase orders view: a row per order (status and the time of each step) and a row per
line (ordered, received); ``get_purchase_order``, ``list_purchase_orders`` and
``supplier_lead_times`` (the analytics figure: ``docs/analytics.md``) are its queries."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.supply import events as ev
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.supply_paging import page

NAME = "purchase_orders"
PO_EVENTS = tuple(e for e in ev.SUPPLY_EVENTS if issubclass(e, ev.PurchaseOrderEvent))


class PurchaseOrdersView(Projection):
    name = NAME
    topics = tuple(e.stored_name() for e in PO_EVENTS)
    ddl = """
    CREATE TABLE {schema}.purchase_orders (id uuid PRIMARY KEY, supplier_id uuid NOT NULL,
        location text NOT NULL, status text NOT NULL, suggestion_id uuid,
        promised_lead_time_days integer NOT NULL, created_at timestamptz NOT NULL,
        approved_at timestamptz, dispatched_at timestamptz, first_received_at timestamptz,
        received_at timestamptz, cancelled_at timestamptz, cancel_reason text,
        version bigint NOT NULL);
    CREATE INDEX ON {schema}.purchase_orders (supplier_id);
    CREATE TABLE {schema}.lines (purchase_order_id uuid NOT NULL, sku text NOT NULL,
        ordered integer NOT NULL, received integer NOT NULL, unit_cost numeric NOT NULL,
        currency text NOT NULL, PRIMARY KEY (purchase_order_id, sku));
    """
    comments = {
        "purchase_orders": "One row per purchase order.",
        "purchase_orders.id": "The purchase order's stream id.",
        "purchase_orders.supplier_id": "The supplier it is ordered from.",
        "purchase_orders.location": "The location code the goods are received at.",
        "purchase_orders.status": "pending, ordered, in_transit, received or cancelled.",
        "purchase_orders.suggestion_id": "The replenishment suggestion that drafted it, if any.",
        "purchase_orders.promised_lead_time_days": "The supplier's lead time when it was made.",
        "purchase_orders.created_at": "Business time of its creation.",
        "purchase_orders.approved_at": "When it was approved (ordered from the supplier).",
        "purchase_orders.dispatched_at": "When the supplier dispatched it (in transit).",
        "purchase_orders.first_received_at": "When its first receipt was recorded.",
        "purchase_orders.received_at": "When the receipt that completed every line was recorded.",
        "purchase_orders.cancelled_at": "When it was cancelled.",
        "purchase_orders.cancel_reason": "Why it was cancelled.",
        "purchase_orders.version": "Version of the order's stream the row reflects.",
        "lines": "The lines of each purchase order.",
        "lines.purchase_order_id": "The purchase order.",
        "lines.sku": "The SKU ordered.",
        "lines.ordered": "Units ordered.",
        "lines.received": "Units received so far (never above ordered).",
        "lines.unit_cost": "Cost of one unit, in currency.",
        "lines.currency": "ISO 4217 currency of the cost.",
    }
    CREATE = """INSERT INTO {}.purchase_orders (id, supplier_id, location, status,
        suggestion_id, promised_lead_time_days, created_at, version)
        VALUES (%s, %s, %s, 'pending', %s, %s, %s, 0) ON CONFLICT DO NOTHING"""
    LINE = "INSERT INTO {}.lines VALUES (%s, %s, %s, 0, %s, %s) ON CONFLICT DO NOTHING"
    #: Every event moves the row's version; an event at or below it was applied already.
    MOVE = "UPDATE {}.purchase_orders SET version = %s WHERE id = %s AND version < %s"
    STEP = {
        ev.PurchaseOrderApproved: "status = 'ordered', approved_at = %s",
        ev.PurchaseOrderDispatched: "status = 'in_transit', dispatched_at = %s",
    }
    RECEIVED = """UPDATE {}.purchase_orders SET first_received_at =
        coalesce(first_received_at, %s), status = CASE WHEN %s THEN 'received' ELSE status END,
        received_at = CASE WHEN %s THEN %s ELSE received_at END WHERE id = %s"""
    RECEIVE_LINE = """UPDATE {}.lines SET received = received + %s
        WHERE purchase_order_id = %s AND sku = %s"""
    CANCELLED = """UPDATE {}.purchase_orders SET status = 'cancelled', cancelled_at = %s,
        cancel_reason = %s WHERE id = %s"""

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur.rowcount

        for e in events:
            event, at, stream = e.to_domain(), e.meta.occurred_at, e.stream_id
            if isinstance(event, ev.PurchaseOrderCreated):
                run(
                    self.CREATE,
                    stream,
                    event.supplier_id,
                    event.location,
                    event.suggestion_id,
                    event.lead_time_days,
                    at,
                )
                for line in event.lines:
                    run(self.LINE, stream, line.sku, line.quantity, line.unit_cost, line.currency)
            if not run(self.MOVE, e.version, stream, e.version):
                continue
            step = self.STEP.get(type(event))
            if step is not None:
                run(f"UPDATE {{}}.purchase_orders SET {step} WHERE id = %s", at, stream)
            elif isinstance(event, ev.PurchaseOrderReceived):
                run(self.RECEIVED, at, event.complete, event.complete, at, stream)
                for line in event.lines:
                    run(self.RECEIVE_LINE, line.quantity, stream, line.sku)
            elif isinstance(event, ev.PurchaseOrderCancelled):
                run(self.CANCELLED, at, event.reason, stream)

    def compare_key(self) -> dict[str, str]:
        return {"purchase_orders": "id", "lines": "purchase_order_id, sku"}


_SELECT = """SELECT t.id, t.supplier_id, t.location, t.status, t.suggestion_id,
    t.created_at, t.approved_at, t.dispatched_at, t.first_received_at, t.received_at,
    t.cancelled_at, t.version FROM {}.purchase_orders t"""


def _with_lines(rows: list[dict], cur: Cursor) -> list[dict]:
    if not rows:
        return rows
    cur.execute(
        sql.SQL(
            "SELECT purchase_order_id, sku, ordered, received, unit_cost, currency "
            "FROM {}.lines WHERE purchase_order_id = ANY(%s) ORDER BY sku"
        ).format(sql.Identifier(live_schema(NAME))),
        ([r["id"] for r in rows],),
    )
    lines: dict[UUID, list[dict]] = {}
    for line in cur.fetchall():
        cost = {"amount": str(line.pop("unit_cost")), "currency": line.pop("currency")}
        lines.setdefault(line.pop("purchase_order_id"), []).append({**line, "unit_cost": cost})
    return [{**r, "lines": lines.get(r["id"], [])} for r in rows]


def list_purchase_orders(
    pool: ConnectionPool,
    *,
    status: str | None = None,
    supplier_id: UUID | None = None,
    location: str | None = None,
    limit: int = 50,
    after: UUID | None = None,
) -> tuple[list[dict], UUID | None]:
    """Purchase orders in id order after ``after``, filtered, each with its lines."""
    select = sql.SQL(_SELECT).format(sql.Identifier(live_schema(NAME)))
    filters = {"status": status, "supplier_id": supplier_id, "location": location}
    return page(pool, select, filters, limit, after, _with_lines)


def get_purchase_order(pool: ConnectionPool, purchase_order_id: UUID) -> dict | None:
    select = sql.SQL(_SELECT).format(sql.Identifier(live_schema(NAME)))
    rows, _ = page(pool, select, {"id": purchase_order_id}, 1, None, _with_lines)
    return rows[0] if rows else None


LEAD_TIMES = """SELECT supplier_id, count(*) AS orders_received,
    round(avg(promised_lead_time_days), 2) AS promised_days,
    round(avg(extract(epoch FROM received_at - approved_at)) / 86400, 2) AS actual_days,
    round(avg(extract(epoch FROM first_received_at - approved_at)) / 86400, 2)
        AS first_receipt_days,
    count(*) FILTER (WHERE received_at - approved_at
        <= make_interval(days => promised_lead_time_days)) AS on_time
    FROM {}.purchase_orders WHERE status = 'received' AND approved_at IS NOT NULL {}
    GROUP BY supplier_id ORDER BY supplier_id"""


def supplier_lead_times(pool: ConnectionPool, supplier_id: UUID | None = None) -> list[dict]:
    """Per supplier, over its fully received orders: the promised lead time against the actual
    one (approval to the receipt that completed the order; and to the first receipt), in days,
    and how many arrived within the promise."""
    extra = (
        sql.SQL("AND supplier_id = {}").format(sql.Literal(supplier_id))
        if supplier_id
        else sql.SQL("")
    )
    query = sql.SQL(LEAD_TIMES).format(sql.Identifier(live_schema(NAME)), extra)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query)
        return [
            {k: (str(v) if k.endswith("_days") else v) for k, v in row.items()}
            for row in cur.fetchall()
        ]
