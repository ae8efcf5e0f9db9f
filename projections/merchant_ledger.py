"""The merchant ledger: per merchant, one entry per delivered order line of its products (gross,
commission, net) and one per refund that reverses it; ``ledger`` answers the entries and their
totals per currency over a period.

- Gross is the line's unit price × the units delivered (tax and shipping are not the
  merchant's). Commission = gross × rate ÷ 100, rounded half-up to the currency's minor unit;
  net = gross − commission.
- The rate is the one in force when the delivery is recorded (the merchant's latest rate at
  that point of the log), not the one at placement: commission is earned when the sale
  completes, so a change applies to every delivery after it, whenever the order was placed.
  Folding in log order makes that the current rate, the same in a rebuild.
- A refund reverses the units it covers, at the rate of their line's delivery, as negative
  gross, commission and net: a return's refund (``ReturnRefunded``) the units its return
  brought back (``LinesReturned``), a client's refund that names lines (``RefundRequested``
  with ``lines``, then ``RefundSucceeded``) those; never more units than were delivered. A
  refund naming no line is not a merchant's.
- An entry's time is the delivery's (the carrier's, else when it was recorded) or the
  refund's; ``?from=&to=`` select by it (from inclusive, to exclusive).

It reads the decoded event dicts and looks up, once per batch, the merchants of the products
its orders name and which delivered orders hold a merchant's line: an order of our own products
costs no statement. Each entry row is keyed by (position, line), so an event applied twice
adds nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.money import round_money
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "merchant_ledger"


class MerchantLedgerView(Projection):
    name = NAME
    topics = (
        "merchant.MerchantRegistered",
        "merchant.CommissionChanged",
        "product.ProductCreated",
        "order.OrderPlaced",
        "order.LinesRevised",
        "order.LinesDelivered",
        "order.LinesReturned",
        "return.ReturnRefunded",
        "payment.RefundRequested",
        "payment.RefundSucceeded",
    )
    ddl = """
    CREATE TABLE {schema}.rates (merchant_id uuid PRIMARY KEY, percent numeric NOT NULL);
    CREATE TABLE {schema}.products (product_id uuid PRIMARY KEY, merchant_id uuid NOT NULL);
    CREATE TABLE {schema}.lines (order_id uuid NOT NULL, line_id text NOT NULL,
        merchant_id uuid NOT NULL, unit_price numeric NOT NULL, currency text NOT NULL,
        rate numeric, delivered int NOT NULL DEFAULT 0, reversed int NOT NULL DEFAULT 0,
        PRIMARY KEY (order_id, line_id));
    CREATE TABLE {schema}.returned (return_id uuid PRIMARY KEY, order_id uuid NOT NULL,
        lines jsonb NOT NULL);
    CREATE TABLE {schema}.refund_lines (refund_id uuid PRIMARY KEY, lines jsonb NOT NULL);
    CREATE TABLE {schema}.entries (position bigint NOT NULL, line_id text NOT NULL,
        merchant_id uuid NOT NULL, order_id uuid NOT NULL, kind text NOT NULL,
        quantity int NOT NULL, currency text NOT NULL, gross numeric NOT NULL,
        commission numeric NOT NULL, net numeric NOT NULL, rate numeric NOT NULL,
        at timestamptz NOT NULL, PRIMARY KEY (position, line_id));
    CREATE INDEX ON {schema}.entries (merchant_id, at);
    """
    comments = {
        "rates": "Each merchant's commission rate as of the view's position.",
        "rates.merchant_id": "The merchant.",
        "rates.percent": "Its rate, 0 to 100.",
        "products": "The products a merchant sells.",
        "products.product_id": "The product.",
        "products.merchant_id": "Its merchant.",
        "lines": "Order lines of merchants' products.",
        "lines.order_id": "The order.",
        "lines.line_id": "The line.",
        "lines.merchant_id": "The merchant of its product.",
        "lines.unit_price": "Its unit price (currency below).",
        "lines.currency": "The order's currency.",
        "lines.rate": "The rate of its last delivery (its refunds reverse at it).",
        "lines.delivered": "Units delivered.",
        "lines.reversed": "Units whose entry a refund reversed.",
        "returned": "Units each return brought back, until its refund reverses them.",
        "returned.return_id": "The return.",
        "returned.order_id": "Its order.",
        "returned.lines": "Its lines and units (JSON).",
        "refund_lines": "The lines a client's refund names.",
        "refund_lines.refund_id": "The refund.",
        "refund_lines.lines": "Its lines and units (JSON).",
        "entries": "The ledger: one row per delivered or refunded merchant line.",
        "entries.position": "Event-log position of the delivery or refund.",
        "entries.line_id": "The order line.",
        "entries.merchant_id": "The merchant.",
        "entries.order_id": "The order.",
        "entries.kind": "delivery or refund.",
        "entries.quantity": "Units (positive for both kinds).",
        "entries.currency": "Currency of the amounts.",
        "entries.gross": "Unit price × units; negative for a refund.",
        "entries.commission": "Gross × rate ÷ 100, rounded half-up; negative for a refund.",
        "entries.net": "Gross − commission.",
        "entries.rate": "The rate applied.",
        "entries.at": "Business time of the delivery or refund.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> list[tuple]:
            """The rows a statement returns as tuples (whatever the runner's row factory), or
            for one that returns none its row count."""
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            if not cur.description:
                return [(cur.rowcount,)]
            return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cur.fetchall()]

        owners = self._owners(run, events)
        merchant_orders = self._merchant_orders(run, events)
        for e in events:
            d, at = e.data, e.meta.occurred_at
            match e.type:
                case "merchant.MerchantRegistered":
                    run(
                        "INSERT INTO {}.rates VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        e.stream_id, Decimal(d["commission_percent"]),
                    )  # fmt: skip
                case "merchant.CommissionChanged":
                    run(
                        "UPDATE {}.rates SET percent = %s WHERE merchant_id = %s",
                        Decimal(d["new_percent"]), e.stream_id,
                    )  # fmt: skip
                case "product.ProductCreated" if d.get("merchant_id"):
                    owners[e.stream_id] = UUID(d["merchant_id"])
                    run(
                        "INSERT INTO {}.products VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        e.stream_id, owners[e.stream_id],
                    )  # fmt: skip
                case "order.OrderPlaced" | "order.LinesRevised":
                    if self._lines(run, e.stream_id, d, owners):
                        merchant_orders.add(e.stream_id)
                case "order.LinesDelivered" if e.stream_id in merchant_orders:
                    when = (
                        datetime.fromisoformat(d["delivered_at"]) if d.get("delivered_at") else at
                    )
                    for x in d["lines"]:
                        self._deliver(run, e, x["line_id"], int(x["quantity"]), when)
                case "order.LinesReturned":
                    run(
                        "INSERT INTO {}.returned VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        UUID(d["return_id"]), e.stream_id, Jsonb(d["lines"]),
                    )  # fmt: skip
                case "return.ReturnRefunded":
                    rows = run(
                        "DELETE FROM {}.returned WHERE return_id = %s RETURNING order_id, lines",
                        e.stream_id,
                    )
                    for order_id, lines in rows:
                        self._reverse(run, e, order_id, lines, at)
                case "payment.RefundRequested" if d.get("lines"):
                    run(
                        "INSERT INTO {}.refund_lines VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        UUID(d["refund_id"]), Jsonb(d["lines"]),
                    )  # fmt: skip
                case "payment.RefundSucceeded" if d.get("order_id"):
                    rows = run(
                        "DELETE FROM {}.refund_lines WHERE refund_id = %s RETURNING lines",
                        UUID(d["refund_id"]),
                    )
                    for (lines,) in rows:
                        self._reverse(run, e, UUID(d["order_id"]), lines, at)

    @staticmethod
    def _owners(run, events: Sequence[RecordedEvent]) -> dict[UUID, UUID]:  # noqa: ANN001
        """The merchants of the products the batch's orders name, known before it (one query
        per batch; an order of our own products costs nothing more)."""
        product_ids = {
            UUID(x["product_id"])
            for e in events
            if e.type in ("order.OrderPlaced", "order.LinesRevised")
            for x in e.data["lines"]
        }
        if not product_ids:
            return {}
        sql_text = "SELECT product_id, merchant_id FROM {}.products WHERE product_id = ANY(%s)"
        return dict(run(sql_text, list(product_ids)))

    @staticmethod
    def _merchant_orders(run, events: Sequence[RecordedEvent]) -> set[UUID]:  # noqa: ANN001
        """The orders of the batch's deliveries that hold a merchant's line (one query)."""
        order_ids = {e.stream_id for e in events if e.type == "order.LinesDelivered"}
        if not order_ids:
            return set()
        sql_text = "SELECT DISTINCT order_id FROM {}.lines WHERE order_id = ANY(%s)"
        return {row[0] for row in run(sql_text, list(order_ids))}

    @staticmethod
    def _lines(run, order_id: UUID, d: dict, owners: dict[UUID, UUID]) -> bool:  # noqa: ANN001
        """Record (or reprice, after an edit) the order's lines of merchants' products; whether
        it has any."""
        found = False
        for x in d["lines"]:
            merchant = owners.get(UUID(x["product_id"]))
            if merchant is None:
                continue
            found = True
            price = x["unit_price"]
            run(
                """INSERT INTO {}.lines (order_id, line_id, merchant_id, unit_price, currency)
                VALUES (%s, %s, %s, %s, %s) ON CONFLICT (order_id, line_id)
                DO UPDATE SET unit_price = EXCLUDED.unit_price""",
                order_id, x["line_id"], merchant, Decimal(price["amount"]), price["currency"],
            )  # fmt: skip
        return found

    @staticmethod
    def _entry(run, e: RecordedEvent, line: tuple, kind: str, quantity: int, rate, at) -> bool:  # noqa: ANN001, PLR0913
        order_id, line_id, merchant, unit, currency = line
        gross = unit * quantity
        commission = round_money(gross * rate / 100, currency)
        sign = 1 if kind == "delivery" else -1
        [(inserted,)] = run(
            "INSERT INTO {}.entries VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            e.position, line_id, merchant, order_id, kind, quantity, currency, sign * gross,
            sign * commission, sign * (gross - commission), rate, at,
        )  # fmt: skip
        return bool(inserted)

    def _deliver(self, run, e: RecordedEvent, line_id: str, quantity: int, at) -> None:  # noqa: ANN001
        found = run(
            """SELECT l.order_id, l.line_id, l.merchant_id, l.unit_price, l.currency, r.percent
            FROM {0}.lines l JOIN {0}.rates r USING (merchant_id)
            WHERE l.order_id = %s AND l.line_id = %s""",
            e.stream_id, line_id,
        )  # fmt: skip
        if not found or quantity <= 0:
            return
        *line, rate = found[0]
        if self._entry(run, e, tuple(line), "delivery", quantity, rate, at):
            run(
                "UPDATE {}.lines SET delivered = delivered + %s, rate = %s "
                "WHERE order_id = %s AND line_id = %s",
                quantity, rate, e.stream_id, line_id,
            )  # fmt: skip

    def _reverse(self, run, e: RecordedEvent, order_id: UUID, lines, at) -> None:  # noqa: ANN001
        """Reverse the units ``lines`` names (a JSON list of line ids and quantities)."""
        for x in lines:
            found = run(
                """SELECT order_id, line_id, merchant_id, unit_price, currency, rate,
                delivered - reversed FROM {}.lines WHERE order_id = %s AND line_id = %s""",
                order_id, x["line_id"],
            )  # fmt: skip
            if not found or found[0][5] is None:
                continue
            *line, rate, open_units = found[0]
            units = min(int(x["quantity"]), open_units)
            if units > 0 and self._entry(run, e, tuple(line), "refund", units, rate, at):
                run(
                    "UPDATE {}.lines SET reversed = reversed + %s "
                    "WHERE order_id = %s AND line_id = %s",
                    units, order_id, x["line_id"],
                )  # fmt: skip

    def compare_key(self) -> dict[str, str]:
        return {
            "rates": "merchant_id",
            "products": "product_id",
            "lines": "order_id, line_id",
            "returned": "return_id",
            "refund_lines": "refund_id",
            "entries": "position, line_id",
        }


def ledger(
    pool: ConnectionPool, merchant_id: UUID, since: datetime | None, until: datetime | None
) -> dict:
    """The merchant's entries in time order and their totals per currency, between ``since``
    (inclusive) and ``until`` (exclusive) when given."""
    where, args = ["merchant_id = %s"], [merchant_id]
    if since is not None:
        where.append("at >= %s")
        args.append(since)
    if until is not None:
        where.append("at < %s")
        args.append(until)
    cond = " AND ".join(where)
    schema = sql.Identifier(live_schema(NAME))
    entries_q = sql.SQL(
        "SELECT order_id, line_id, kind, quantity, currency, gross, commission, net, rate, at, "
        "position FROM {}.entries WHERE " + cond + " ORDER BY at, position, line_id"
    ).format(schema)
    totals_q = sql.SQL(
        "SELECT currency, sum(gross) AS gross, sum(commission) AS commission, sum(net) AS net, "
        "count(*) AS entries FROM {}.entries WHERE " + cond + " GROUP BY currency ORDER BY currency"
    ).format(schema)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(entries_q, args)
        entries = cur.fetchall()
        cur.execute(totals_q, args)
        totals = cur.fetchall()
    return {"entries": entries, "totals": totals}
