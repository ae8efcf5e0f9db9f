"""Read model: customers, with their addresses, consents, order count and lifetime value per
currency; ``get_customer`` and ``list_customers`` are its queries.

The customer rows fold the Customer stream's typed events (the row's version guards a
redelivery). Orders count from ``OrderPlaced`` (split children are parts of one order and do
not count); the lifetime value is what was captured minus what was refunded, per currency:
each order's payment stream (``domain.ids.payment_stream`` of the order id, so captures and
refunds of any schema version find their customer without their ``order_id``) is noted with
the order's customer and currency when the order is placed, and each payment event moves the
sums once (the stream's last applied position guards a redelivery).

``CustomerForgotten`` scrubs the row and its addresses (the personal leaves become the erased
marker; a rebuild decodes them erased anyway), and takes the email out of lookups."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.customer import events as ev
from domain.customer.contact import email_key
from domain.ids import payment_stream
from eventstore.privacy import ADDRESS_PARTS, ERASED, scrub
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "customers"
_MONEY_TOPICS = ("payment.PaymentCaptured", "payment.RefundSucceeded")


def _no_consents() -> dict[str, Any]:
    return {ch: {"granted": False, "at": None, "source": None} for ch in ev.CHANNELS}


class CustomersView(Projection):
    name = NAME
    topics = (
        *(cls.stored_name() for cls in ev.CUSTOMER_EVENTS),
        "order.OrderPlaced",
        *_MONEY_TOPICS,
    )
    ddl = """
    CREATE TABLE {schema}.customers (id uuid PRIMARY KEY, email text NOT NULL,
        email_key text, name text NOT NULL, phone text, segment text NOT NULL,
        status text NOT NULL, consents jsonb NOT NULL, version bigint NOT NULL,
        registered_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE INDEX ON {schema}.customers (email_key);
    CREATE INDEX ON {schema}.customers (segment, id);
    CREATE INDEX ON {schema}.customers (status, id);
    CREATE TABLE {schema}.addresses (customer_id uuid NOT NULL, address_id uuid NOT NULL,
        address jsonb NOT NULL, default_shipping boolean NOT NULL,
        default_billing boolean NOT NULL, added_version bigint NOT NULL,
        PRIMARY KEY (customer_id, address_id));
    CREATE TABLE {schema}.orders (order_id uuid PRIMARY KEY, customer_id uuid NOT NULL,
        counted boolean NOT NULL);
    CREATE INDEX ON {schema}.orders (customer_id);
    CREATE TABLE {schema}.payments (stream_id uuid PRIMARY KEY, customer_id uuid NOT NULL,
        currency text NOT NULL, position bigint NOT NULL);
    CREATE TABLE {schema}.lifetime_value (customer_id uuid NOT NULL, currency text NOT NULL,
        captured numeric NOT NULL, refunded numeric NOT NULL,
        PRIMARY KEY (customer_id, currency));
    """
    comments = {
        "customers": "One row per registered customer (personal fields erased once forgotten).",
        "customers.id": "The customer's id (their stream id; a customer token's sub).",
        "customers.email": "Email as registered ([erased] once forgotten).",
        "customers.email_key": "The email case-folded, for lookups (null once forgotten).",
        "customers.name": "Name ([erased] once forgotten).",
        "customers.phone": "Phone in E.164, or null ([erased] once forgotten).",
        "customers.segment": "Segment (the fixed vocabulary of domain/customer/segments.py).",
        "customers.status": "active, blocked or forgotten.",
        "customers.consents": "Per channel (email, sms): granted, when (at) and by whom (source).",
        "customers.version": "Version of the customer's stream the row reflects.",
        "customers.registered_at": "When the customer registered (business time).",
        "customers.updated_at": "Business time of the customer's last event.",
        "addresses": "The customers' addresses.",
        "addresses.customer_id": "The customer.",
        "addresses.address_id": "The address's id (chosen when added).",
        "addresses.address": "The address (JSON; its personal parts erased once forgotten).",
        "addresses.default_shipping": "Whether it is the customer's default shipping address.",
        "addresses.default_billing": "Whether it is the customer's default billing address.",
        "addresses.added_version": "Stream version of the event that added it (list order).",
        "orders": "Orders placed for a customer id (registered or not yet).",
        "orders.order_id": "The order.",
        "orders.customer_id": "The customer it was placed for.",
        "orders.counted": "Whether it counts in order_count (split children do not).",
        "payments": "Each order's payment stream, with the order's customer and currency.",
        "payments.stream_id": "The payment stream (derived from the order id).",
        "payments.customer_id": "The order's customer.",
        "payments.currency": "The order's currency.",
        "payments.position": "Event-log position of the last capture or refund applied.",
        "lifetime_value": "Per customer and currency: captured and refunded sums.",
        "lifetime_value.customer_id": "The customer.",
        "lifetime_value.currency": "ISO 4217 currency.",
        "lifetime_value.captured": "Sum of captures of the customer's orders.",
        "lifetime_value.refunded": "Sum of successful refunds of the customer's orders.",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        s = sql.Identifier(schema)

        def run(statement: str, *args: object) -> int:
            cur.execute(sql.SQL(statement).format(s), args)
            return cur.rowcount

        placed: list[RecordedEvent] = []
        for e in events:
            if e.type == "order.OrderPlaced":
                placed.append(e)
                continue
            if e.type in _MONEY_TOPICS:
                self._orders(run, placed)  # a capture reads the payment row a placing notes
                placed = []
                self._money(run, e)
            else:
                self._customer(cur, run, schema, e)
        self._orders(run, placed)

    @staticmethod
    def _orders(run, placed: list[RecordedEvent]) -> None:  # noqa: ANN001
        """The orders and their payment streams noted in one statement (first wins, as the
        events come, so a redelivery changes nothing)."""
        if not placed:
            return
        ids = [e.stream_id for e in placed]
        customers = [str(e.data["customer_id"]) for e in placed]
        run(
            "WITH o AS (INSERT INTO {0}.orders SELECT * FROM "
            "unnest(%s::uuid[], %s::uuid[], %s::boolean[]) ON CONFLICT DO NOTHING) "
            "INSERT INTO {0}.payments SELECT s, c, m, 0 FROM "
            "unnest(%s::uuid[], %s::uuid[], %s::text[]) AS t(s, c, m) ON CONFLICT DO NOTHING",
            ids,
            customers,
            [e.data.get("parent_order_id") is None for e in placed],
            [payment_stream(i) for i in ids],
            customers,
            [e.data["currency"] for e in placed],
        )

    @staticmethod
    def _money(run, e: RecordedEvent) -> None:  # noqa: ANN001
        moved = "UPDATE {}.payments SET position = %s WHERE stream_id = %s AND position < %s"
        if not run(moved, e.position, e.stream_id, e.position):
            return  # not an order we saw placed, or applied already
        captured = e.type == "payment.PaymentCaptured"
        amount = Decimal(str(e.data["amount"]))
        run(
            "INSERT INTO {0}.lifetime_value SELECT customer_id, currency, %s, %s "
            "FROM {0}.payments WHERE stream_id = %s ON CONFLICT (customer_id, currency) "
            "DO UPDATE SET captured = {0}.lifetime_value.captured + excluded.captured, "
            "refunded = {0}.lifetime_value.refunded + excluded.refunded",
            amount if captured else Decimal(0),
            Decimal(0) if captured else amount,
            e.stream_id,
        )

    def _customer(self, cur: Cursor, run, schema: str, e: RecordedEvent) -> None:  # noqa: ANN001
        event, at, cid = e.to_domain(), e.meta.occurred_at, e.stream_id
        if isinstance(event, ev.CustomerRegistered):
            run(
                "INSERT INTO {}.customers VALUES (%s, %s, %s, %s, %s, %s, 'active', %s, 0, %s, %s)"
                " ON CONFLICT DO NOTHING",
                cid, event.email, email_key(event.email), event.name, event.phone,
                event.segment, Jsonb(_no_consents()), at, at,
            )  # fmt: skip
        moved = (
            "UPDATE {}.customers SET version = %s, updated_at = %s WHERE id = %s AND version < %s"
        )
        if not run(moved, e.version, at, cid, e.version):
            return  # not registered (a guest forgotten), or applied already
        match event:
            case ev.CustomerProfileUpdated(name=name, phone=phone):
                if name is not None:
                    run("UPDATE {}.customers SET name = %s WHERE id = %s", name.new, cid)
                if phone is not None:
                    run("UPDATE {}.customers SET phone = %s WHERE id = %s", phone.new, cid)
            case ev.CustomerAddressAdded():
                for flag in ("default_shipping", "default_billing"):
                    if getattr(event, flag):
                        run(f"UPDATE {{}}.addresses SET {flag} = false WHERE customer_id = %s",
                            cid)  # fmt: skip
                run("INSERT INTO {}.addresses VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    cid, event.address_id, Jsonb(event.address.model_dump(mode="json")),
                    event.default_shipping, event.default_billing, e.version)  # fmt: skip
            case ev.CustomerAddressRemoved(address_id=aid):
                run("DELETE FROM {}.addresses WHERE customer_id = %s AND address_id = %s", cid, aid)
            case ev.CustomerSegmentAssigned(new=segment):
                run("UPDATE {}.customers SET segment = %s WHERE id = %s", segment, cid)
            case ev.CustomerConsentGranted() | ev.CustomerConsentWithdrawn():
                granted = isinstance(event, ev.CustomerConsentGranted)
                when = event.granted_at if granted else event.withdrawn_at
                consent = {"granted": granted, "at": when.isoformat(), "source": event.source}
                run("UPDATE {}.customers SET consents = jsonb_set(consents, %s, %s) WHERE id = %s",
                    [event.channel], Jsonb(consent), cid)  # fmt: skip
            case ev.CustomerBlocked():
                run("UPDATE {}.customers SET status = 'blocked' WHERE id = %s", cid)
            case ev.CustomerUnblocked():
                run("UPDATE {}.customers SET status = 'active' WHERE id = %s", cid)
            case ev.CustomerForgotten():
                self._forget(cur, run, schema, cid)

    @staticmethod
    def _forget(cur: Cursor, run, schema: str, cid: UUID) -> None:  # noqa: ANN001
        run(
            "UPDATE {}.customers SET status = 'forgotten', email = %s, email_key = NULL, "
            "name = %s, phone = CASE WHEN phone IS NULL THEN NULL ELSE %s END WHERE id = %s",
            ERASED, ERASED, ERASED, cid,
        )  # fmt: skip
        cur.execute(
            sql.SQL("SELECT address_id, address FROM {}.addresses WHERE customer_id = %s").format(
                sql.Identifier(schema)
            ),
            (cid,),
        )
        for row in cur.fetchall():
            address_id, address = tuple(row.values()) if isinstance(row, dict) else row
            scrub(address, ADDRESS_PARTS)
            run("UPDATE {}.addresses SET address = %s WHERE customer_id = %s AND address_id = %s",
                Jsonb(address), cid, address_id)  # fmt: skip

    def compare_key(self) -> dict[str, str]:
        return {
            "customers": "id",
            "addresses": "customer_id, address_id",
            "orders": "order_id",
            "payments": "stream_id",
            "lifetime_value": "customer_id, currency",
        }


_SELECT = """SELECT c.id, c.email, c.name, c.phone, c.segment, c.status, c.consents, c.version,
    c.registered_at,
    COALESCE(ARRAY(SELECT jsonb_build_object('address_id', a.address_id, 'address', a.address,
        'default_shipping', a.default_shipping, 'default_billing', a.default_billing)
        FROM {0}.addresses a WHERE a.customer_id = c.id ORDER BY a.added_version), '{{}}')
        AS addresses,
    (SELECT count(*) FROM {0}.orders o WHERE o.customer_id = c.id AND o.counted) AS order_count,
    COALESCE(ARRAY(SELECT jsonb_build_object('amount', (v.captured - v.refunded)::text,
        'currency', v.currency) FROM {0}.lifetime_value v WHERE v.customer_id = c.id
        ORDER BY v.currency), '{{}}') AS lifetime_value
    FROM {0}.customers c"""


def get_customer(pool: ConnectionPool, customer_id: UUID) -> dict | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        query = sql.SQL(_SELECT + " WHERE c.id = %s").format(sql.Identifier(live_schema(NAME)))
        cur.execute(query, (customer_id,))
        return cur.fetchone()


def list_customers(
    pool: ConnectionPool,
    *,
    segment: str | None = None,
    status: str | None = None,
    email: str | None = None,
    limit: int = 50,
    after: UUID | None = None,
) -> tuple[list[dict], UUID | None]:
    """Customers in id order after ``after``, filtered; the last id when there are more."""
    where, args = ["TRUE"], []
    for clause, value in (
        ("c.segment = %s", segment),
        ("c.status = %s", status),
        ("c.email_key = %s", email_key(email) if email is not None else None),
        ("c.id > %s", after),
    ):
        if value is not None:
            where.append(clause)
            args.append(value)
    query = sql.SQL(_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY c.id LIMIT %s")
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query.format(sql.Identifier(live_schema(NAME))), (*args, limit + 1))
        rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["id"] if more and rows else None)
