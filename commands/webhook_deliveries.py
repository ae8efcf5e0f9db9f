"""The ``webhook_deliveries`` table (migration 027): queueing, claiming, settling, listing
and retrying deliveries. All of its SQL is here.

Per-stream order per webhook: a sender claims the *head* of each of its streams, the
earliest delivery still ``pending``, with the next few of that stream (a run), and sends a
run in order, stopping at its first failure; so a later event of a stream is not sent before
the earlier one is delivered or dead-lettered. A claim is a lease (``leased_until``): any number
of processes may send for one webhook, none claims what another holds, and a crashed sender's
rows come back when the lease runs out (at-least-once). Each claim counts an attempt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.errors import Conflict, NotFound

STATUSES = ("pending", "delivered", "dead")


@dataclass(frozen=True, slots=True)
class Claimed:
    id: UUID
    webhook_id: UUID
    position: int
    stream_id: UUID
    stream_version: int
    event_type: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Result:
    """How one attempt went: ``status`` is the HTTP status (None: no answer), ``error`` what
    went wrong (None: a 2xx)."""

    delivery: Claimed
    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


QUEUE = """INSERT INTO webhook_deliveries
    (webhook_id, position, stream_id, stream_version, event_type) VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (webhook_id, position) DO NOTHING"""

CLAIM = """
WITH heads AS (
    SELECT DISTINCT ON (stream_id) stream_id, position, next_attempt_at, leased_until
    FROM webhook_deliveries WHERE webhook_id = %(w)s AND status = 'pending'
    ORDER BY stream_id, position
), due AS (
    SELECT stream_id FROM heads
    WHERE next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now())
    ORDER BY position LIMIT %(n)s
), ready AS (
    SELECT r.id FROM due CROSS JOIN LATERAL (
        SELECT id FROM webhook_deliveries p
        WHERE p.webhook_id = %(w)s AND p.stream_id = due.stream_id AND p.status = 'pending'
        ORDER BY p.position LIMIT %(run)s) r
)
UPDATE webhook_deliveries d
SET leased_until = now() + make_interval(secs => %(lease)s), attempts = d.attempts + 1,
    last_attempt_at = now()
FROM ready
WHERE d.id = ready.id AND d.status = 'pending'
  AND (d.leased_until IS NULL OR d.leased_until < now())
RETURNING d.id, d.webhook_id, d.position, d.stream_id, d.stream_version, d.event_type,
    d.attempts"""

#: Claimed but not attempted (an earlier delivery of its stream failed in the same batch):
#: the attempt counted at the claim is given back.
RELEASE = """UPDATE webhook_deliveries SET attempts = attempts - 1, leased_until = NULL
    WHERE id = ANY(%s) AND status = 'pending'"""

SETTLE = """UPDATE webhook_deliveries d SET status = v.status, last_status = v.code,
    last_error = v.error, delivered_at = CASE WHEN v.status = 'delivered' THEN now() END,
    next_attempt_at = now() + make_interval(secs => v.delay), leased_until = NULL
    FROM unnest(%s::uuid[], %s::text[], %s::int[], %s::text[], %s::float8[])
        AS v(id, status, code, error, delay)
    WHERE d.id = v.id"""

LIST_COLUMNS = """id, webhook_id, position, stream_id, stream_version, event_type, status,
    attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at,
    created_at"""


class DeliveryTable:
    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    def queue(self, cur: Any, rows: Sequence[tuple[UUID, int, UUID, int, str]]) -> None:
        """Queue (webhook, position, stream, version, type) rows in the caller's transaction;
        a row queued before is left as it is."""
        if rows:
            cur.executemany(QUEUE, rows)

    def claim(self, webhook_id: UUID, streams: int, run: int, lease_s: float) -> list[Claimed]:
        """Lease the due heads of up to ``streams`` streams, oldest first, each with up to
        ``run - 1`` of the deliveries that follow it in its stream (to be sent in order after
        it); each claimed delivery counts an attempt."""
        params = {"w": webhook_id, "n": streams, "run": run, "lease": lease_s}
        with self.pool.connection() as conn:
            rows = conn.execute(CLAIM, params).fetchall()
        return sorted((Claimed(*r) for r in rows), key=lambda c: c.position)

    def settle(
        self,
        results: Sequence[Result],
        max_attempts: int,
        delay_s,  # noqa: ANN001
        unsent: Sequence[Claimed] = (),
    ) -> None:
        """Record attempts: a 2xx is ``delivered``; a failure is retried after
        ``delay_s(attempts)`` or, its attempts spent, ``dead``. ``unsent`` deliveries were
        claimed and not attempted: released, their attempt given back."""
        columns: tuple[list, ...] = ([], [], [], [], [])
        for r in results:
            spent = r.delivery.attempts >= max_attempts
            status = "delivered" if r.ok else ("dead" if spent else "pending")
            delay = 0.0 if r.ok or spent else delay_s(r.delivery.attempts)
            for column, value in zip(
                columns, (r.delivery.id, status, r.status, r.error, delay), strict=True
            ):
                column.append(value)
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(SETTLE, columns)  # one statement: the batch settles at once
            if unsent:
                conn.execute(RELEASE, ([c.id for c in unsent],))

    def next_due(self, webhook_id: UUID) -> datetime | None:
        """When the webhook's next pending delivery is due (a lease's end counts), or None."""
        with self.pool.connection() as conn:
            return conn.execute(
                "SELECT min(greatest(next_attempt_at, coalesce(leased_until, next_attempt_at))) "
                "FROM webhook_deliveries WHERE webhook_id = %s AND status = 'pending'",
                (webhook_id,),
            ).fetchone()[0]

    def list(
        self,
        webhook_id: UUID,
        *,
        status: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The webhook's deliveries in the log's order, after position ``after``."""
        where = "webhook_id = %s AND position > %s" + (" AND status = %s" if status else "")
        params: list[Any] = [webhook_id, after] + ([status] if status else [])
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT {LIST_COLUMNS} FROM webhook_deliveries WHERE {where} "
                "ORDER BY position LIMIT %s",
                [*params, limit],
            )
            return cur.fetchall()

    def retry(self, delivery_id: UUID) -> dict[str, Any]:
        """Make a dead (or waiting) delivery pending again, due now, with its attempts reset;
        ``NotFound``, or ``Conflict`` for one delivered already."""
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, "
                "next_attempt_at = now(), leased_until = NULL "
                f"WHERE id = %s AND status <> 'delivered' RETURNING {LIST_COLUMNS}",
                (delivery_id,),
            )
            row = cur.fetchone()
            if row is not None:
                return row
            cur.execute("SELECT status FROM webhook_deliveries WHERE id = %s", (delivery_id,))
            if cur.fetchone() is None:
                raise NotFound(
                    f"Webhook delivery {delivery_id} does not exist.", code="delivery_not_found"
                )
            raise Conflict(
                "This delivery was delivered already.", code="delivery_already_delivered"
            )
