"""Process managers: tracked subscriptions to the event store that react to events by sending
commands.

Each handled event's commands take effect exactly once: every command a handler sends carries
an idempotency key made of the manager's name, the event's position and a step name, so a
manager that crashes after sending a command but before storing its position replays into the
first answers and writes nothing twice. The position is stored after each event, and a
per-manager advisory lock lets one process at a time advance a manager. A manager that
decides a whole batch at once (``handle_batch``) gets the batch, and the position after it.

A manager stamps what it decides with its own clock (``clock``, from the composition root),
read when it decides: never with the triggering event's time, which is a fact about another
decision.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from commands.context import Clock, CommandContext, Idempotency
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Trigger:
    """The event being handled, and how to make contexts for the commands it causes."""

    manager: str
    event: RecordedEvent

    def context(
        self, step: str, *, now: datetime, correlation_id: str | None = None
    ) -> CommandContext:
        """A context whose idempotency key is unique to (manager, event, step), stamped
        ``now``: the manager's clock when it decides, not the event's time."""
        key = f"{self.event.position}:{step}"
        return CommandContext(
            actor=f"process:{self.manager}",
            now=now,
            correlation_id=correlation_id or self.event.meta.correlation_id,
            causation_id=f"{self.event.stream_id}@{self.event.version}",
            idempotency=Idempotency(
                principal=f"process:{self.manager}",
                key=key,
                request_hash=hashlib.sha256(key.encode()).hexdigest(),
                kept_when_unchanged=False,
            ),
        )


class ProcessManager(ABC):
    name: str
    topics: tuple[str, ...]
    #: What the manager stamps its decisions with, read when it decides.
    clock: Clock

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


def _lock_key(name: str) -> int:
    return 7_312_000_000 + zlib.crc32(name.encode())


class ProcessRunner:
    def __init__(self, store: EventStore, managers: Sequence[ProcessManager], batch: int = 300):
        self.store = store
        self.managers = {m.name: m for m in managers}
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _position(self, conn, name: str) -> int:  # noqa: ANN001
        conn.execute(
            "INSERT INTO process_tracking (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,)
        )
        return conn.execute(
            "SELECT position FROM process_tracking WHERE name = %s", (name,)
        ).fetchone()["position"]

    def run_once(self, name: str) -> int:
        """Handle the next batch of events for one manager; return how many were handled."""
        manager = self.managers[name]
        with self.store.datastore.get_connection() as conn:
            got = conn.execute(
                "SELECT pg_try_advisory_lock(%s) AS ok", (_lock_key(name),)
            ).fetchone()["ok"]
            if not got:
                return 0
            try:
                position = self._position(conn, name)
                events = self.store.read_all(
                    after=position, limit=self.batch, topics=manager.topics
                )
                if events and manager.batched:
                    manager.handle_batch([Trigger(name, e) for e in events])
                    self._store(conn, name, events[-1].position)
                    return len(events)
                for event in events:
                    manager.handle(Trigger(name, event))
                    self._store(conn, name, event.position)
                return len(events)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_lock_key(name),))

    def _store(self, conn, name: str, position: int) -> None:  # noqa: ANN001
        conn.execute(
            "UPDATE process_tracking SET position = %s, updated_at = now() WHERE name = %s",
            (position, name),
        )

    def catch_up(self, timeout_s: float = 60.0) -> None:
        """Handle events until every manager has seen everything written so far."""
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

    def start(self, poll_s: float = 0.05) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(poll_s,), daemon=True, name="process-managers"
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self, poll_s: float) -> None:
        while not self._stop.is_set():
            busy = False
            for name in self.managers:
                try:
                    busy = self.run_once(name) > 0 or busy
                except Exception:
                    log.exception("process manager %s failed; it retries the same event", name)
                    self._stop.wait(1.0)
            if not busy:
                self._stop.wait(poll_s)
