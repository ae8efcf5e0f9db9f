"""Stored events as the Kafka messages the relay would produce, delivered in an order Kafka
allows (per key order kept, keys interleaved at random across partitions and topics), fed
through the consumer's own apply path; and the table-for-table comparison of two builds."""

from __future__ import annotations

import random
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence

from confluent_kafka import Message
from psycopg import sql
from psycopg.rows import dict_row

from projections.base import BOOKKEEPING_TABLES, Projection
from scaleout import topics as kt
from scaleout.consumer import KafkaProjector


def stored_rows(pool, after: int, upto: int, types: Sequence[str]) -> list[dict]:
    """The stored events in (after, upto] of the given stored names, in position order."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM stored_events WHERE notification_id > %s AND notification_id <= %s "
            "AND topic = ANY(%s) ORDER BY notification_id",
            (after, upto, list(types)),
        )
        return cur.fetchall()


def messages(rows: Sequence[dict], partitions: int) -> dict[tuple[str, int], list[Message]]:
    """Per (topic, partition), the messages the relay produces for ``rows``, in log order:
    topic by stream type, partition by key (the stream id), offsets counting up."""
    logs: dict[tuple[str, int], list[Message]] = defaultdict(list)
    for row in rows:
        topic = kt.topic_for(row["topic"].split(".", 1)[0])
        key = str(row["originator_id"]).encode()
        tp = (topic, zlib.crc32(key) % partitions)
        logs[tp].append(
            Message(
                topic=tp[0],
                partition=tp[1],
                offset=len(logs[tp]),
                key=key,
                value=kt.envelope(row),
                headers=kt.headers(row, 1, b"0"),
            )
        )
    return logs


def kafka_order(
    logs: dict[tuple[str, int], list[Message]], rnd: random.Random, max_batch: int
) -> list[list[Message]]:
    """Consumer batches in an order Kafka may deliver: each partition's log in offset order,
    the partitions of every topic interleaved at random in runs of random length (as fetches
    return them), cut into batches of random size."""
    queues = [list(log) for log in logs.values() if log]
    stream: list[Message] = []
    while queues:
        q = rnd.choice(queues)
        run = rnd.randint(1, 3 * max_batch)
        stream += q[:run]
        del q[:run]
        queues = [x for x in queues if x]
    batches = []
    while stream:
        size = rnd.randint(1, max_batch)
        batches.append(stream[:size])
        del stream[:size]
    return batches


def apply_batches(projector: KafkaProjector, batches: Sequence[Sequence[Message]]) -> None:
    """Each batch in its own transaction through the consumer's apply path."""
    projector.ensure_schemas()
    with projector.pool.connection() as conn:
        for batch in batches:
            with conn.transaction(), conn.cursor() as cur:
                projector.apply_messages(cur, list(batch))


def tables_of(pool, schema: str) -> list[str]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> ALL(%s) "
            "ORDER BY tablename",
            (schema, list(BOOKKEEPING_TABLES)),
        ).fetchall()
    return [r[0] for r in rows]


def rows_of(pool, schema: str, table: str, where: sql.Composable | None = None) -> list[tuple]:
    """Every row, sorted (by its text form, so any column types compare)."""
    with pool.connection() as conn:
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            + (sql.SQL(" WHERE ") + where if where is not None else sql.SQL(""))
        ).fetchall()
    return sorted(rows, key=repr)


def compare_views(
    pool,
    projections: Sequence[Projection],
    schema_a: Callable[[str], str],
    schema_b: Callable[[str], str],
) -> list[str]:
    """For every table of every view: a line saying how build ``a`` differs from ``b``."""
    out = []
    for p in projections:
        a, b = schema_a(p.name), schema_b(p.name)
        tables = tables_of(pool, a)
        if tables != tables_of(pool, b):
            out.append(f"{p.name}: tables {tables} vs {tables_of(pool, b)}")
            continue
        for table in tables:
            diff = differences(rows_of(pool, a, table), rows_of(pool, b, table))
            if diff is not None:
                out.append(f"{p.name}.{table}: {diff}")
    return out


def _cells(x: tuple, y: tuple) -> dict:
    """The columns (and, in JSON documents, the keys) where two rows of one key differ."""
    out = {}
    for i, (u, v) in enumerate(zip(x, y, strict=True)):
        if u == v:
            continue
        if isinstance(u, dict) and isinstance(v, dict):
            keys = sorted(k for k in u.keys() | v.keys() if u.get(k) != v.get(k))
            out[i] = {k: (u.get(k), v.get(k)) for k in keys}
        else:
            out[i] = (u, v)
    return out


def differences(a: Sequence[tuple], b: Sequence[tuple], limit: int = 3) -> str | None:
    """None if equal; else row counts, and for a few keys (the first column) the cells that
    differ, then a few rows found on one side only."""
    if a == b:
        return None
    by_a, by_b = {repr(r[0]): r for r in a}, {repr(r[0]): r for r in b}
    both = [k for k in by_a if k in by_b and by_a[k] != by_b[k]]
    changed = {k: _cells(by_a[k], by_b[k]) for k in both[:limit]}
    only_a = [r for k, r in by_a.items() if k not in by_b][:limit]
    only_b = [r for k, r in by_b.items() if k not in by_a][:limit]
    return (
        f"{len(a)} rows vs {len(b)}; {len(both)} keys differ, e.g. (column: this vs that) "
        f"{changed}; only here: {only_a}; only there: {only_b}"
    )


def drop_group(pool, projector: KafkaProjector) -> None:
    with pool.connection() as conn:
        for p in projector.projections:
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(projector.schema(p.name))
                )
            )
        conn.execute("DELETE FROM kafka_consumer_streams WHERE group_name = %s", (projector.group,))
        conn.execute("DELETE FROM kafka_dead_letters WHERE group_name = %s", (projector.group,))
