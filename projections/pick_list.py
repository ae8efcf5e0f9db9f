"""Read model: the pick list of each location, one row per plan line still to pick or pack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.batch_writes import insert_values

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


class PickListView(Projection):
    name = "pick_list"
    topics = (
        "fulfillment_plan.PlanCreated",
        "fulfillment_plan.PlanStatusChanged",
        "fulfillment_plan.ItemsPicked",
        "fulfillment_plan.ItemsPacked",
        "fulfillment_plan.PlanRevised",
    )
    ddl = """
    CREATE TABLE {schema}.lines (
        plan_id uuid NOT NULL,
        line_id text NOT NULL,
        order_id uuid NOT NULL,
        location text NOT NULL,
        sku text NOT NULL,
        allocated int NOT NULL,
        picked int NOT NULL DEFAULT 0,
        packed int NOT NULL DEFAULT 0,
        status text NOT NULL,
        priority text NOT NULL,
        rank int NOT NULL,
        created_position bigint NOT NULL,
        PRIMARY KEY (plan_id, line_id, sku)
    );
    CREATE INDEX ON {schema}.lines (location, status, rank, created_position);
    """
    comments = {
        "lines": (
            "Each location's pick list: one row per plan line still to pick or pack (per "
            "component SKU for a bundle's line)."
        ),
        "lines.plan_id": "The fulfillment plan.",
        "lines.line_id": "The order line.",
        "lines.order_id": "The order.",
        "lines.location": "Location code to pick at.",
        "lines.sku": "The stock-keeping unit.",
        "lines.allocated": "Units allocated to this location.",
        "lines.picked": "Units picked so far.",
        "lines.packed": "Units packed so far.",
        "lines.status": "The plan's status.",
        "lines.priority": "urgent, high, normal or low.",
        "lines.rank": "Priority as a number (0 urgent .. 3 low), for ordering.",
        "lines.created_position": "Event-log position of the plan's creation (FIFO order).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        t = sql.SQL("{}.lines").format(sql.Identifier(schema))
        created: list[tuple] = []  # the lines of the plans created since the last flush
        for e in events:
            d = e.data
            if e.name == "PlanCreated":
                created.extend(
                    (
                        e.stream_id,
                        x["line_id"],
                        d["order_id"],
                        d["location"],
                        x["sku"],
                        x["allocated"],
                        d["priority"],
                        PRIORITY_RANK.get(d["priority"], 2),
                        e.position,
                    )  # fmt: skip
                    for x in d["lines"]
                )
                continue
            # Any other event of a plan reads or changes its lines: written before it.
            _create(cur, t, created)
            created = []
            match e.name:
                case "PlanRevised":
                    cur.execute(
                        sql.SQL(
                            "INSERT INTO {t} (plan_id, line_id, order_id, location, sku, "
                            "allocated, status, priority, rank, created_position) "
                            "SELECT plan_id, x.line_id, order_id, location, x.sku, x.allocated, "
                            "status, priority, rank, created_position "
                            "FROM (SELECT * FROM {t} WHERE plan_id = %s LIMIT 1) p, "
                            "jsonb_to_recordset(%s) AS x(line_id text, sku text, allocated int) "
                            "ON CONFLICT (plan_id, line_id, sku) DO UPDATE SET allocated = "
                            "excluded.allocated"
                        ).format(t=t),
                        (e.stream_id, Jsonb(d["lines"])),
                    )
                    cur.execute(
                        sql.SQL(
                            "DELETE FROM {} WHERE plan_id = %s AND (line_id, sku) NOT IN "
                            "(SELECT * FROM unnest(%s::text[], %s::text[]))"
                        ).format(t),
                        (
                            e.stream_id,
                            [x["line_id"] for x in d["lines"]],
                            [x["sku"] for x in d["lines"]],
                        ),
                    )
                case "PlanStatusChanged":
                    cur.execute(
                        sql.SQL("UPDATE {} SET status = %s WHERE plan_id = %s").format(t),
                        (d["status"], e.stream_id),
                    )
                case "ItemsPicked":
                    cur.execute(
                        sql.SQL(
                            "UPDATE {} SET picked = %s WHERE plan_id = %s AND line_id = %s"
                        ).format(t),
                        (d["picked"], e.stream_id, d["line_id"]),
                    )
                case "ItemsPacked":
                    cur.execute(
                        sql.SQL(
                            "UPDATE {} SET packed = %s WHERE plan_id = %s AND line_id = %s"
                        ).format(t),
                        (d["packed"], e.stream_id, d["line_id"]),
                    )

        _create(cur, t, created)

    def compare_key(self) -> dict[str, str]:
        return {"lines": "plan_id, line_id, sku"}


def _create(cur: Cursor, table: sql.Composable, lines: list[tuple]) -> None:
    """New plans' lines in one statement (a redelivered plan's are there already)."""
    insert_values(
        cur,
        sql.SQL("INSERT INTO {}").format(table),
        lines,
        sql.SQL("ON CONFLICT DO NOTHING"),
        row="(%s,%s,%s,%s,%s,%s,0,0,'planned',%s,%s,%s)",
    )


def pick_list(pool: ConnectionPool, location: str, limit: int = 50) -> list[dict[str, Any]]:
    """Open lines at ``location`` (planned, picking, packed or on hold), most urgent first."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT plan_id::text, order_id::text, line_id, sku, allocated, picked, packed, "
                "status, priority FROM {}.lines WHERE location = %s "
                "AND status IN ('planned', 'picking', 'packed', 'on_hold') "
                "ORDER BY rank, created_position, line_id, sku LIMIT %s"
            ).format(sql.Identifier(live_schema("pick_list"))),
            (location, limit),
        )
        return cur.fetchall()
