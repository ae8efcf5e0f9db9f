"""Read model: returns (``GET /returns/{id}``), one row per return stream, its state folded by
the Return aggregate's own ``evolve`` (``projections.folded_streams``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.returns.state import RETURN, ReturnState
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.folded_streams import FoldedStreams

NAME = "returns"

RETURNS = FoldedStreams(
    "returns", RETURN, {"order_id": lambda s: s.order_id, "status": lambda s: s.status}
)


class ReturnsView(Projection):
    name = NAME
    topics = RETURNS.topics
    ddl = """
    CREATE TABLE {schema}.returns (
        id uuid PRIMARY KEY,
        version bigint NOT NULL,
        state jsonb NOT NULL,
        order_id uuid NOT NULL,
        status text NOT NULL
    );
    CREATE INDEX ON {schema}.returns (order_id);
    """
    comments = {
        "returns": "One row per return: the stream's folded state.",
        "returns.id": "The return's stream id.",
        "returns.version": "Version of the return's stream the row reflects.",
        "returns.state": "The return's state (lines, refund, restock; JSON).",
        "returns.order_id": "The order it returns items of.",
        "returns.status": "requested, received, refunded, cancelled, ...",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        RETURNS.apply(cur, schema, events)

    def compare_key(self) -> dict[str, str]:
        return {"returns": "id"}


def return_document(return_id: UUID, state: ReturnState, version: int) -> dict[str, Any]:
    return {
        "id": str(return_id),
        "order_id": str(state.order_id),
        "status": state.status,
        "lines": [x.model_dump() for x in state.lines],
        "restock": state.restock,
        "location": state.location,
        "restock_to": [p.model_dump() for p in state.restock_to],
        "refunded": str(state.refunded),
        "refund": state.refund,
        "version": version,
    }


def get_return(pool: ConnectionPool, return_id: UUID) -> dict[str, Any] | None:
    """The return as the API shows it, or None if the view has not seen it."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT version, state::text AS state FROM {}.returns WHERE id = %s").format(
                sql.Identifier(live_schema(NAME))
            ),
            (return_id,),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return return_document(return_id, RETURNS.decode(row["state"]), row["version"])
