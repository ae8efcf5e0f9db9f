"""The relay: a tracked subscription from the event store to Kafka.

It reads stored events after its position (table ``kafka_relay``), produces each to the topic of
its aggregate type with the stream id as key, and advances its stored position only to the
highest position such that it and every position before it were acknowledged by the broker
(delivery reports). After a crash or any error it starts a new producer and resends from the
stored position: at-least-once, duplicates only of unacknowledged events.

Broker data loss (a broker restarted on memory storage, a topic deleted and recreated): the
relay records the id of each topic it wrote to and the highest acknowledged offset per
partition. When a session starts and such a topic is missing or has another id, or a delivery
report shows an offset at or below an acknowledged one, the broker lost acknowledged messages.
The relay then increments its epoch, forgets its topics and offsets, recreates the topics and
resends from its origin (position 0 unless started with ``start_position``). Every message
carries the epoch in a header, so consumers notice a replaced log and reread it from its
beginning (see ``scaleout.consumer``).

No event may stall the relay (``eventstore/follower.py``): an event that cannot be produced
(its envelope cannot be built, or the producer refuses it: larger than ``message.max.bytes``,
an invalid record) is tried ``RetryPolicy.attempts`` times with a growing delay, then parked
(``eventstore/parking.py``, follower ``relay`` or ``relay:<prefix>``) with the later events of
its stream parked behind it, unsent, so consumers never see a stream out of order; the relay
moves on with every other stream. Broker and network errors are not the event's fault: the
session fails and resends from the stored position, as before, and nothing is parked. An
operator's retry (``ecom projections retry``) marks the stream; the relay, when idle, sends
its parked events in order and clears them, or leaves them parked with the new error. (A
broker rejecting a message in its delivery report still fails the session.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from confluent_kafka import KafkaError, KafkaException, Producer
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore import lock_keys
from eventstore.follower import RetryPolicy, is_infrastructure
from eventstore.parking import EventRef, ParkingLot, error_text
from scaleout import topics as kt

log = logging.getLogger(__name__)
EVENTS_TABLE = "stored_events"
#: Producer errors that are the message's fault, not the broker's: such an event is parked.
EVENT_FAULTS = frozenset(
    {KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_RECORD, KafkaError._INVALID_ARG}
)


def follower_name(prefix: str) -> str:
    """The relay's name in the parking lot."""
    return f"relay:{prefix}" if prefix else "relay"


def _event_fault(exc: BaseException) -> bool:
    """True when producing failed because of the event itself (it would fail again)."""
    if isinstance(exc, KafkaException):
        err = exc.args[0] if exc.args else None
        return isinstance(err, KafkaError) and err.code() in EVENT_FAULTS
    return not (isinstance(exc, BufferError | DeliveryFailed) or is_infrastructure(exc))


class DeliveryFailed(Exception):
    pass


@dataclass(frozen=True)
class RelayStatus:
    relay: str
    position: int
    head: int
    epoch: int
    parked: int = 0

    @property
    def lag(self) -> int:
        """Positions written but not yet acknowledged by the broker."""
        return max(0, self.head - self.position)


def relay_status(pool: ConnectionPool, prefix: str = "") -> RelayStatus:
    with pool.connection() as conn:
        head = conn.execute(
            f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
        ).fetchone()[0]
        row = conn.execute(
            "SELECT position, epoch FROM kafka_relay WHERE relay = %s", (prefix,)
        ).fetchone()
        parked = conn.execute(
            "SELECT count(*) FROM parked_events WHERE follower = %s", (follower_name(prefix),)
        ).fetchone()[0]
    position, epoch = row if row else (0, 1)
    return RelayStatus(prefix, position, head, epoch, parked)


class Relay:
    def __init__(
        self,
        pool: ConnectionPool,
        bootstrap: str,
        *,
        prefix: str = "",
        partitions: int = 6,
        replication_factor: int = 1,
        batch_size: int = 5000,
        max_in_flight: int = 50_000,
        message_timeout_ms: int = 15_000,
        max_backoff_s: float = 10.0,
        producer_config: dict[str, Any] | None = None,
        start_position: int = 0,
        retry: RetryPolicy = RetryPolicy(),
    ):
        self.pool = pool
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.message_timeout_ms = message_timeout_ms
        self.max_backoff_s = max_backoff_s
        self.producer_config = producer_config or {}
        #: Where a relay with no stored position yet starts (0: the whole store).
        self.start_position = start_position
        self.retry = retry
        self.follower = follower_name(prefix)
        self.parking = ParkingLot(pool.connection)
        self.lock_key = lock_keys.relay(prefix)
        #: Streams with a parked event -> the first one's id (loaded each session).
        self._parked: dict[UUID, int] = {}
        self.stop_event = threading.Event()
        self.sessions = 0
        self.errors = 0
        self._known_topics: set[str] = set()

    # ---- stored state --------------------------------------------------------------------

    def _load_state(self) -> tuple[int, int, dict[tuple[str, int], int]]:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO kafka_relay (relay, position, origin) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (self.prefix, self.start_position, self.start_position),
            )
            position, epoch = conn.execute(
                "SELECT position, epoch FROM kafka_relay WHERE relay = %s", (self.prefix,)
            ).fetchone()
            acked = {
                (t, p): o
                for t, p, o in conn.execute(
                    "SELECT topic, partition, acked FROM kafka_relay_partitions WHERE relay = %s",
                    (self.prefix,),
                )
            }
        return position, epoch, acked

    def _save(self, position: int, epoch: int, acked: dict[tuple[str, int], int]) -> None:
        with self.pool.connection() as conn, conn.transaction():
            cur = conn.execute(
                "UPDATE kafka_relay SET position = %s, updated_at = now() "
                "WHERE relay = %s AND epoch = %s AND position <= %s",
                (position, self.prefix, epoch, position),
            )
            if cur.rowcount != 1:
                raise DeliveryFailed("relay state moved under us (another relay or a new epoch)")
            if acked:
                conn.cursor().executemany(
                    "INSERT INTO kafka_relay_partitions (relay, topic, partition, acked) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (relay, topic, partition) "
                    "DO UPDATE SET acked = greatest(kafka_relay_partitions.acked, EXCLUDED.acked)",
                    [(self.prefix, t, p, o) for (t, p), o in acked.items()],
                )

    def _new_epoch(self, epoch: int) -> int:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute(
                "UPDATE kafka_relay SET epoch = %s, position = origin, updated_at = now() "
                "WHERE relay = %s",
                (epoch + 1, self.prefix),
            )
            conn.execute("DELETE FROM kafka_relay_partitions WHERE relay = %s", (self.prefix,))
            conn.execute("DELETE FROM kafka_relay_topics WHERE relay = %s", (self.prefix,))
        log.warning("broker lost acknowledged messages: epoch %s, resending all", epoch + 1)
        return epoch + 1

    # ---- running -------------------------------------------------------------------------

    def run(self, *, until_caught_up: bool = False) -> None:
        """Relay until stopped (or, with ``until_caught_up``, until the head is acknowledged)."""
        backoff = 0.2
        while not self.stop_event.is_set():
            try:
                self.sessions += 1
                if self._session(until_caught_up):
                    return
                backoff = 0.2
            except Exception as exc:  # noqa: BLE001 - any failure: back off, resend from stored
                self.errors += 1
                log.warning(
                    "relay session failed (%s); retrying in %.1f s",
                    exc,
                    backoff,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def stop(self) -> None:
        self.stop_event.set()

    def _check_broker(self, epoch: int) -> int:
        """Return the epoch to produce in: a new one if a topic written to in this epoch is
        missing or was recreated (its id changed), i.e. the broker lost acknowledged messages.

        (Log ends are not compared with acknowledged offsets: some Kafka-protocol brokers,
        tansu among them, report high-water marks per record batch.)"""
        with self.pool.connection() as conn:
            known = dict(
                conn.execute(
                    "SELECT topic, topic_id FROM kafka_relay_topics WHERE relay = %s",
                    (self.prefix,),
                ).fetchall()
            )
        now = kt.topic_ids(self.bootstrap, known)
        if any(now.get(t) != tid for t, tid in known.items()):
            return self._new_epoch(epoch)
        self._known_topics = set(known)
        return epoch

    def _ensure_topic(self, topic: str) -> None:
        if topic in self._known_topics:
            return
        kt.ensure_topics(
            self.bootstrap,
            [topic],
            partitions=self.partitions,
            replication_factor=self.replication_factor,
        )
        tid = kt.topic_ids(self.bootstrap, [topic]).get(topic)
        if tid is None:
            raise DeliveryFailed(f"topic {topic} vanished after creation")
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO kafka_relay_topics (relay, topic, topic_id) VALUES (%s, %s, %s) "
                "ON CONFLICT (relay, topic) DO UPDATE SET topic_id = EXCLUDED.topic_id",
                (self.prefix, topic, tid),
            )
        self._known_topics.add(topic)

    def _session(self, until_caught_up: bool) -> bool:
        with self.pool.connection() as lock_conn:
            got = lock_conn.execute("SELECT pg_try_advisory_lock(%s)", (self.lock_key,)).fetchone()[
                0
            ]
            if not got:
                raise DeliveryFailed("another relay with this prefix is running")
            try:
                return self._produce_loop(until_caught_up)
            finally:
                lock_conn.execute("SELECT pg_advisory_unlock(%s)", (self.lock_key,))

    def _produce_loop(self, until_caught_up: bool) -> bool:
        self._known_topics = set()
        position, epoch, acked = self._load_state()
        if self._check_broker(epoch) != epoch:
            position, epoch, acked = self._load_state()
        with self.pool.connection() as conn:
            self._parked = self.parking.streams(conn, self.follower)
        producer = Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "batch.num.messages": 10_000,
                "queue.buffering.max.messages": self.max_in_flight * 2,
                "message.timeout.ms": self.message_timeout_ms,
                "compression.type": "lz4",
                "logger": kt.LIBRDKAFKA_LOG,
                **self.producer_config,
            }
        )
        pending: deque[int] = deque()  # positions sent, in order
        done: set[int] = set()
        new_acked: dict[tuple[str, int], int] = {}
        failures: list[str] = []
        floor = dict(acked)

        def on_delivery(err: KafkaError | None, msg: Any, pos: int) -> None:
            if err is not None:
                failures.append(str(err))
                return
            key = (msg.topic(), msg.partition())
            offset = msg.offset()
            if offset <= floor.get(key, -1):
                failures.append(f"offset went back on {key}: the broker lost messages")
                return
            if offset > new_acked.get(key, -1):
                new_acked[key] = offset
            done.add(pos)

        stored = sent_upto = position
        session_start = str(position).encode()
        last_save = time.monotonic()

        acked_upto = position
        next_retry_check = 0.0

        def save_acknowledged(force: bool) -> None:
            nonlocal stored, new_acked, last_save, acked_upto
            while pending and pending[0] in done:
                acked_upto = pending.popleft()
                done.discard(acked_upto)
            now = time.monotonic()
            if acked_upto > stored and (force or now - last_save > 0.2):
                if failures:
                    raise DeliveryFailed(failures[0])
                self._save(acked_upto, epoch, new_acked)
                floor.update(new_acked)
                new_acked = {}
                stored = acked_upto
                last_save = now

        try:
            while not self.stop_event.is_set():
                if failures:
                    raise DeliveryFailed(failures[0])
                rows: list[dict[str, Any]] = []
                if len(pending) < self.max_in_flight:
                    rows = self._read(sent_upto)
                for row in rows:
                    pos = row["notification_id"]
                    pending.append(pos)
                    if not self._send_or_park(
                        producer,
                        row,
                        epoch,
                        session_start,
                        lambda err, msg, pos=pos: on_delivery(err, msg, pos),
                    ):
                        done.add(pos)  # parked: nothing to wait for
                    sent_upto = pos
                producer.poll(0 if rows else 0.05)
                idle = not rows and not pending
                save_acknowledged(force=idle)
                if idle:
                    if time.monotonic() >= next_retry_check:
                        self._retry_requested(producer, epoch, session_start)
                        next_retry_check = time.monotonic() + 0.5
                    if until_caught_up and stored >= self._head():
                        return True
                    self.stop_event.wait(0.05)
            producer.flush(5)
            save_acknowledged(force=True)
            return True
        finally:
            producer.purge()
            producer.flush(0)

    def _topic(self, row: dict[str, Any]) -> str:
        """The row's topic, created first if this relay has not written to it yet (broker and
        database errors raise from here: they are never the event's fault)."""
        topic = kt.topic_for(row["topic"].split(".", 1)[0], self.prefix)
        self._ensure_topic(topic)
        return topic

    @staticmethod
    def _produce(
        producer: Producer,
        topic: str,
        row: dict[str, Any],
        epoch: int,
        session_start: bytes,
        on_delivery,  # noqa: ANN001
    ) -> None:
        value = kt.envelope(row)
        while True:
            try:
                producer.produce(
                    topic,
                    key=str(row["originator_id"]).encode(),
                    value=value,
                    headers=kt.headers(row, epoch, session_start),
                    on_delivery=on_delivery,
                )
                return
            except BufferError:
                producer.poll(0.05)

    @staticmethod
    def _ref(row: dict[str, Any]) -> EventRef:
        return EventRef(
            row["notification_id"], row["originator_id"], row["originator_version"], row["topic"]
        )

    def _send_or_park(
        self,
        producer: Producer,
        row: dict[str, Any],
        epoch: int,
        session_start: bytes,
        on_delivery,  # noqa: ANN001
    ) -> bool:
        """Send one event; True if it was handed to the producer. An event of a parked stream
        is parked behind; one that cannot be produced is tried again with backoff, then
        parked (False). Broker and database errors raise (the session resends)."""
        if row["originator_id"] in self._parked:
            with self.pool.connection() as conn:
                self.parking.park_behind(conn, self.follower, [self._ref(row)], self._parked)
            return False
        topic = self._topic(row)
        tries = 0
        while True:
            try:
                self._produce(producer, topic, row, epoch, session_start, on_delivery)
                return True
            except Exception as exc:
                if not _event_fault(exc):
                    raise
                tries += 1
                if tries >= self.retry.attempts or self.stop_event.is_set():
                    with self.pool.connection() as conn:
                        self._parked[row["originator_id"]] = self.parking.park(
                            conn, self.follower, self._ref(row), error_text(exc), tries
                        )
                    return False
                log.warning(
                    "relay could not produce event %s (try %d): %s",
                    row["notification_id"],
                    tries,
                    exc,
                )
                self.stop_event.wait(self.retry.delay(tries))

    def _retry_requested(self, producer: Producer, epoch: int, session_start: bytes) -> None:
        """Send the parked streams an operator asked to retry, each in order, waiting for the
        broker; clear what was delivered, leave the rest parked behind the one that failed."""
        with self.pool.connection() as conn:
            streams = self.parking.requested(conn, self.follower)
        for stream_id in streams:
            with self.pool.connection() as conn, conn.transaction():
                rows = self.parking.stream_rows(conn, self.follower, stream_id)
                with conn.cursor(row_factory=dict_row) as cur:
                    cur.execute(
                        f"SELECT notification_id, originator_id, originator_version, topic, "
                        f"state FROM {EVENTS_TABLE} WHERE notification_id = ANY(%s)",
                        ([r.position for r in rows],),
                    )
                    stored = {r["notification_id"]: r for r in cur.fetchall()}
                done: list[int] = []
                for i, parked in enumerate(rows):
                    errors: list[str] = []
                    topic = self._topic(stored[parked.position])
                    try:
                        self._produce(
                            producer,
                            topic,
                            stored[parked.position],
                            epoch,
                            session_start,
                            lambda err, msg, errors=errors: (
                                errors.append(str(err)) if err else None
                            ),
                        )
                        if producer.flush(self.message_timeout_ms / 1000):
                            raise DeliveryFailed("the broker did not acknowledge in time")
                        if errors:
                            raise DeliveryFailed(errors[0])
                    except Exception as exc:
                        self.parking.clear(conn, done)
                        if not _event_fault(exc):
                            raise
                        self.parking.failed_again(conn, parked, error_text(exc), rows[i + 1 :])
                        break
                    done.append(parked.id)
                else:
                    self.parking.clear(conn, done)
                log.warning("relay retried parked stream %s: %d sent", stream_id, len(done))
            with self.pool.connection() as conn:
                self._parked = self.parking.streams(conn, self.follower)

    def _read(self, after: int) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {EVENTS_TABLE} WHERE notification_id > %s "
                "ORDER BY notification_id LIMIT %s",
                (after, self.batch_size),
            )
            return cur.fetchall()

    def _head(self) -> int:
        with self.pool.connection() as conn:
            return conn.execute(
                f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}"
            ).fetchone()[0]
