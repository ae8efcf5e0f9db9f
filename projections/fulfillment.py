"""Read model: fulfillment plans and shipments (``GET /fulfillment-plans/{id}``,
``GET /orders/{id}/fulfillment-plans``, ``GET /shipments/{id}``, ``GET /orders/{id}/shipments``).

One row per plan stream and per shipment stream, each the stream's state folded by its
aggregate's own ``evolve`` (``projections.folded_streams``), so a read answers what folding the
stream answered. An order's plans are listed by location, its shipments by number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.fulfillment.state import PLAN, PlanState
from domain.shipment.state import SHIPMENT, ShipmentState
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.folded_streams import FoldedStreams

NAME = "fulfillment"

PLANS = FoldedStreams(
    "plans",
    PLAN,
    {
        "order_id": lambda s: s.order_id,
        "location": lambda s: s.location,
        "status": lambda s: s.status,
    },
)
SHIPMENTS = FoldedStreams(
    "shipments",
    SHIPMENT,
    {"order_id": lambda s: s.order_id, "number": lambda s: s.number, "status": lambda s: s.status},
)


class FulfillmentView(Projection):
    name = NAME
    topics = (*PLANS.topics, *SHIPMENTS.topics)
    ddl = """
    CREATE TABLE {schema}.plans (
        id uuid PRIMARY KEY,
        version bigint NOT NULL,
        state jsonb NOT NULL,
        order_id uuid NOT NULL,
        location text NOT NULL,
        status text NOT NULL
    );
    CREATE INDEX ON {schema}.plans (order_id, location);
    CREATE TABLE {schema}.shipments (
        id uuid PRIMARY KEY,
        version bigint NOT NULL,
        state jsonb NOT NULL,
        order_id uuid NOT NULL,
        number integer NOT NULL,
        status text NOT NULL
    );
    CREATE INDEX ON {schema}.shipments (order_id, number);
    """
    comments = {
        "plans": "One row per fulfillment plan: the stream's folded state.",
        "plans.id": "The plan's stream id.",
        "plans.version": "Version of the plan's stream the row reflects.",
        "plans.state": "The plan's state (lines, allocations, status; JSON).",
        "plans.order_id": "The order it fulfils.",
        "plans.location": "Location code it ships from.",
        "plans.status": "The plan's status.",
        "shipments": "One row per shipment: the stream's folded state.",
        "shipments.id": "The shipment's stream id.",
        "shipments.version": "Version of the shipment's stream the row reflects.",
        "shipments.state": "The shipment's state (carrier, tracking events, lines; JSON).",
        "shipments.order_id": "The order it belongs to.",
        "shipments.number": "The shipment's number within its order.",
        "shipments.status": "The shipment's status.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        PLANS.apply(cur, schema, events)
        SHIPMENTS.apply(cur, schema, events)

    def compare_key(self) -> dict[str, str]:
        return {"plans": "id", "shipments": "id"}


def plan_document(plan_id: UUID, state: PlanState, version: int) -> dict[str, Any]:
    return {
        "id": str(plan_id),
        "order_id": str(state.order_id),
        "location": state.location,
        "status": state.status,
        "version": version,
        "lines": [
            {
                "line_id": x.line_id,
                "sku": x.sku,
                "allocated": x.allocated,
                "picked": x.picked,
                "packed": x.packed,
                "reservation_id": str(x.reservation_id),
            }
            for x in state.lines
        ],
    }


def shipment_document(shipment_id: UUID, s: ShipmentState, version: int) -> dict[str, Any]:
    return {
        "id": str(shipment_id),
        "order_id": str(s.order_id),
        "number": s.number,
        "location": s.location,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "status": s.status,
        "dispatched": s.dispatched,
        "lines": [x.model_dump() for x in s.lines],
        "attempts": s.attempts,
        "delivered_at": s.delivered_at.isoformat() if s.delivered_at else None,
        "version": version,
    }


def _select(pool: ConnectionPool, table: str, where: str, key: UUID, order: str) -> list[dict]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT id, version, state::text AS state FROM {}.{} WHERE {} = %s ORDER BY {}"
            ).format(
                sql.Identifier(live_schema(NAME)),
                sql.Identifier(table),
                sql.Identifier(where),
                sql.Identifier(order),
            ),
            (key,),
        )
        return cur.fetchall()


def get_plan(pool: ConnectionPool, plan_id: UUID) -> dict[str, Any] | None:
    """The plan as the API shows it, or None if the view has not seen it."""
    rows = _select(pool, "plans", "id", plan_id, "id")
    if not rows:
        return None
    return plan_document(plan_id, PLANS.decode(rows[0]["state"]), rows[0]["version"])


def plans_of_order(pool: ConnectionPool, order_id: UUID) -> list[dict[str, Any]]:
    """The order's plans, one per location it was ever allocated from, by location."""
    return [
        plan_document(r["id"], PLANS.decode(r["state"]), r["version"])
        for r in _select(pool, "plans", "order_id", order_id, "location")
    ]


def get_shipment(pool: ConnectionPool, shipment_id: UUID) -> dict[str, Any] | None:
    """The shipment as the API shows it, or None if the view has not seen it."""
    rows = _select(pool, "shipments", "id", shipment_id, "id")
    if not rows:
        return None
    return shipment_document(shipment_id, SHIPMENTS.decode(rows[0]["state"]), rows[0]["version"])


def shipments_of_order(pool: ConnectionPool, order_id: UUID) -> list[dict[str, Any]]:
    """The order's shipments, by number."""
    return [
        shipment_document(r["id"], SHIPMENTS.decode(r["state"]), r["version"])
        for r in _select(pool, "shipments", "order_id", order_id, "number")
    ]
