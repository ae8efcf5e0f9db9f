"""Process managers: tracked subscriptions to the event store that react to events by sending
commands.

Each handled event's commands take effect exactly once: every command a handler sends carries
an idempotency key made of the manager's name, the event's position and a step name, so a
manager that crashes after sending a command but before storing its position replays into the
first answers and writes nothing twice. The position is stored after each event, and a
per-manager advisory lock (``eventstore/lock_keys.py``) lets one process at a time advance a
manager. A manager that decides a whole batch at once (``handle_batch``) gets the batch, and
the position after it. A manager's position moves to the head it read even when none of its
events came, so an idle manager never rescans the log.

No event may stall a manager (``eventstore/follower.py``). A handler that raises is retried
with a growing delay, the position held just before the event (for a batch: before the
batch); after ``RetryPolicy.attempts`` tries a batch is handled one trigger at a time to find
the poison, and the event that still fails is parked (``eventstore/parking.py``, follower
``process:<name>``), with every later event of its stream parked behind it; the manager moves
on with every other stream. Infrastructure errors and write conflicts are never parked: the
loop backs off and retries.

**The rule for a parked step: it leaves its subject in a visible state, never silently
pending.** When one of its events is parked the manager's ``on_parked`` hook is called; the
placement saga cancels the order (``processing_failed``), releasing what it held and voiding
what it authorized. If even that fails, the parked record (an ``ALERT``, ``ecom projections
parked``, ``GET /projections``) is what operators see. An operator's retry handles the parked
stream again in order (``retry_parked``); handlers are idempotent, so a step that was
compensated meanwhile finds its order decided and writes nothing.

A manager stamps what it decides with its own clock (``clock``, from the composition root),
read when it decides: never with the triggering event's time, which is a fact about another
decision.
"""

from __future__ import annotations

import hashlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from commands.context import Clock, CommandContext, Idempotency, event_id
from commands.payment_gateway import PaymentGateway
from commands.write_side import WriteSide
from domain.errors import ConcurrencyConflict
from eventstore import lock_keys
from eventstore.follower import Attempts, Follower, FollowerStatus, RetryPolicy, is_infrastructure
from eventstore.parking import EventRef, ParkingLot, error_text, ref_of
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

log = logging.getLogger(__name__)
alerts = logging.getLogger("ecom.alerts")


@dataclass(frozen=True)
class Trigger:
    """The event being handled, and how to make contexts for the commands it causes."""

    manager: str
    event: RecordedEvent

    def context(self, step: str, *, now: datetime) -> CommandContext:
        """A context whose idempotency key is unique to (manager, event, step), stamped
        ``now``: the manager's clock when it decides, not the event's time. It keeps the
        event's correlation id (the request that started the work) and names the event as
        its cause (``commands.context.event_id``)."""
        key = f"{self.event.position}:{step}"
        return CommandContext(
            actor=f"process:{self.manager}",
            now=now,
            correlation_id=self.event.meta.correlation_id,
            causation_id=event_id(self.event.stream_id, self.event.version),
            idempotency=Idempotency(
                principal=f"process:{self.manager}",
                key=key,
                request_hash=hashlib.sha256(key.encode()).hexdigest(),
            ),
        )


class ProcessManager(ABC):
    name: str
    topics: tuple[str, ...]
    #: What the manager stamps its decisions with, read when it decides.
    clock: Clock
    #: In the background loop, after a pass that found work but did not fill its batch, the
    #: next begins no sooner than this long after it began (``Follower.pace_s``): for a
    #: manager nobody waits on, whose every pass costs its lock, position, read and store
    #: whatever it carries, fewer and larger passes. 0: at once (the placement saga).
    pace_s: float = 0.0

    @abstractmethod
    def handle(self, trigger: Trigger) -> None:
        """React to one event by sending commands through
        ``trigger.context(step, now=self.clock())``."""

    def handle_batch(self, triggers: list[Trigger]) -> None:
        """React to a batch in order, atomically or idempotently per event: a manager that
        can decide many events at once (in one transaction) overrides this."""
        raise NotImplementedError

    @property
    def batched(self) -> bool:
        return type(self).handle_batch is not ProcessManager.handle_batch

    def on_parked(self, trigger: Trigger, error: str) -> None:  # noqa: B027 - optional hook
        """One of this manager's events was parked after its retries: leave what it was
        handling in a visible state (e.g. cancel the order). The default does nothing more
        than the parked record and its ``ALERT``."""


class WritingManager(ProcessManager):
    """A process manager that sends commands on the write side it is given (the composition
    root's: its store, gateway and caches). ``store`` and ``gateway`` read through to it; the
    crash tests swap them for instrumented ones."""

    write: WriteSide

    @property
    def store(self) -> EventStore:
        return self.write.store

    @store.setter
    def store(self, store: EventStore) -> None:
        self.write = replace(self.write, store=store)

    @property
    def gateway(self) -> PaymentGateway:
        return self.write.gateway

    @gateway.setter
    def gateway(self, gateway: PaymentGateway) -> None:
        self.write = replace(self.write, gateway=gateway)


def follower_name(manager: str) -> str:
    """The manager's name in the parking lot."""
    return f"process:{manager}"


def _transient(exc: BaseException) -> bool:
    """Not the event's fault: the database, the network, or another writer that came first."""
    return is_infrastructure(exc) or isinstance(exc, ConcurrencyConflict)


class _Parker:
    """The streams parked for one manager during a batch, and how to park one more."""

    def __init__(
        self,
        parking: ParkingLot,
        conn,  # noqa: ANN001
        manager: ProcessManager,
        tries: int,
        heads: dict[UUID, int] | None = None,
    ):
        self.parking, self.conn, self.manager, self.tries = parking, conn, manager, tries
        self.follower = follower_name(manager.name)
        self._heads = heads

    @property
    def heads(self) -> dict[UUID, int]:
        """The manager's parked streams, read once, when first needed."""
        if self._heads is None:
            self._heads = self.parking.streams(self.conn, self.follower)
        return self._heads

    def behind(self, event: RecordedEvent | EventRef) -> bool:
        """Park ``event`` behind its stream's parked event, if it has one."""
        if event.stream_id not in self.heads:
            return False
        self.parking.park_behind(self.conn, self.follower, [ref_of(event)], self.heads)
        return True

    def park(self, event: RecordedEvent | EventRef, error: str) -> None:
        self.heads[event.stream_id] = self.parking.park(
            self.conn, self.follower, ref_of(event), error, self.tries
        )
        if not isinstance(event, RecordedEvent):
            return
        try:
            self.manager.on_parked(Trigger(self.manager.name, event), error)
        except Exception:  # noqa: BLE001 - the parked record is then what operators see
            alerts.exception(
                "ALERT process manager %s could not compensate parked event %s of stream %s",
                self.manager.name,
                event.position,
                event.stream_id,
            )


#: The head of the log and the next batch of a manager's events (the head on every row; one
#: row of nulls besides it when there is no event).
_HEAD_AND_BATCH = """
SELECT h.head, e.notification_id, e.originator_id, e.originator_version, e.topic, e.state
  FROM (SELECT coalesce(max(notification_id), 0) AS head FROM {table}) h
  LEFT JOIN LATERAL (
       SELECT notification_id, originator_id, originator_version, topic, state FROM {table}
        WHERE notification_id > %s AND topic = ANY(%s)
        ORDER BY notification_id LIMIT %s) e ON true
 ORDER BY e.notification_id"""


_POSITION = "SELECT position FROM process_tracking WHERE name = %s"

#: A manager's stored position and its parked streams, each with the id of its first parked
#: event (``ParkingLot.streams``), read together after its lock is taken.
_POSITION_AND_PARKED = """
SELECT t.position, p.streams, p.ids
  FROM process_tracking t,
       LATERAL (SELECT array_agg(d.stream_id) AS streams, array_agg(d.id) AS ids
                  FROM (SELECT DISTINCT ON (stream_id) stream_id, id FROM parked_events
                         WHERE follower = %s ORDER BY stream_id, position) d) p
 WHERE t.name = %s"""


class ProcessRunner(Follower):
    thread_name = "process-managers"
    idle_s = 0.05
    #: A manager that found none of its events moves its stored position to the head it read
    #: (so it never rescans the log) at most this often, or when it fell this far behind: a
    #: write per manager per commit would cost every manager a transaction for every order.
    idle_store_s = 1.0
    idle_store_gap = 1_000

    def __init__(
        self,
        store: EventStore,
        managers: Sequence[ProcessManager],
        batch: int = 300,
        *,
        parking: ParkingLot | None = None,
        retry: RetryPolicy = RetryPolicy(),
    ):
        super().__init__()
        self.store = store
        self.managers = {m.name: m for m in managers}
        self.batch = batch
        self.parking = parking or ParkingLot(store.datastore.get_connection)
        self.parking.register(self._owns, self.retry_parked)
        self.attempts = Attempts(retry)
        self._idle_stored: dict[str, float] = {}
        #: Per manager, the position up to which it has seen every event (its own or not):
        #: a commit announced at or below it brings nothing new for it.
        self._seen: dict[str, int] = {}
        self._loops: list[_ManagerLoop] = []
        self._sessions: ConnectionPool | None = None

    def _owns(self, follower: str) -> bool:
        kind, _, name = follower.partition(":")
        return kind == "process" and name in self.managers

    def _position(self, conn, name: str) -> int:  # noqa: ANN001
        """The manager's stored position (``catch_up``, ``status``)."""
        return self._tracked(conn, name, _POSITION, (name,))["position"]

    def _position_and_parked(self, conn, name: str) -> tuple[int, dict[UUID, int]]:  # noqa: ANN001
        """The manager's stored position and its parked streams (``ParkingLot.streams``):
        one query a pass."""
        row = self._tracked(conn, name, _POSITION_AND_PARKED, (follower_name(name), name))
        return row["position"], dict(zip(row["streams"] or (), row["ids"] or (), strict=True))

    @staticmethod
    def _tracked(conn, name: str, query: str, params: tuple) -> dict:  # noqa: ANN001
        """``query``'s row for the manager's tracking row, made (at 0) the first time."""
        row = conn.execute(query, params).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO process_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,)
            )
            row = conn.execute(query, params).fetchone()
        return row

    def _read(
        self, after: int, topics: Sequence[str]
    ) -> tuple[int, list[RecordedEvent], list[EventRef]]:
        """The head of the log, the next batch of the manager's events after ``after`` and
        those that do not decode, in one query: both from one snapshot, so every event up to
        that head has committed and the batch holds every one of its topics' up to the head
        (or the batch is full)."""
        with self.store.datastore.get_connection() as conn:
            found = conn.execute(
                _HEAD_AND_BATCH.format(table=self.store.table),
                (after, list(topics), self.batch),
                prepare=True,
            ).fetchall()
        head = found[0]["head"] if found else 0
        columns = ("notification_id", "originator_id", "originator_version", "topic", "state")
        rows = [tuple(r[c] for c in columns) for r in found if r["notification_id"] is not None]
        try:
            return head, self.store.mapper.to_recorded_many(rows), []
        except Exception:  # noqa: BLE001 - find the ones that do not decode
            good: list[RecordedEvent] = []
            bad: list[EventRef] = []
            for row in rows:
                try:
                    good.append(self.store.mapper.to_recorded(*row))
                except Exception:  # noqa: BLE001
                    bad.append(EventRef(row[0], row[1], row[2], row[3]))
            return head, good, bad

    def run_once(self, name: str, session: psycopg.Connection | None = None) -> int:
        """Handle the next batch of events for one manager; return how many were handled.
        The manager's lock is taken on ``session`` (a background loop's own connection), or
        on one from the store's pool."""
        manager = self.managers[name]
        if not self.attempts.due(name):
            return 0
        if session is not None:
            return self._locked(session, manager)
        with self.store.datastore.get_connection() as conn:
            return self._locked(conn, manager)

    def _locked(self, conn, manager: ProcessManager) -> int:  # noqa: ANN001
        key = lock_keys.process(manager.name)
        got = conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (key,)).fetchone()["ok"]
        if not got:
            return 0
        try:
            return self._run(conn, manager)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _lock_sessions(self) -> ConnectionPool:
        """Connections of the loops' own, like the store's (autocommit, rows as dicts), for
        their locks: the handlers take theirs from the store's pool, which a lock held there
        by each of nine loops would drain. One is kept open; a busy loop takes another."""
        if self._sessions is None:
            pool = self.store.datastore.pool
            self._sessions = ConnectionPool(
                pool.conninfo,
                kwargs={**pool.kwargs, "autocommit": True},
                min_size=1,
                max_size=max(1, len(self.managers)),
                name="process-manager-locks",
                open=True,
            )
        return self._sessions

    def _run(self, conn, manager: ProcessManager) -> int:  # noqa: ANN001
        name = manager.name
        position, parked = self._position_and_parked(conn, name)
        head, events, bad = self._read(position, manager.topics)
        last = max([e.position for e in events] + [b.position for b in bad], default=position)
        upto = last if len(events) + len(bad) >= self.batch else max(head, last)
        parker = _Parker(self.parking, conn, manager, self.attempts.policy.attempts, parked)
        for b in bad:  # decoding is deterministic: parked at once
            if not parker.behind(b):
                parker.park(b, f"the event does not decode ({b.type})")
        events = [e for e in events if not parker.behind(e)]
        if events and manager.batched:
            try:
                manager.handle_batch([Trigger(name, e) for e in events])
            except Exception as exc:
                if _transient(exc):
                    raise
                tries = self.attempts.failed(name, position)
                if not self.attempts.exhausted(tries):
                    log.warning(
                        "process manager %s failed on a batch after %s (try %d): %s",
                        name,
                        position,
                        tries,
                        exc,
                        exc_info=True,
                    )
                    return 0
                parker.tries = tries
                self._one_by_one(conn, manager, events, parker)
        elif events:
            # The position is stored once, after the pass (or before the event that failed),
            # not after each event: a commit per event cost a manager that ignores most of its
            # events (dropship: every plan) a WAL flush per order. A crash in between replays
            # the pass, and every command it sends is idempotent (its key is the event's).
            done = position
            for e in events:
                if parker.behind(e):
                    continue
                try:
                    manager.handle(Trigger(name, e))
                except Exception as exc:
                    if done > position:  # what came before it is handled: not again
                        self._store(conn, name, done)
                    if _transient(exc):
                        raise
                    tries = self.attempts.failed(name, e.position)
                    if not self.attempts.exhausted(tries):
                        log.warning(
                            "process manager %s failed on event %s (try %d): %s",
                            name,
                            e.position,
                            tries,
                            exc,
                            exc_info=True,
                        )
                        return 0
                    parker.tries = tries
                    parker.park(e, error_text(exc))
                done = e.position
        if upto > position and (events or bad or self._idle_store_due(name, upto - position)):
            self._store(conn, name, upto)
        self.attempts.clear(name)
        self._seen[name] = upto
        return len(events)

    def nothing_new(self, name: str, hinted_head: int | None) -> bool:
        """True when the highest position announced is one this manager has seen past."""
        return hinted_head is not None and hinted_head <= self._seen.get(name, -1)

    def _idle_store_due(self, name: str, behind: int) -> bool:
        now = time.monotonic()
        if (
            behind < self.idle_store_gap
            and now - self._idle_stored.get(name, 0.0) < self.idle_store_s
        ):
            return False
        self._idle_stored[name] = now
        return True

    def _one_by_one(self, conn, manager: ProcessManager, events, parker: _Parker) -> None:  # noqa: ANN001
        """A batch that keeps failing, handled one trigger at a time to find the poison."""
        for e in events:
            if not parker.behind(e):
                try:
                    manager.handle_batch([Trigger(manager.name, e)])
                except Exception as exc:
                    if _transient(exc):
                        raise
                    parker.park(e, error_text(exc))
            self._store(conn, manager.name, e.position)

    def _store(self, conn, name: str, position: int) -> None:  # noqa: ANN001
        conn.execute(
            "UPDATE process_tracking SET position = %s, updated_at = now() WHERE name = %s",
            (position, name),
        )

    def retry_parked(self, follower: str, stream_id: UUID) -> tuple[int, int]:
        """Handle a stream's parked events again, in order, under the manager's lock; clear
        each that succeeds. Returns (handled, still parked)."""
        name = follower.partition(":")[2]
        manager = self.managers[name]
        key = lock_keys.process(name)
        with self.store.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                rows = self.parking.stream_rows(conn, follower, stream_id)
                done: list[int] = []
                for i, parked in enumerate(rows):
                    try:
                        trigger = Trigger(name, self._event_at(parked.position))
                        if manager.batched:
                            manager.handle_batch([trigger])
                        else:
                            manager.handle(trigger)
                    except Exception as exc:
                        self.parking.clear(conn, done)
                        if _transient(exc):
                            raise
                        self.parking.failed_again(conn, parked, error_text(exc), rows[i + 1 :])
                        return len(done), len(rows) - len(done)
                    done.append(parked.id)
                self.parking.clear(conn, done)
                return len(done), 0
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def _event_at(self, position: int) -> RecordedEvent:
        found = self.store.read_all(after=position - 1, limit=1)
        if not found or found[0].position != position:
            raise LookupError(f"no event at position {position}")
        return found[0]

    def catch_up(self, timeout_s: float = 60.0) -> None:
        """Handle events until every manager has seen everything written so far (parking
        what keeps failing, as the loop does)."""
        target = self.store.head()
        deadline = time.monotonic() + timeout_s
        for name in self.managers:
            while True:
                self.run_once(name)
                with self.store.datastore.get_connection() as conn:
                    if self._position(conn, name) >= self._last_relevant(name, target):
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"process manager {name} did not catch up")
                time.sleep(0.01)

    def _last_relevant(self, name: str, target: int) -> int:
        with self.store.datastore.get_connection() as conn:
            row = conn.execute(
                f"SELECT coalesce(max(notification_id), 0) AS p FROM {self.store.table} "
                "WHERE notification_id <= %s AND topic = ANY(%s)",
                (target, list(self.managers[name].topics)),
            ).fetchone()
        return row["p"]

    def status(self) -> list[FollowerStatus]:
        head = self.store.head()
        parked = self.parking.counts()
        with self.store.datastore.get_connection() as conn:
            return [
                FollowerStatus(
                    follower_name(name),
                    self._position(conn, name),
                    head,
                    parked.get(follower_name(name), 0),
                )
                for name in self.managers
            ]

    # ---- background: one loop (``Follower``'s) per manager --------------------------------

    def start(self, listen_url: str | None = None, *, poll_s: float = 0.05) -> None:  # type: ignore[override]
        """Each manager in a thread of its own, so that one busy manager (or one waiting on a
        payment gateway) does not hold up the others: they share nothing but the store.
        With ``listen_url`` they wake on commits; without it they poll every ``poll_s``."""
        self._lock_sessions()  # made here, before the loops that share it start
        self._loops = [_ManagerLoop(self, name) for name in self.managers]
        for loop in self._loops:
            loop.start(listen_url, idle_s=poll_s)

    def stop(self) -> None:
        for loop in self._loops:
            loop._stop.set()
            loop._wakeup.set()
        for loop in self._loops:
            loop.stop()
        self._loops = []
        if self._sessions is not None:
            self._sessions.close()
            self._sessions = None
        super().stop()

    def step(self) -> int:
        busy = 0
        for name in self.managers:
            if self._stop.is_set():
                break
            busy += self.run_once(name)
        return busy


class _ManagerLoop(Follower):
    """The background loop of one process manager of a ``ProcessRunner``."""

    def __init__(self, runner: ProcessRunner, name: str):
        super().__init__()
        self.runner, self.name = runner, name
        self.thread_name = f"process:{name}"
        self.pace_s = runner.managers[name].pace_s
        self.full_batch = runner.batch  # a full batch: catching up, not paced
        self._polled = 0.0  # when a step last ran in full

    def step(self) -> int:
        now = time.monotonic()
        quiet = now - self._polled < self.quiet_s
        if quiet and self.runner.nothing_new(self.name, self.hinted_head):
            return 0
        self._polled = now
        if not self.runner.attempts.due(self.name):
            return 0
        with self.runner._lock_sessions().connection() as session:
            return self.runner.run_once(self.name, session)

    def wake_topics(self) -> tuple[str, ...]:
        """Only commits of the manager's own topics wake it."""
        return self.runner.managers[self.name].topics

    def quiet_wait_s(self) -> float:
        if self.name in self.runner.attempts.waiting():
            return self.idle_s
        return self.quiet_s
