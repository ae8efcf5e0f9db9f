"""Read model: one JSON document per order (``GET /orders/{id}``), and the pure function that
evolves the document by one recorded event (the order summaries reuse it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from domain.money import minor_unit
from domain.order.events import ORDER_STREAM_EVENTS
from domain.order.status import StatusFacts, derive_status, fulfillment_status
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema
from projections.batch_writes import insert_values
from projections.payment_streams import COMMENTS as PAYMENT_STREAMS_COMMENTS
from projections.payment_streams import DDL as PAYMENT_STREAMS_DDL
from projections.payment_streams import (
    PAYMENT_TOPICS,
    apply_payment,
    empty_totals,
    is_payment,
    payment_status,
)
from projections.payment_streams import resolve as resolve_payment_streams
from projections.view_schemas import lock_joined_rows

NAME = "order_detail"
ORDER_TOPICS = tuple(e.stored_name() for e in ORDER_STREAM_EVENTS)


def _zero(currency: str) -> dict[str, str]:
    """No discount, in the currency's minor unit (a line placed without promotions)."""
    return {"amount": str(minor_unit(currency) * 0), "currency": currency}


def _placed(e: RecordedEvent) -> dict[str, Any]:
    d = e.data
    at = e.meta.occurred_at.isoformat()
    return {
        "id": str(e.stream_id),
        "number": d["order_number"],
        "customer_id": d["customer_id"],
        "channel": d["channel"],
        "channel_order_id": d.get("channel_order_id"),
        "currency": d["currency"],
        "priority": d["priority"],
        "gift": d.get("gift"),
        "scheduled_delivery": d.get("scheduled_delivery"),
        "shipping_address": d["shipping_address"],
        "billing_address": d.get("billing_address"),
        "payment": {"method": d["payment"]["method"]},
        "lines": [
            {
                "line_id": line["line_id"],
                "sku": line["sku"],
                "product_id": line["product_id"],
                "name": line.get("name", ""),
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "total": line["total"],
                "price_rule_id": line.get("price_rule_id"),
                "price_rule_type": line.get("price_rule_type"),
                "discount": line.get("discount") or _zero(d["currency"]),
                "reserved": 0,
                "cancelled": 0,
                "shipped": 0,
                "delivered": 0,
                "returned": 0,
            }
            for line in d["lines"]
        ],
        "subtotal": d["subtotal"],
        "tax": d["tax"],
        "shipping": d["shipping"],
        "discount": d["discount"],
        "promotions": d.get("promotions") or [],
        "total": d["total"],
        "payment_status": "pending",
        "tags": [],
        "notes": [],
        "shipments": [],
        "refunds": [],
        "parent_order_id": d.get("parent_order_id"),
        "split_reason": d.get("split_reason"),
        "split_location": d.get("split_location"),
        "flags": {"confirmed": False, "processing": False, "cancelled": False},
        "created_at": at,
        **_bundle_lines(d["lines"]),
    }


def _bundle_lines(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The bundles' lines' components, by line id (kept off the API's answer), if any."""
    bundles = {x["line_id"]: x["components"] for x in lines if x.get("components")}
    return {"bundles": bundles} if bundles else {}


def _facts(doc: dict[str, Any]) -> StatusFacts:
    lines, flags = doc["lines"], doc["flags"]
    return StatusFacts(
        ordered=sum(x["quantity"] for x in lines),
        cancelled_units=sum(x["cancelled"] for x in lines),
        shipped=sum(x["shipped"] for x in lines),
        delivered=sum(x["delivered"] for x in lines),
        returned=sum(x["returned"] for x in lines),
        confirmed=flags["confirmed"],
        processing=flags["processing"],
        cancelled=flags["cancelled"],
    )


def _apply(doc: dict[str, Any], e: RecordedEvent) -> None:
    d, at = e.data, e.meta.occurred_at.isoformat()
    match e.name:
        case "OrderModified":
            if d["field"] != "lines":  # line edits: ``LinesRevised`` carries the new lines
                doc[d["field"]] = d["new_value"]
        case "NoteAdded":
            doc["notes"].append(
                {
                    "note_id": d["note_id"],
                    "text": d["text"],
                    "kind": d["kind"],
                    "visible_to_customer": d["visible_to_customer"],
                    "author": d["author"],
                    "created_at": at,
                    "updated_at": at,
                }
            )
        case "NoteEdited":
            for note in doc["notes"]:
                if note["note_id"] == d["note_id"]:
                    note.update(
                        text=d["text"], visible_to_customer=d["visible_to_customer"], updated_at=at
                    )
        case "NoteDeleted":
            doc["notes"] = [n for n in doc["notes"] if n["note_id"] != d["note_id"]]
        case "TagAdded":
            doc["tags"].append(d["tag"])
        case "TagRemoved":
            key = d["tag"].casefold()
            doc["tags"] = [t for t in doc["tags"] if t.casefold() != key]
        case "OrderConfirmed":
            doc["flags"]["confirmed"] = True
            if "payment_totals" not in doc:
                doc["payment_status"] = "authorized"
            doc["allocations"] = d["allocations"]
            _reserve_lines(doc, d["allocations"])
        case "OrderCancelled":
            doc["flags"]["cancelled"] = True
            doc["cancellation_reason"] = d["reason"]
            if "payment_totals" not in doc:
                if d["reason"] == "payment_declined":
                    doc["payment_status"] = "failed"
                elif doc["payment_status"] == "authorized":
                    doc["payment_status"] = "voided"
            for line in doc["lines"]:
                line["reserved"] = 0
        case _:
            _apply_fulfillment(doc, e)


def _reserve_lines(doc: dict[str, Any], allocations: list[dict[str, Any]]) -> None:
    """Each line's ``reserved``: the units its allocations hold; a bundle's line (its
    components kept aside in ``doc["bundles"]``) counts the whole bundles they make up."""
    bundles = doc.get("bundles", {})
    for line in doc["lines"]:
        mine = [a for a in allocations if a["line_id"] == line["line_id"]]
        components = bundles.get(line["line_id"])
        if components:
            held = {c["sku"]: 0 for c in components}
            for a in mine:
                held[a["sku"]] = held.get(a["sku"], 0) + a["quantity"]
            line["reserved"] = min(held[c["sku"]] // c["quantity"] for c in components)
        else:
            line["reserved"] = sum(a["quantity"] for a in mine)


def _shipment(doc: dict[str, Any], shipment_id: str) -> dict[str, Any]:
    return next((x for x in doc["shipments"] if x["id"] == shipment_id), {})


def _move_lines(doc: dict[str, Any], lines: list[dict[str, Any]], **fields: int) -> None:
    by_line = {x["line_id"]: x["quantity"] for x in lines}
    for line in doc["lines"]:
        q = by_line.get(line["line_id"], 0)
        for key, sign in fields.items():
            line[key] = max(0, line[key] + sign * q)


def _apply_fulfillment(doc: dict[str, Any], e: RecordedEvent) -> None:
    """Splits, shipments, deliveries, returns and cancellation requests."""
    d, at = e.data, e.meta.occurred_at.isoformat()
    match e.name:
        case "LinesRevised":
            old = {x["line_id"]: x for x in doc["lines"]}
            zero = {"reserved": 0, "cancelled": 0, "shipped": 0, "delivered": 0, "returned": 0}
            doc["lines"] = [
                {
                    **old.get(x["line_id"], {**x, "name": x.get("name", ""), **zero}),
                    "quantity": x["quantity"],
                    "total": x["total"],
                }  # fmt: skip
                for x in d["lines"]
            ]
            _reserve_lines(doc, d["allocations"])
            doc["allocations"] = d["allocations"]
            for key in ("subtotal", "tax", "shipping", "total"):
                doc[key] = d[key]
            edit = doc.get("last_edit")
            if d.get("edit_id") and edit and edit["edit_id"] == d["edit_id"]:
                edit.update(status="applied", decided_at=at)
        case "LineEditRequested":
            doc["last_edit"] = {
                "edit_id": d["edit_id"],
                "kind": d["kind"],
                "line_id": d["line_id"],
                "sku": d["sku"],
                "quantity": d["quantity"],
                "reason": d["reason"],
                "status": "pending",
                "rejection_reason": None,
                "message": None,
                "requested_at": at,
                "decided_at": None,
            }
        case "LineEditRejected":
            edit = doc.get("last_edit")
            if edit and edit["edit_id"] == d["edit_id"]:
                edit.update(
                    status="rejected",
                    rejection_reason=d["reason"],
                    message=d.get("message") or None,
                    decided_at=at,
                )
        case "OrderSplit":
            doc["children"] = [c["order_id"] for c in d["children"]]
        case "FulfillmentStarted":
            doc["flags"]["processing"] = True
        case "ShipmentOpened":
            doc["shipments"].append(
                {
                    "id": d["shipment_id"],
                    "number": d["number"],
                    "location": d["location"],
                    "carrier": d["carrier"],
                    "tracking_number": None,
                    "lines": d["lines"],
                    "status": "pending",
                    "attempts": [],
                    "created_at": at,
                }
            )
        case "ShipmentTrackingUpdated":
            sh = _shipment(doc, d["shipment_id"])
            if sh:
                sh["status"] = d["status"]
                sh["tracking_number"] = d.get("tracking_number") or sh["tracking_number"]
        case "DeliveryAttemptRecorded":
            sh = _shipment(doc, d["shipment_id"])
            if sh:
                sh["attempts"].append(
                    {k: d.get(k) for k in ("attempt", "outcome", "failure_reason")}
                    | {"at": d.get("occurred_at") or at}
                )
        case "ShipmentCancelledOnOrder":
            _shipment(doc, d["shipment_id"])["status"] = "cancelled"
        case "LinesShipped":
            _move_lines(doc, d["lines"], shipped=1, reserved=-1)
            sh = _shipment(doc, d["shipment_id"])
            if sh and sh["status"] in ("pending", "label_created"):
                sh["status"] = "shipped"
        case "LinesDelivered":
            _move_lines(doc, d["lines"], delivered=1)
            sh = _shipment(doc, d["shipment_id"])
            sh["status"] = "delivered"
            sh["delivered_at"] = d.get("delivered_at") or at  # what the return window reads
        case "LinesReturned":
            _move_lines(doc, d["lines"], returned=1)
        case "OrderLinesCancelled":
            _move_lines(doc, d["lines"], cancelled=1)
            for line in doc["lines"]:
                line["reserved"] = 0
        case "CancellationRequested":
            doc["cancellation_request"] = {
                "id": d["request_id"],
                "status": "pending",
                "reason": d["reason"],
            }
        case "CancellationReviewed":
            doc.setdefault("cancellation_request", {})["status"] = d["decision"]
        case "CancellationCompleted":
            doc.setdefault("cancellation_request", {})["status"] = "completed"
        case "CancellationFailed":
            doc.setdefault("cancellation_request", {})["status"] = "failed"
        case "CancellationRetried":
            doc.setdefault("cancellation_request", {})["status"] = "approved"


def apply_payment_event(doc: dict[str, Any], e: RecordedEvent) -> bool:
    """Fold a payment event into the document's payment facts (once, by position)."""
    if e.position <= doc.get("payment_position", 0):
        return False
    totals = doc.setdefault("payment_totals", empty_totals())
    entry = apply_payment(totals, e)
    if entry is not None and entry["kind"] == "refund" and entry["status"] == "succeeded":
        doc.setdefault("refunds", []).append(entry)
    doc["payment_position"] = e.position
    doc["payment_status"] = payment_status(totals)
    return True


def evolve_document(doc: dict[str, Any] | None, e: RecordedEvent) -> dict[str, Any] | None:
    """The document after event ``e``; events already seen (by version) change nothing."""
    if doc is None:
        if e.name != "OrderPlaced":
            return None
        doc = _placed(e)
    elif e.version <= doc["version"]:
        return doc
    else:
        _apply(doc, e)
    facts = _facts(doc)
    doc["status"] = derive_status(facts)
    doc["fulfillment_status"] = fulfillment_status(facts)
    doc["version"] = e.version
    doc["updated_at"] = e.meta.occurred_at.isoformat()
    return doc


def evolve_documents(
    docs: dict[UUID, dict[str, Any]], events: Sequence[RecordedEvent]
) -> set[UUID]:
    """Evolve ``docs`` in place by a batch of events; return the ids that changed."""
    changed: set[UUID] = set()
    for e in events:
        before = docs.get(e.stream_id)
        version = before["version"] if before else 0
        after = evolve_document(before, e)
        if after is not None and after["version"] != version:
            docs[e.stream_id] = after
            changed.add(e.stream_id)
    return changed


#: The document's fields that come from the order's payment stream (``apply_payment_event``).
PAYMENT_FIELDS = ("payment_totals", "payment_position", "payment_status", "refunds")


class OrderDetailView(Projection):
    """Order documents with their payment facts folded in.

    Payment events join the order by the payment stream's first event (``payment_streams``).
    The store's order puts them after the order's ``OrderPlaced``; Kafka keeps order only per
    stream, so a payment event may come first: its facts are then held in ``held_payments``
    (folded as they would be into the document) and merged into the document when the order
    is placed. Either way the document ends the same (docs/kafka.md). In a consumer group's
    schema, the documents of a batch are locked first (``lock_joined_rows``): another process
    may be applying the order's or the payment's stream at the same time."""

    name = NAME
    topics = (*ORDER_TOPICS, *PAYMENT_TOPICS)
    ddl = (
        """
    CREATE TABLE {schema}.order_detail (
        id uuid PRIMARY KEY,
        version bigint NOT NULL,
        doc jsonb NOT NULL
    );
    CREATE TABLE {schema}.held_payments (
        order_id uuid PRIMARY KEY,
        facts jsonb NOT NULL
    );
    """
        + PAYMENT_STREAMS_DDL
    )
    comments = {
        "order_detail": "One JSON document per order, as GET /orders/{id} answers it.",
        "order_detail.id": "The order's stream id.",
        "order_detail.version": "Version of the order's stream the document reflects.",
        "order_detail.doc": "The order: lines, amounts, status, addresses, payment summary.",
        "held_payments": "Payment facts that arrived before their order's OrderPlaced (Kafka).",
        "held_payments.order_id": "The order they belong to.",
        "held_payments.facts": "The payment facts, applied when the order is placed (JSON).",
        **PAYMENT_STREAMS_COMMENTS,
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        s = sql.Identifier(schema)
        owner = resolve_payment_streams(cur, schema, events)
        ids = list({owner.get(e.stream_id, e.stream_id) for e in events})
        lock_joined_rows(cur, schema, ids)
        # One statement for the documents and any payment facts held for them (none unless
        # payment events came before their order, as they may from Kafka).
        cur.execute(
            sql.SQL(
                "SELECT id, doc, false AS held FROM {s}.order_detail WHERE id = ANY(%s) "
                "UNION ALL SELECT order_id, facts, true FROM {s}.held_payments "
                "WHERE order_id = ANY(%s)"
            ).format(s=s),
            (ids, ids),
        )
        docs: dict[UUID, dict[str, Any]] = {}
        held: dict[UUID, dict[str, Any]] = {}
        for r in cur.fetchall():
            (held if r["held"] else docs)[r["id"]] = r["doc"]
        changed: set[UUID] = set()
        held_changed: set[UUID] = set()
        released: set[UUID] = set()
        for e in events:  # in order: a payment event applies after the order events before it
            if is_payment(e):
                order_id = owner.get(e.stream_id)
                if order_id is None:
                    continue  # a payment stream whose first event this view never saw
                doc = docs.get(order_id)
                if doc is not None:
                    if apply_payment_event(doc, e):
                        changed.add(order_id)
                elif apply_payment_event(held.setdefault(order_id, {}), e):
                    held_changed.add(order_id)
                continue
            before = docs.get(e.stream_id)
            version = before["version"] if before else 0
            doc = evolve_document(before, e)
            if doc is None or doc["version"] == version:
                continue
            if before is None:
                docs[e.stream_id] = doc
                facts = held.pop(e.stream_id, None)
                if facts is not None:  # payment events that came before the order
                    doc.update({k: facts[k] for k in PAYMENT_FIELDS if k in facts})
                    released.add(e.stream_id)
            changed.add(e.stream_id)
        insert_values(  # one statement for the batch's documents (each id once)
            cur,
            sql.SQL("INSERT INTO {}.order_detail (id, version, doc)").format(s),
            [(i, docs[i]["version"], Jsonb(docs[i])) for i in sorted(changed)],
            sql.SQL(
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc"
            ),
        )
        if held_changed - released:
            insert_values(
                cur,
                sql.SQL("INSERT INTO {}.held_payments").format(s),
                [(i, Jsonb(held[i])) for i in sorted(held_changed - released)],
                sql.SQL("ON CONFLICT (order_id) DO UPDATE SET facts = excluded.facts"),
            )
        if released:
            cur.execute(
                sql.SQL("DELETE FROM {}.held_payments WHERE order_id = ANY(%s)").format(s),
                (list(released),),
            )

    def compare_key(self) -> dict[str, str]:
        return {
            "order_detail": "id",
            "held_payments": "order_id",
            "payment_streams": "stream_id",
        }


#: Bookkeeping of the view that the order document does not show.
_INTERNAL = frozenset({"flags", "payment_position", "split_location"})


def public_document(doc: dict[str, Any], *, customer_view: bool = False) -> dict[str, Any]:
    """The API shape: internal bookkeeping dropped; a customer sees only visible notes."""
    out = {k: v for k, v in doc.items() if k not in _INTERNAL}
    if customer_view:
        out["notes"] = [n for n in doc["notes"] if n["visible_to_customer"]]
    return out


async def get_order_async(pool: AsyncConnectionPool, order_id: UUID) -> dict[str, Any] | None:
    """``get_order`` for an asyncio route (no thread hand-off per request): one prepared
    statement, the document decoded with orjson."""
    async with pool.connection() as conn:
        cur = await conn.execute(_SELECT_DOC_TEXT, (order_id,), prepare=True)
        row = await cur.fetchone()
    return None if row is None else orjson.loads(row[0])


# ``doc::text``: decoded by the caller with orjson rather than by psycopg's ``json.loads``.
_SELECT_DOC_TEXT = sql.SQL("SELECT doc::text FROM {}.order_detail WHERE id = %s").format(
    sql.Identifier(live_schema("order_detail"))
)


def get_order(pool: ConnectionPool, order_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT doc FROM {}.order_detail WHERE id = %s").format(
                sql.Identifier(live_schema("order_detail"))
            ),
            (order_id,),
        )
        row = cur.fetchone()
    return None if row is None else row["doc"]


def order_exists(pool: ConnectionPool, order_id: UUID) -> bool:
    """Whether the view has seen the order (its ``OrderPlaced``)."""
    with pool.connection() as conn:
        row = conn.execute(
            sql.SQL("SELECT 1 FROM {}.order_detail WHERE id = %s").format(
                sql.Identifier(live_schema(NAME))
            ),
            (order_id,),
        ).fetchone()
    return row is not None


def children_of(pool: ConnectionPool, order_id: UUID) -> list[dict[str, Any]] | None:
    """The orders this order's split created, in part order: ``id, number, location`` (the
    part's), ``status`` and ``lines`` (``line_id, sku, quantity``); None if the view has not
    seen the order."""
    table = sql.SQL("{}.order_detail").format(sql.Identifier(live_schema(NAME)))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT doc->'children' AS children FROM {} WHERE id = %s").format(table),
            (order_id,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        ids = [UUID(i) for i in row["children"] or ()]
        cur.execute(sql.SQL("SELECT id, doc FROM {} WHERE id = ANY(%s)").format(table), (ids,))
        docs = {r["id"]: r["doc"] for r in cur.fetchall()}
    return [
        {
            "id": str(i),
            "number": docs[i]["number"],
            "location": docs[i].get("split_location"),
            "status": docs[i]["status"],
            "lines": [
                {"line_id": x["line_id"], "sku": x["sku"], "quantity": x["quantity"]}
                for x in docs[i]["lines"]
            ],
        }
        for i in ids
        if i in docs
    ]
