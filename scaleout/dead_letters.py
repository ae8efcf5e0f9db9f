"""Parked poison events of the Kafka consumers (table ``kafka_dead_letters``).

A consumer parks a message it cannot use (unknown type, data failing validation, a projection
raising on it) with the reason and moves on. An operator lists them, retries one (after
deploying a fix: it is decoded and applied again, outside the per-stream ordering, and marked
``retried``) or skips one (marked ``skipped``; nothing is applied)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.mapper import EventMapper
from projections.base import Projection
from projections.view_schemas import kafka_schema
from scaleout.decode import PoisonEvent, decode


@dataclass(frozen=True)
class Parked:
    group_name: str
    projection: str | None
    topic: str
    partition: int
    offset: int
    position: int | None
    stream_id: Any
    version: int | None
    type: str | None
    reason: str
    envelope: bytes


class DeadLetterNotFound(LookupError):
    pass


def park(cur: Cursor, items: Sequence[Parked]) -> None:
    if not items:
        return
    cur.executemany(
        'INSERT INTO kafka_dead_letters (group_name, projection, topic, partition, "offset", '
        "position, stream_id, version, type, reason, envelope) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                p.group_name,
                p.projection,
                p.topic,
                p.partition,
                p.offset,
                p.position,
                p.stream_id,
                p.version,
                p.type,
                p.reason,
                p.envelope,
            )
            for p in items
        ],
    )


def list_dead_letters(
    pool: ConnectionPool, group: str, status: str | None = "parked", limit: int = 100
) -> list[dict[str, Any]]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            'SELECT id, group_name, projection, topic, partition, "offset", position, stream_id, '
            "version, type, reason, status, created_at, resolved_at FROM kafka_dead_letters "
            "WHERE group_name = %s AND (%s::text IS NULL OR status = %s) ORDER BY id LIMIT %s",
            (group, status, status, limit),
        )
        return cur.fetchall()


def skip(pool: ConnectionPool, group: str, dead_letter_id: int) -> None:
    with pool.connection() as conn:
        cur = conn.execute(
            "UPDATE kafka_dead_letters SET status = 'skipped', resolved_at = now() "
            "WHERE id = %s AND group_name = %s AND status = 'parked'",
            (dead_letter_id, group),
        )
        if cur.rowcount != 1:
            raise DeadLetterNotFound(f"no parked dead letter {dead_letter_id} in group {group}")


def retry(
    pool: ConnectionPool,
    mapper: EventMapper,
    projections: Sequence[Projection],
    group: str,
    dead_letter_id: int,
) -> tuple[bool, str]:
    """Decode and apply the parked event again; return (applied, reason if not)."""
    with pool.connection() as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT envelope, projection FROM kafka_dead_letters "
            "WHERE id = %s AND group_name = %s AND status = 'parked' FOR UPDATE",
            (dead_letter_id, group),
        )
        row = cur.fetchone()
        if row is None:
            raise DeadLetterNotFound(f"no parked dead letter {dead_letter_id} in group {group}")
        try:
            event = decode(mapper, bytes(row["envelope"]))
            targets = [
                p
                for p in projections
                if event.type in p.topics and row["projection"] in (None, p.name)
            ]
            with conn.transaction():
                for p in targets:
                    p.apply(cur, kafka_schema(group, p.name), [event])
        except PoisonEvent as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - the projection's own failure, kept as reason
            reason = f"apply_failed: {type(exc).__name__}: {exc}"
        else:
            cur.execute(
                "UPDATE kafka_dead_letters SET status = 'retried', resolved_at = now() "
                "WHERE id = %s",
                (dead_letter_id,),
            )
            return True, ""
        cur.execute(
            sql.SQL("UPDATE kafka_dead_letters SET reason = %s WHERE id = %s"),
            (reason, dead_letter_id),
        )
        return False, reason
