"""The webhook dispatcher, a follower of the log (``eventstore/follower.py``): it queues a
delivery for each event of a subscribed type and each webhook that existed at the event's
position (``commands/webhook_directory.py``), and keeps one sender per live webhook running
in this process (``commands/webhook_sender.py``). Deliveries come from here, never from a
request.

Queueing is exactly once: the rows (``webhook_deliveries``, unique per webhook and position)
and the dispatcher's position (``process_tracking``, name ``webhook-dispatcher``) are written
in one transaction, under the dispatcher's advisory lock (``eventstore/lock_keys.py``), so
one process at a time queues and a restart resumes where the last commit left off. Only the
rows' position, stream, version and type are read, never an event's body, so no event can make
queueing fail (nothing to park); database errors back off and retry. Senders run in every
process that runs the dispatcher: their claims are leases, so they never send one delivery
twice at once."""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

from psycopg_pool import ConnectionPool

from commands.webhook_deliveries import DeliveryTable
from commands.webhook_directory import TOPICS as DIRECTORY_TOPICS
from commands.webhook_directory import WebhookDirectory
from commands.webhook_payloads import PayloadBuilder
from commands.webhook_sender import DeliveryPolicy, WebhookSender
from eventstore import lock_keys
from eventstore.follower import Follower
from eventstore.store import EventStore
from eventstore.topic_ranges import topic_ranges

log = logging.getLogger(__name__)
NAME = "webhook-dispatcher"

#: The columns read of each event of the webhooks' types (``eventstore/topic_ranges.py``).
COLUMNS = "notification_id, originator_id, originator_version, topic"


class WebhookDispatcher(Follower):
    thread_name = NAME
    idle_s = 0.5
    #: With no webhook, the position is written at most this often (not on every commit).
    idle_store_s = 1.0

    def __init__(
        self,
        store: EventStore,
        pool: ConnectionPool,
        key: bytes,
        policy: DeliveryPolicy = DeliveryPolicy(),
        *,
        batch: int = 1000,
        listen_url: str | None = None,
    ):
        super().__init__()
        self.store, self.pool, self.key, self.policy = store, pool, key, policy
        self.batch, self.listen_url = batch, listen_url
        self.directory = WebhookDirectory(store)
        self.table = DeliveryTable(pool)
        self.payloads = PayloadBuilder(store)
        self.senders: dict[UUID, WebhookSender] = {}
        self._stored = 0  # the position last read or written (it only ever moves forward)
        self._idle_stored = 0.0  # monotonic time of the last write with no webhook to serve
        self._senders_lock = threading.Lock()
        self._wake_topics: frozenset[str] | None = None  # what the loop listens for

    # ---- the composition root's background service -------------------------------------

    def start(self) -> None:  # type: ignore[override]
        super().start(self.listen_url)

    def stop(self) -> None:
        super().stop()
        with self._senders_lock:
            senders, self.senders = list(self.senders.values()), {}
        for s in senders:
            s.stop(wait=False)
        for s in senders:
            s.stop()

    # ---- one step: queue what came, keep the senders in line with the webhooks ----------

    def step(self) -> int:
        queued = self.queue_once()
        self._sync_senders()
        topics = self.wake_topics()
        if topics != self._wake_topics:  # a webhook came or went: wake on its event types
            self._wake_topics = topics
            self.listen_again()
        return queued

    def wake_topics(self) -> frozenset[str]:
        """Commits of the webhooks' own events, and of the event types a webhook takes, wake
        the dispatcher: with no webhook, an order's commits do not."""
        return frozenset(DIRECTORY_TOPICS).union(
            *(s.event_types for s in self.directory.reaching(self._stored))
        )

    def _sync_senders(self) -> None:
        live = {s.id for s in self.directory.live()}
        with self._senders_lock:
            if self._stop.is_set():
                return
            for webhook_id in live - self.senders.keys():
                sender = WebhookSender(
                    webhook_id, self.directory, self.table, self.payloads, self.key, self.policy
                )
                self.senders[webhook_id] = sender
                sender.start()
            gone = [self.senders.pop(w) for w in list(self.senders) if w not in live]
        for sender in gone:
            sender.stop(wait=False)

    def queue_once(self) -> int:
        """Queue the deliveries of the next batch of events; how many events it read."""
        with self.pool.connection() as conn:
            key = lock_keys.process(NAME)
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                self.directory.refresh()  # another process queues; this one still sends
                return 0
            try:
                return self._queue(conn)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _queue(self, conn) -> int:  # noqa: ANN001
        head = self.store.head()  # first: every event up to it has committed
        self.directory.refresh()  # then: every webhook event up to the head is folded
        if not self.directory.reaching(self._stored) and not self._idle_store_due():
            # No webhook can take an event after the stored position: nothing to queue, and
            # the position (written at most every ``idle_store_s``) may lag without loss.
            return 0
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                "INSERT INTO process_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING", (NAME,)
            )
            cur.execute("SELECT position FROM process_tracking WHERE name = %s FOR UPDATE", (NAME,))
            after = self._stored = cur.fetchone()[0]
            if head <= after:
                return 0
            subs = self.directory.reaching(after)
            topics = sorted({t for s in subs for t in s.event_types})
            rows = []
            if topics:
                cur.execute(
                    topic_ranges(self.store.table, COLUMNS, topics, upto=True),
                    [v for _ in topics for v in (after, head, self.batch)] + [self.batch],
                )
                rows = cur.fetchall()
            queued = [
                (s.id, position, stream_id, version, topic)
                for position, stream_id, version, topic in rows
                for s in subs
                if s.covers(topic, position)
            ]
            self.table.queue(cur, queued)
            upto = rows[-1][0] if len(rows) >= self.batch else head
            cur.execute(
                "UPDATE process_tracking SET position = %s, updated_at = now() WHERE name = %s",
                (upto, NAME),
            )
            self._stored = upto
        for webhook_id in {q[0] for q in queued}:
            sender = self.senders.get(webhook_id)
            if sender is not None:
                sender.wake.set()
        return len(rows)

    def _idle_store_due(self) -> bool:
        now = time.monotonic()
        if now - self._idle_stored < self.idle_store_s:
            return False
        self._idle_stored = now
        return True

    def catch_up(self) -> None:
        """Queue everything written so far (tests and the benchmark)."""
        while self.queue_once():
            pass
