"""Projectors as Kafka consumers: the same ``Projection`` classes, fed from Kafka topics.

Each process of a consumer group takes its share of partitions. Per batch of messages, one
PostgreSQL transaction locks the batch's partition rows in ``kafka_consumer_offsets``, drops
what was already applied (offset below the stored one, or a (stream, version) at or below the
stream's last applied version in ``kafka_consumer_streams``), applies the rest with
``projection.apply`` into the group's schemas (``rk_<group>__<name>``), parks poison events in
``kafka_dead_letters`` and stores the next offsets. A redelivery after a rebalance or a crash
therefore changes nothing. On assignment the consumer seeks to the offsets stored in
PostgreSQL; Kafka's committed offsets are never used.

Every message carries the relay's epoch. A message of a newer epoch than the one stored for its
partition means the broker's log was replaced (the relay resent everything after a data loss):
the consumer rereads that partition from its beginning, and deduplication drops what it has.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import psycopg
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    TopicPartition,
)
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.mapper import EventMapper
from eventstore.recorded import RecordedEvent
from projections.base import Projection
from projections.view_schemas import kafka_schema
from scaleout import dead_letters
from scaleout import topics as kt
from scaleout.decode import PoisonEvent, decode

log = logging.getLogger(__name__)
SCHEMA_LOCK_KEY = 7_311_003


class KafkaProjector:
    def __init__(
        self,
        pool: ConnectionPool,
        mapper: EventMapper,
        projections: Sequence[Projection],
        bootstrap: str,
        group: str,
        *,
        prefix: str = "",
        batch_size: int = 2000,
        consumer_config: dict[str, Any] | None = None,
    ):
        self.pool = pool
        self.mapper = mapper
        self.projections = list(projections)
        self.bootstrap = bootstrap
        self.group = group
        self.prefix = prefix
        self.batch_size = batch_size
        self.consumer_config = consumer_config or {}
        self.topics = kt.topics_for_event_types(
            {t for p in self.projections for t in p.topics}, prefix
        )
        self.stop_event = threading.Event()
        self.applied = 0
        self._rewound: dict[tuple[str, int], int] = {}
        self._consumer: Consumer | None = None

    def schema(self, name: str) -> str:
        return kafka_schema(self.group, name)

    def ensure_schemas(self) -> None:
        """Create each view's schema for this group if missing, else upgrade it to its view's
        tables (``Projection.upgrade``); safe with many processes."""
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for p in self.projections:
                schema = self.schema(p.name)
                exists = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
                    conn.execute(p.ddl.replace("{schema}", schema))
                else:
                    p.upgrade(conn.cursor(), schema)

    # ---- running -------------------------------------------------------------------------

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Consume until stopped (or until ``until()`` is true after a batch)."""
        self.ensure_schemas()
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": self.group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 1000,
                "max.poll.interval.ms": 60000,
                "topic.metadata.refresh.interval.ms": 2000,
                "fetch.wait.max.ms": 50,  # latency: the default 500 ms is spent when idle
                "logger": kt.LIBRDKAFKA_LOG,
                **self.consumer_config,
            }
        )
        self._consumer = consumer
        consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        try:
            while not self.stop_event.is_set():
                msgs = consumer.consume(self.batch_size, timeout=0.2)
                good = []
                for m in msgs:
                    err = m.error()
                    if err is None:
                        good.append(m)
                    elif err.code() != KafkaError._PARTITION_EOF:
                        log.info("consumer: %s", err)
                if good:
                    self._process_with_retry(consumer, good)
                if until is not None and until():
                    return
        finally:
            self._consumer = None
            consumer.close()

    def stop(self) -> None:
        self.stop_event.set()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        stored = self._stored_offsets()
        for tp in partitions:
            row = stored.get((tp.topic, tp.partition))
            tp.offset = row[0] if row else OFFSET_BEGINNING
            self._rewound.pop((tp.topic, tp.partition), None)
        consumer.assign(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        consumer.unassign()

    def _stored_offsets(self) -> dict[tuple[str, int], tuple[int, int]]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT topic, partition, next_offset, epoch FROM kafka_consumer_offsets "
                "WHERE group_name = %s",
                (self.group,),
            ).fetchall()
        return {(t, p): (o, e) for t, p, o, e in rows}

    def _process_with_retry(self, consumer: Consumer, msgs: list[Any]) -> None:
        """Process a batch; if the database fails, drop it and rewind every assigned partition
        to the offsets stored in PostgreSQL once it answers again."""
        delay = 0.2
        try:
            self._process(consumer, msgs)
            return
        except psycopg.OperationalError as exc:
            log.warning("consumer batch failed (%s); rewinding to stored offsets", exc)
        while not self.stop_event.is_set():
            time.sleep(delay)
            try:
                stored = self._stored_offsets()
            except psycopg.OperationalError:
                delay = min(delay * 2, 5.0)
                continue
            partitions = []
            for tp in consumer.assignment():
                row = stored.get((tp.topic, tp.partition))
                offset = row[0] if row else OFFSET_BEGINNING
                partitions.append(TopicPartition(tp.topic, tp.partition, offset))
                self._rewound.pop((tp.topic, tp.partition), None)
            consumer.assign(partitions)  # the same partitions, at the stored offsets
            return

    # ---- one batch -----------------------------------------------------------------------

    def _process(self, consumer: Consumer, msgs: list[Any]) -> None:
        by_partition: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for m in msgs:
            by_partition[(m.topic(), m.partition())].append(m)
        keys = sorted(by_partition)
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO kafka_consumer_offsets (group_name, topic, partition, next_offset, "
                "epoch) VALUES (%s, %s, %s, 0, 0) ON CONFLICT DO NOTHING",
                [(self.group, t, p) for t, p in keys],
            )
            cur.execute(
                "SELECT topic, partition, next_offset, epoch FROM kafka_consumer_offsets "
                "WHERE group_name = %s AND (topic, partition) IN (SELECT * FROM unnest("
                "%s::text[], %s::int[])) ORDER BY topic, partition FOR UPDATE",
                (self.group, [t for t, _ in keys], [p for _, p in keys]),
            )
            stored = {(t, p): [o, e] for t, p, o, e in cur.fetchall()}
            accepted: list[Any] = []
            for key in keys:
                accepted += self._accept(consumer, key, by_partition[key], stored[key])
            self.apply_messages(cur, accepted)
            updates = []
            for key in keys:
                offset, epoch = stored[key]
                _low, high = consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
                updates.append((offset, epoch, max(high or 0, offset), self.group, *key))
            cur.executemany(
                "UPDATE kafka_consumer_offsets SET next_offset = %s, epoch = %s, "
                "high_water = %s, updated_at = now() "
                "WHERE group_name = %s AND topic = %s AND partition = %s",
                updates,
            )

    def _accept(
        self, consumer: Consumer, key: tuple[str, int], msgs: list[Any], stored: list[int]
    ) -> list[Any]:
        """Messages of one partition not yet processed; updates ``stored`` [offset, epoch]."""
        out = []
        for m in msgs:
            epoch = int(kt.header(m, kt.EPOCH_HEADER) or 1)
            if stored[1] == 0:  # first message ever seen on this partition by this group
                stored[1] = epoch
            if epoch < stored[1]:
                continue  # a stale message of a replaced log
            if epoch > stored[1]:
                if self._rewound.get(key) != epoch:
                    # The broker's log was replaced: reread this partition from its start.
                    self._rewound[key] = epoch
                    consumer.seek(TopicPartition(key[0], key[1], OFFSET_BEGINNING))
                    break
                stored[0], stored[1] = m.offset(), epoch
            if m.offset() < stored[0]:
                continue
            stored[0] = m.offset() + 1
            out.append(m)
        return out

    def apply_messages(self, cur: psycopg.Cursor, msgs: list[Any]) -> None:
        """Inside the batch's transaction: drop redeliveries, decode, apply each projection to
        the events of its topics in position order, park poison events, record stream versions.
        ``cur`` is the batch's own cursor (tuple rows)."""
        stream_ids = list({kt.header(m, "ecom-stream-id") for m in msgs})
        cur.execute(
            "SELECT stream_id, version FROM kafka_consumer_streams "
            "WHERE group_name = %s AND stream_id = ANY(%s::uuid[])",
            (self.group, stream_ids),
        )
        last = {str(s): v for s, v in cur.fetchall()}
        changed: dict[str, int] = {}
        events: list[tuple[RecordedEvent, Any]] = []
        parked: list[dead_letters.Parked] = []
        for m in msgs:
            sid = kt.header(m, "ecom-stream-id")
            version = int(kt.header(m, "ecom-version"))
            if version <= last.get(sid, 0):
                continue  # a redelivery
            last[sid] = changed[sid] = version
            try:
                events.append((decode(self.mapper, m.value()), m))
            except PoisonEvent as exc:
                parked.append(self._parked(m, None, str(exc)))
        events.sort(key=lambda em: em[0].position or 0)
        # Projections get rows by name, as from the in-process runner (``Projection.apply``).
        with cur.connection.cursor(row_factory=dict_row) as named:
            for p in self.projections:
                mine = [(e, m) for e, m in events if e.type in p.topics]
                if mine:
                    parked += self._apply_one(named, p, mine)
        self.applied += len(events)
        if changed:
            cur.executemany(
                "INSERT INTO kafka_consumer_streams (group_name, stream_id, version) "
                "VALUES (%s, %s, %s) ON CONFLICT (group_name, stream_id) DO UPDATE "
                "SET version = greatest(kafka_consumer_streams.version, EXCLUDED.version)",
                [(self.group, s, v) for s, v in changed.items()],
            )
        dead_letters.park(cur, parked)

    def _apply_one(
        self, cur: psycopg.Cursor, p: Projection, mine: list[tuple[RecordedEvent, Any]]
    ) -> list[dead_letters.Parked]:
        schema = self.schema(p.name)
        conn = cur.connection
        try:
            with conn.transaction():
                p.apply(cur, schema, [e for e, _ in mine])
            return []
        except psycopg.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - find the poison event one by one
            parked = []
            for e, m in mine:
                try:
                    with conn.transaction():
                        p.apply(cur, schema, [e])
                except psycopg.OperationalError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    reason = f"apply_failed: {type(exc).__name__}: {exc}"
                    parked.append(self._parked(m, p.name, reason))
            return parked

    def _parked(self, m: Any, projection: str | None, reason: str) -> dead_letters.Parked:
        try:
            env = orjson.loads(m.value())
        except orjson.JSONDecodeError:
            env = {}
        return dead_letters.Parked(
            group_name=self.group,
            projection=projection,
            topic=m.topic(),
            partition=m.partition(),
            offset=m.offset(),
            position=env.get("position"),
            stream_id=kt.header(m, "ecom-stream-id"),
            version=int(kt.header(m, "ecom-version") or 0) or None,
            type=kt.header(m, "ecom-type"),
            reason=reason,
            envelope=m.value(),
        )


def consumer_lag(pool: ConnectionPool, group: str | None = None) -> list[dict[str, Any]]:
    """Per group and partition: next offset, last seen log end and the lag between them."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT group_name, topic, partition, next_offset, high_water FROM "
            "kafka_consumer_offsets WHERE (%s::text IS NULL OR group_name = %s) "
            "ORDER BY group_name, topic, partition",
            (group, group),
        ).fetchall()
    return [
        {
            "group": g,
            "topic": t,
            "partition": p,
            "offset": o,
            "high_water": h,
            "lag": max(0, h - o),
        }
        for g, t, p, o, h in rows
    ]
