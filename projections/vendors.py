"""The vendors view: a row per dropship vendor, the dropship locations that name it, and its
dropship requests with how far its shipments have carried them; ``get_vendor``,
``list_vendors`` and ``vendor_requests`` are its queries."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.dropship.events import DROPSHIP_EVENTS
from domain.vendor.events import VENDOR_EVENTS
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "vendors"


class VendorsView(Projection):
    name = NAME
    topics = (
        *(cls.stored_name() for cls in (*VENDOR_EVENTS, *DROPSHIP_EVENTS)),
        "location.LocationRegistered",
    )
    ddl = """
    CREATE TABLE {schema}.vendors (id uuid PRIMARY KEY, name text NOT NULL, email text NOT NULL,
        lead_time_days int NOT NULL, registered_at timestamptz NOT NULL);
    CREATE TABLE {schema}.locations (code text PRIMARY KEY, vendor_id uuid NOT NULL);
    CREATE TABLE {schema}.requests (id uuid PRIMARY KEY, vendor_id uuid NOT NULL,
        order_id uuid NOT NULL, plan_id uuid NOT NULL, location text NOT NULL,
        lines jsonb NOT NULL, requested int NOT NULL, shipped int NOT NULL,
        delivered int NOT NULL, status text NOT NULL, version bigint NOT NULL,
        requested_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE INDEX ON {schema}.requests (vendor_id, requested_at);
    """
    comments = {
        "vendors": "One row per dropship vendor.",
        "vendors.id": "The vendor's stream id.",
        "vendors.name": "Its business name.",
        "vendors.email": "Where its dropship requests go.",
        "vendors.lead_time_days": "Days it takes to ship.",
        "vendors.registered_at": "Business time of its registration.",
        "locations": "The dropship locations and their vendor.",
        "locations.code": "The location's code.",
        "locations.vendor_id": "The vendor who ships its stock.",
        "requests": "Dropship requests: one per plan at a dropship location.",
        "requests.id": "The request's stream id.",
        "requests.vendor_id": "The vendor asked.",
        "requests.order_id": "The order.",
        "requests.plan_id": "The fulfillment plan it serves.",
        "requests.location": "The dropship location.",
        "requests.lines": "Lines asked for: line_id, sku, quantity (JSON).",
        "requests.requested": "Units asked for.",
        "requests.shipped": "Units the vendor's shipments carried.",
        "requests.delivered": "Units delivered.",
        "requests.status": "requested, partially_shipped, shipped or delivered.",
        "requests.version": "Version of the request's stream the row reflects.",
        "requests.requested_at": "Business time of the request.",
        "requests.updated_at": "Business time of its last event.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> None:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)

        for e in events:
            d, at = e.data, e.meta.occurred_at
            match e.type:
                case "vendor.VendorRegistered":
                    run(
                        "INSERT INTO {}.vendors VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        e.stream_id, d["name"], d["email"], d["lead_time_days"], at,
                    )  # fmt: skip
                case "location.LocationRegistered" if d.get("vendor_id"):
                    run(
                        "INSERT INTO {}.locations VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        d["code"], UUID(d["vendor_id"]),
                    )  # fmt: skip
                case "dropship_request.DropshipRequested":
                    requested = sum(int(x["quantity"]) for x in d["lines"])
                    run(
                        """INSERT INTO {}.requests VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0,
                        'requested', %s, %s, %s) ON CONFLICT DO NOTHING""",
                        e.stream_id, UUID(d["vendor_id"]), UUID(d["order_id"]),
                        UUID(d["plan_id"]), d["location"], Jsonb(d["lines"]), requested,
                        e.version, at, at,
                    )  # fmt: skip
                case "dropship_request.DropshipShipped" | "dropship_request.DropshipDelivered":
                    column = "shipped" if e.type.endswith("Shipped") else "delivered"
                    run(
                        f"UPDATE {{}}.requests SET {column} = {column} + %s, version = %s, "
                        "updated_at = %s WHERE id = %s AND version < %s",
                        int(d["units"]), e.version, at, e.stream_id, e.version,
                    )  # fmt: skip
                    run(
                        """UPDATE {}.requests SET status = CASE
                            WHEN delivered >= requested THEN 'delivered'
                            WHEN shipped >= requested THEN 'shipped'
                            WHEN shipped > 0 THEN 'partially_shipped' ELSE 'requested' END
                        WHERE id = %s""",
                        e.stream_id,
                    )

    def compare_key(self) -> dict[str, str]:
        return {"vendors": "id", "locations": "code", "requests": "id"}


_VENDOR = """SELECT v.id, v.name, v.email, v.lead_time_days, v.registered_at,
    ARRAY(SELECT l.code FROM {0}.locations l WHERE l.vendor_id = v.id ORDER BY l.code)
        AS locations
    FROM {0}.vendors v"""


def get_vendor(pool: ConnectionPool, vendor_id: UUID) -> dict | None:
    query = sql.SQL(_VENDOR + " WHERE v.id = %s").format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (vendor_id,))
        return cur.fetchone()


def list_vendors(pool: ConnectionPool, *, after: UUID | None, limit: int) -> list[dict]:
    where = " WHERE v.id > %s" if after is not None else ""
    args = (after, limit) if after is not None else (limit,)
    query = sql.SQL(_VENDOR + where + " ORDER BY v.id LIMIT %s").format(
        sql.Identifier(live_schema(NAME))
    )
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, args)
        return cur.fetchall()


def vendor_requests(pool: ConnectionPool, vendor_id: UUID, *, limit: int) -> list[dict]:
    """The vendor's dropship requests, newest first."""
    query = sql.SQL(
        "SELECT id, order_id, plan_id, location, lines, requested, shipped, delivered, status, "
        "requested_at, updated_at FROM {}.requests WHERE vendor_id = %s "
        "ORDER BY requested_at DESC, id LIMIT %s"
    ).format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (vendor_id, limit))
        return cur.fetchall()
