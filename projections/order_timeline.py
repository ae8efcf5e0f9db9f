"""Read model: an order's timeline, everything about the order in position order: the events
of its own stream and of the streams that belong to it, its payments (authorizations,
captures, voids, refunds), its shipments (with their carrier events) and its returns.

Entries are typed in snake case (``order_placed``, ``payment_captured``, …) and name their
``stream_type`` and stored ``event_type``; a custom entry keeps the type its author gave it.
An event that does not name its order (``PaymentCaptured``) is found through its stream: the
view keeps stream → order in ``order_streams``, learnt from the first event of each stream
that names the order (``PaymentAuthorized``, ``ShipmentCreated``, ``ReturnRequested``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.payment.events import PAYMENT_EVENTS
from domain.returns.events import RETURN_EVENTS
from domain.shipment.events import SHIPMENT_EVENTS
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.batch_writes import insert_records, insert_values
from projections.order_detail import ORDER_TOPICS

#: The other streams of an order whose events its timeline shows.
RELATED_TOPICS = tuple(c.stored_name() for c in (*PAYMENT_EVENTS, *SHIPMENT_EVENTS, *RETURN_EVENTS))


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _amount(d: dict) -> str:
    return f"{d['amount']} {d['currency']}" if "currency" in d else str(d.get("amount", ""))


def _describe_related(e: RecordedEvent) -> str | None:
    d = e.data
    match e.type:
        case "payment.PaymentAuthorized":
            return f"Payment of {_amount(d)} authorized."
        case "payment.PaymentDeclined":
            return f"Payment of {_amount(d)} declined: {d.get('reason')}."
        case "payment.PaymentCaptured":
            return f"Payment of {_amount(d)} captured."
        case "payment.AuthorizationVoided":
            return f"Authorization of {_amount(d)} voided: {d.get('reason')}."
        case "payment.RefundRequested":
            return f"Refund of {_amount(d)} requested: {d.get('reason')}."
        case "payment.RefundSucceeded":
            return f"Refund of {_amount(d)} succeeded."
        case "payment.RefundFailed":
            return f"Refund of {_amount(d)} failed."
        case "shipment.ShipmentCreated":
            return f"Shipment {d.get('number')} created with {d.get('carrier')}."
        case "shipment.ShipmentTrackingUpdated":
            return f"Carrier event: {d.get('status')}."
        case "shipment.DeliveryAttemptRecorded":
            return f"Delivery attempt {d.get('attempt')}: {d.get('outcome')}."
        case "return.ReturnRequested":
            return f"Return requested: {d.get('reason')}."
    return None


def _describe(e: RecordedEvent) -> str:
    d = e.data
    if e.stream_type != "order":
        related = _describe_related(e)
        if related is not None:
            return related
    match e.name:
        case "OrderPlaced":
            total = d["total"]
            return (
                f"Order {d['order_number']} placed with {len(d['lines'])} line(s), "
                f"total {total['amount']} {total['currency']}."
            )
        case "OrderModified":
            return f"{d['field']} changed: {d['reason']}"
        case "NoteAdded":
            return f"{d['kind'].capitalize()} note added."
        case "NoteEdited":
            return "Note edited."
        case "NoteDeleted":
            return "Note deleted."
        case "TagAdded":
            return f"Tagged '{d['tag']}'."
        case "TagRemoved":
            return f"Tag '{d['tag']}' removed."
        case "OrderConfirmed":
            places = sorted({a["location"] for a in d["allocations"]})
            return f"Order confirmed: stock reserved at {', '.join(places)}, payment authorized."
        case "OrderCancelled":
            return f"Order cancelled: {d['reason']}."
        case "TimelineEntryAdded":
            return d["description"]
        case "LineEditRequested":
            return f"Line edit requested ({d['kind']} {d['sku']}): {d['reason']}"
        case "LineEditRejected":
            return f"Line edit rejected: {d['reason']}."
    return _snake(e.name).replace("_", " ").capitalize() + "."


def _entry(order_id: UUID, e: RecordedEvent) -> tuple:
    custom = e.name == "TimelineEntryAdded"
    entry_type = e.data["entry_type"] if custom else _snake(e.name)
    metadata = e.data.get("metadata", {}) if custom else {}
    return (
        order_id,
        e.position,
        e.stream_id,
        e.stream_type,
        e.type,
        e.version,
        entry_type,
        _describe(e),
        e.meta.occurred_at,
        e.meta.actor,
        e.meta.correlation_id,
        e.meta.causation_id,
        metadata,
        e.data,
    )


#: The columns of ``order_timeline``, in ``_entry``'s order.
COLUMNS = (
    "order_id", "position", "stream_id", "stream_type", "event_type", "version", "type",
    "description", "occurred_at", "actor", "correlation_id", "causation_id", "metadata", "data",
)  # fmt: skip


def _owners(cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> dict[UUID, UUID]:
    """stream id -> order id for every event of the batch whose order is known (new links
    from events that name their order are stored)."""
    owners: dict[UUID, UUID] = {}
    new: dict[UUID, UUID] = {}
    for e in events:
        if e.stream_type == "order":
            owners[e.stream_id] = e.stream_id
        elif e.stream_id not in owners and e.data.get("order_id"):
            owners[e.stream_id] = new[e.stream_id] = UUID(str(e.data["order_id"]))
    table = sql.SQL("{}.order_streams").format(sql.Identifier(schema))
    insert_values(
        cur, sql.SQL("INSERT INTO {}").format(table), list(new.items()),
        sql.SQL("ON CONFLICT DO NOTHING"),
    )  # fmt: skip
    wanted = list({e.stream_id for e in events} - set(owners))
    if wanted:
        cur.execute(
            sql.SQL("SELECT stream_id, order_id FROM {} WHERE stream_id = ANY(%s)").format(table),
            (wanted,),
        )
        for row in cur.fetchall():
            row = tuple(row.values()) if isinstance(row, dict) else row
            owners[row[0]] = row[1]
    return owners


class OrderTimelineView(Projection):
    name = "order_timeline"
    topics = (*ORDER_TOPICS, *RELATED_TOPICS)
    ddl = """
    CREATE TABLE {schema}.order_timeline (
        order_id uuid NOT NULL,
        position bigint NOT NULL,
        stream_id uuid NOT NULL,
        stream_type text NOT NULL,
        event_type text NOT NULL,
        version bigint NOT NULL,
        type text NOT NULL,
        description text NOT NULL,
        occurred_at timestamptz NOT NULL,
        actor text NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL,
        metadata jsonb NOT NULL,
        data jsonb NOT NULL,
        PRIMARY KEY (order_id, position)
    );
    CREATE TABLE {schema}.order_streams (
        stream_id uuid PRIMARY KEY,
        order_id uuid NOT NULL
    );
    """
    comments = {
        "order_timeline": (
            "An order's history: one row per event of its own stream and of its payment, "
            "shipment and return streams."
        ),
        "order_timeline.order_id": "The order's stream id.",
        "order_timeline.position": "Event-log position of the event (orders the timeline).",
        "order_timeline.stream_id": "The stream the event belongs to (the order or a related one).",
        "order_timeline.stream_type": "That stream's type: order, payment, shipment or return.",
        "order_timeline.event_type": "The event's stored type (order.OrderPlaced, ...).",
        "order_timeline.version": "The event's version in its own stream.",
        "order_timeline.type": "Entry name (OrderPlaced, PaymentCaptured, or a custom entry's).",
        "order_timeline.description": "One line in words.",
        "order_timeline.occurred_at": "When it happened (business time).",
        "order_timeline.actor": "Who or what did it.",
        "order_timeline.correlation_id": "The request (or saga run) it came from.",
        "order_timeline.causation_id": "What caused it (an event or a request).",
        "order_timeline.metadata": "The event's metadata (JSON).",
        "order_timeline.data": "The event's fields (JSON).",
        "order_streams": "Which order each related payment, shipment or return stream serves.",
        "order_streams.stream_id": "A payment, shipment or return stream.",
        "order_streams.order_id": "The order that stream serves.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        owners = _owners(cur, schema, events)
        # The batch's entries in one statement (a redelivered event's is there already).
        insert_records(
            cur,
            sql.SQL("{}.order_timeline").format(sql.Identifier(schema)),
            COLUMNS,
            [_entry(owners[e.stream_id], e) for e in events if e.stream_id in owners],
            sql.SQL("ON CONFLICT (order_id, position) DO NOTHING"),
        )

    def compare_key(self) -> dict[str, str]:
        return {"order_timeline": "order_id, position", "order_streams": "stream_id"}


def list_timeline(
    pool: ConnectionPool,
    order_id: UUID,
    *,
    descending: bool = False,
    limit: int = 500,
    after_position: int | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` entries, ascending (or descending) by position, after the entry at
    ``after_position`` (a previous page's last)."""
    direction = sql.SQL("DESC" if descending else "ASC")
    cursor_clause = sql.SQL("")
    params: list[Any] = [order_id]
    if after_position is not None:
        cursor_clause = sql.SQL("AND position < %s" if descending else "AND position > %s")
        params.append(after_position)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT position, stream_id, stream_type, event_type, version, type, "
                "description, occurred_at, actor, correlation_id, causation_id, metadata, data "
                "FROM {}.order_timeline WHERE order_id = %s {} ORDER BY position {} LIMIT %s"
            ).format(sql.Identifier(live_schema("order_timeline")), cursor_clause, direction),
            (*params, limit),
        )
        return cur.fetchall()
