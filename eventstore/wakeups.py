"""Wake-ups for the followers of the log in one process: one ``LISTEN`` connection per
process and database, shared by every follower in it (the projection runner, each process
manager, the audit chainer, the webhook dispatcher, the notification sender).

The appenders' ``NOTIFY`` (``eventstore/commit_notifier.py``) carries the highest position
committed; a listener thread sets every subscribed follower's wake-up event and keeps that
position as ``head``, so a follower that has already handled up to it can skip a step without
asking the database. A follower with nothing to do sleeps until woken, for at most its quiet
period: an idle process sends no queries but that one poll (kept in case a wake-up is lost,
as when an appending process dies between its commit and its ``NOTIFY``). A lost listening
connection is reopened, and every follower is woken then, since commits may have gone unheard.
"""

from __future__ import annotations

import logging
import threading

import psycopg

log = logging.getLogger(__name__)


class Wakeups:
    def __init__(self, url: str, channel: str):
        self.url = url
        self.channel = channel
        #: The highest position a ``NOTIFY`` announced (0 until one does).
        self.head = 0
        self._subscribers: set[threading.Event] = set()
        self._lock = threading.Lock()
        #: The listening thread and its own stop signal (a new thread gets a new one, so one
        #: still winding down is never told to go on).
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def subscribe(self, event: threading.Event) -> None:
        with self._lock:
            self._subscribers.add(event)
            if self._thread is None:
                self.head = 0  # a database of this URL made afresh starts its positions anew
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="ecom-wakeups", daemon=True
                )
                self._thread.start()

    def unsubscribe(self, event: threading.Event) -> None:
        with self._lock:
            self._subscribers.discard(event)
            if self._subscribers or self._thread is None:
                return
            thread, self._thread = self._thread, None
            self._stop.set()
        thread.join(timeout=5)

    def _wake_all(self) -> None:
        with self._lock:
            for event in self._subscribers:
                event.set()

    def _run(self, stop: threading.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self.channel}")
                    self._wake_all()  # what was committed while nobody listened
                    backoff = 0.1
                    while not stop.is_set():
                        for n in conn.notifies(timeout=0.5):
                            if n.payload.isdigit():
                                self.head = max(self.head, int(n.payload))
                            self._wake_all()
            except Exception as exc:  # noqa: BLE001 - keep listening; followers poll meanwhile
                if stop.is_set():
                    return
                log.warning("LISTEN %s: %s; again in %.1f s", self.channel, exc, backoff)
                self._wake_all()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)


_shared: dict[tuple[str, str], Wakeups] = {}
_shared_lock = threading.Lock()


def wakeups_for(url: str, channel: str) -> Wakeups:
    """The process's one ``Wakeups`` for this database and channel (made on first use; its
    thread runs while a follower is subscribed)."""
    with _shared_lock:
        found = _shared.get((url, channel))
        if found is None:
            found = _shared[(url, channel)] = Wakeups(url, channel)
        return found
