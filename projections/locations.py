"""Read model: the list of locations, folded from the typed location events."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.location.events import LocationDeactivated, LocationRegistered, LocationUpdated
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema


class LocationsView(Projection):
    name = "locations"
    topics = (
        "location.LocationRegistered",
        "location.LocationUpdated",
        "location.LocationDeactivated",
    )
    ddl = """
    CREATE TABLE {schema}.locations (
        stream_id uuid PRIMARY KEY,
        code text UNIQUE NOT NULL,
        name text NOT NULL,
        type text NOT NULL,
        priority int NOT NULL,
        active boolean NOT NULL,
        version bigint NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    """
    comments = {
        "locations": "One row per location (warehouse, store, ...): its current settings.",
        "locations.stream_id": "The location's stream id.",
        "locations.code": "Unique short code (e.g. WH-1), as used in stock and plan rows.",
        "locations.name": "Display name.",
        "locations.type": "Kind of location (warehouse, store, ...).",
        "locations.priority": "Allocation preference: lower is tried first.",
        "locations.active": "Whether stock may be allocated from it.",
        "locations.version": "Version of the location's stream this row reflects.",
        "locations.created_at": "When it was created (business time).",
        "locations.updated_at": "When it last changed (business time).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        s = sql.Identifier(schema)
        for e in events:
            at = e.meta.occurred_at
            match e.to_domain():
                case LocationRegistered(code=code, name=name, type=kind, priority=priority):
                    cur.execute(
                        sql.SQL(
                            "INSERT INTO {}.locations VALUES (%s,%s,%s,%s,%s,true,%s,%s,%s) "
                            "ON CONFLICT (stream_id) DO NOTHING"
                        ).format(s),
                        (e.stream_id, code, name, kind, priority, e.version, at, at),
                    )
                case LocationUpdated(name=name, priority=priority):
                    cur.execute(
                        sql.SQL(
                            "UPDATE {}.locations SET name = coalesce(%s, name), "
                            "priority = coalesce(%s, priority), version = %s, updated_at = %s "
                            "WHERE stream_id = %s"
                        ).format(s),
                        (name, priority, e.version, at, e.stream_id),
                    )
                case LocationDeactivated():
                    cur.execute(
                        sql.SQL(
                            "UPDATE {}.locations SET active = false, version = %s, "
                            "updated_at = %s WHERE stream_id = %s"
                        ).format(s),
                        (e.version, at, e.stream_id),
                    )

    def compare_key(self) -> dict[str, str]:
        return {"locations": "code"}


def list_locations(pool: ConnectionPool) -> list[dict]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT code, name, type, priority, active, version, created_at, updated_at "
                "FROM {}.locations ORDER BY priority, code"
            ).format(sql.Identifier(live_schema("locations")))
        )
        return cur.fetchall()
