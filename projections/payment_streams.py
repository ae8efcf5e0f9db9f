"""Which order a payment stream belongs to, for read models that follow payment events.

A payment stream's first event (``PaymentAuthorized`` or ``PaymentDeclined``) names its order;
later ones do not, so a view keeps the pairs in its own table ``payment_streams`` (DDL below)
and resolves each batch's streams with one query."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from psycopg import Cursor, sql

from eventstore.recorded import RecordedEvent
from projections.batch_writes import insert_values

PAYMENT_TOPICS = (
    "payment.PaymentAuthorized",
    "payment.PaymentDeclined",
    "payment.PaymentCaptured",
    "payment.AuthorizationVoided",
    "payment.AuthorizationAdjusted",
    "payment.AuthorizationExpired",
    "payment.RefundRequested",
    "payment.RefundSucceeded",
    "payment.RefundFailed",
)

DDL = """
CREATE TABLE {schema}.payment_streams (
    stream_id uuid PRIMARY KEY,
    order_id uuid NOT NULL
);
"""

#: What ``DDL``'s table holds, for the ``comments`` of every view that embeds it.
COMMENTS = {
    "payment_streams": "Which order each payment stream belongs to (named by its first event).",
    "payment_streams.stream_id": "The payment's stream id.",
    "payment_streams.order_id": "The order it pays for.",
}


def is_payment(e: RecordedEvent) -> bool:
    return e.type.startswith("payment.")


def resolve(cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> dict[UUID, UUID]:
    """stream id → order id for every payment event of the batch (new pairs are stored)."""
    table = sql.SQL("{}.payment_streams").format(sql.Identifier(schema))
    new = {
        e.stream_id: UUID(str(e.data["order_id"]))
        for e in events
        if e.name in ("PaymentAuthorized", "PaymentDeclined")
    }
    insert_values(
        cur, sql.SQL("INSERT INTO {}").format(table), list(new.items()),
        sql.SQL("ON CONFLICT DO NOTHING"),
    )  # fmt: skip
    wanted = list({e.stream_id for e in events if is_payment(e)} - set(new))
    if wanted:
        cur.execute(
            sql.SQL("SELECT stream_id, order_id FROM {} WHERE stream_id = ANY(%s)").format(table),
            (wanted,),
        )
        for row in cur.fetchall():
            row = tuple(row.values()) if isinstance(row, dict) else row
            new[row[0]] = row[1]
    return new


def payment_status(p: dict) -> str:
    """``domain.payment.state.payment_status`` from a view's running totals (decimal strings)."""
    from decimal import Decimal

    auth, cap, void, ref = (Decimal(p[k]) for k in ("authorized", "captured", "voided", "refunded"))
    if ref > 0 and ref >= cap:
        return "refunded"
    if ref > 0:
        return "partially_refunded"
    if cap > 0 and cap >= auth - void:
        return "paid"
    if cap > 0:
        return "partially_paid"
    if p.get("state") == "authorized":
        return "authorized"
    if p.get("state") in ("voided", "expired"):
        return "voided"
    if p.get("state") == "declined":
        return "failed"
    return "pending"


def apply_payment(p: dict, e: RecordedEvent) -> dict | None:
    """Move totals ``p`` by one payment event; return a ledger entry, if the event is one."""
    from decimal import Decimal

    d = e.data
    at = e.meta.occurred_at.isoformat()

    def add(key: str, amount: str) -> None:
        p[key] = str(Decimal(p[key]) + Decimal(amount))

    match e.name:
        case "PaymentAuthorized":
            p["state"], p["authorized"], p["currency"] = "authorized", d["amount"], d["currency"]
            return {"kind": "authorization", "id": d["gateway_reference"], "amount": d["amount"],
                    "status": "authorized", "at": at}  # fmt: skip
        case "PaymentDeclined":
            p["state"], p["currency"] = "declined", d["currency"]
            return {"kind": "authorization", "id": d["idempotency_key"], "amount": d["amount"],
                    "status": "declined", "reason": d["reason"], "at": at}  # fmt: skip
        case "PaymentCaptured":
            add("captured", d["amount"])
            entry = {"kind": "capture", "id": d["capture_id"], "amount": d["amount"]}
            return entry | {"shipment_id": d.get("shipment_id"), "status": "succeeded", "at": at}
        case "AuthorizationAdjusted":
            p["authorized"] = d["amount"]
            return {"kind": "authorization", "id": d["gateway_reference"], "amount": d["amount"],
                    "status": "adjusted", "reason": d["reason"], "at": at}  # fmt: skip
        case "AuthorizationVoided":
            add("voided", d["amount"])
            if Decimal(p["captured"]) == 0:
                p["state"] = "voided"
            return {"kind": "void", "id": f"void-{e.version}", "amount": d["amount"],
                    "reason": d["reason"], "status": "succeeded", "at": at}  # fmt: skip
        case "AuthorizationExpired":
            p["state"] = "expired"
        case "RefundRequested":
            entry = {"kind": "refund", "id": d["refund_id"], "amount": d["amount"],
                     "reason": d["reason"], "status": "pending", "at": at}  # fmt: skip
            if d.get("lines"):
                entry["lines"] = d["lines"]
            return entry
        case "RefundSucceeded":
            add("refunded", d["amount"])
            return {"kind": "refund", "id": d["refund_id"], "amount": d["amount"],
                    "reason": d["reason"], "status": "succeeded", "at": at}  # fmt: skip
        case "RefundFailed":
            return {"kind": "refund", "id": d["refund_id"], "amount": d["amount"],
                    "reason": d["reason"], "status": "failed", "at": at}  # fmt: skip
    return None


def empty_totals() -> dict:
    return {"state": "pending", "currency": None, "authorized": "0", "captured": "0",
            "voided": "0", "refunded": "0"}  # fmt: skip
