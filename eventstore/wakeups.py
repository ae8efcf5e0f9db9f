"""Wake-ups for the followers of the log in one process: one ``LISTEN`` connection per
process and database, shared by every follower in it (the projection runner, each process
manager, the audit chainer, the webhook dispatcher, the notification sender).

The appenders' ``NOTIFY`` (``eventstore/commit_notifier.py``) carries the highest position
committed and a mask of the committed events' topics (``head:mask``, the mask in hex: one bit
per topic, ``topic_bit``). A listener thread keeps that position as ``head``, and sets the
wake-up event of every subscribed follower whose own mask (``topic_mask`` of the topics it
reads) shares a bit with it: a commit of events nobody here follows wakes nobody, and an
``OrderPlaced`` wakes the placement saga and the views, not every other process manager too.
It also keeps, per subscriber, the highest position announced by a commit that woke it
(``head_of``): a follower that has already read up to it has nothing new of its own to read
and can skip a step without asking the database, whatever else was committed meanwhile (the
placement saga's own reservations and confirmations do not send it round again). That head
is unknown (None: look) from a subscription until its first wake-up, and after a lost
listening connection or a payload without a position.
Two topics may share a bit; that only wakes a follower for nothing. A payload without a mask
(a bare position, or nothing) wakes every follower.

A reader waiting for a view to reach its write (read-your-writes) in a process that does not
run the views sends ``HURRY`` (``hurry``: a ``NOTIFY`` on the same channel); every process's
listener sets its subscribers' hurry events (the projection runner's, which then ends its
gathering pause at once). It wakes nobody else and moves no head.

A follower with nothing to do sleeps until woken, for at most its quiet period: an idle
process sends no queries but that one poll (kept in case a wake-up is lost, as when an
appending process dies between its commit and its ``NOTIFY``; it also moves a follower past
the events of topics it does not read). A lost listening connection is reopened, and every
follower is woken then, since commits may have gone unheard.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterable
from functools import lru_cache

import psycopg

log = logging.getLogger(__name__)


#: Bits of a mask: a topic shares a bit with a given follower's handful of topics about one
#: time in four hundred (a wake-up for nothing). At 256 bits it was one in fifty, and the
#: stock reserved for every order shared one with the notification sender's five topics,
#: which then read its outbox twice an order. Every process of a deployment must use the same
#: width (during an upgrade from another, a commit of the old processes wakes the new
#: followers only by their quiet poll).
MASK_BITS = 2048


@lru_cache(maxsize=4096)
def topic_bit(topic: str) -> int:
    """The one bit of a topic in a wake-up mask (the same in every process)."""
    return 1 << (zlib.crc32(topic.encode()) % MASK_BITS)


def topic_mask(topics: Iterable[str] | None) -> int | None:
    """The mask of ``topics`` (the union of their bits); None for "every commit"."""
    if topics is None:
        return None
    mask = 0
    for topic in topics:
        mask |= topic_bit(topic)
    return mask


#: The payload of a reader's ``NOTIFY`` asking the views to pass now (``hurry``).
HURRY = "hurry"


def hurry(conn: psycopg.Connection, channel: str) -> None:
    """Ask every process's views on ``channel`` to end their gathering pause now."""
    conn.execute("SELECT pg_notify(%s, %s)", (channel, HURRY))


def payload(head: int, mask: int | None) -> str:
    """A ``NOTIFY`` payload: the highest position committed, and the committed topics' mask
    (None: unknown, so every follower wakes)."""
    position = str(head) if head else ""
    return position if mask is None else f"{position}:{mask:x}"


def parse(text: str) -> tuple[int | None, int | None]:
    """(position or None, mask or None) of a payload; anything unreadable wakes everyone."""
    position, _, mask = text.partition(":")
    head = int(position) if position.isdigit() else None
    try:
        return head, (int(mask, 16) if mask else None)
    except ValueError:
        return head, None


class Wakeups:
    def __init__(self, url: str, channel: str):
        self.url = url
        self.channel = channel
        #: The highest position a ``NOTIFY`` announced (0 until one does).
        self.head = 0
        #: Each subscriber's wake-up event and the mask of the topics it follows (None: all).
        self._subscribers: dict[threading.Event, int | None] = {}
        #: Each subscriber's head: the highest position announced by a commit that woke it
        #: (None: unknown, as after a lost connection).
        self._heads: dict[threading.Event, int | None] = {}
        #: Each subscriber's hurry event (``HURRY``), when it has one.
        self._hurries: dict[threading.Event, threading.Event] = {}
        self._lock = threading.Lock()
        #: The listening thread and its own stop signal (a new thread gets a new one, so one
        #: still winding down is never told to go on).
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def subscribe(
        self,
        event: threading.Event,
        mask: int | None = None,
        hurry: threading.Event | None = None,
    ) -> None:
        """Set ``event`` on every commit of a topic in ``mask`` (``topic_mask``; None: on
        every commit), and ``hurry`` on every ``HURRY``."""
        with self._lock:
            self._subscribers[event] = mask
            self._heads[event] = None  # what its new topics committed so far was not counted
            if hurry is not None:
                self._hurries[event] = hurry
            if self._thread is None:
                self.head = 0  # a database of this URL made afresh starts its positions anew
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="ecom-wakeups", daemon=True
                )
                self._thread.start()

    def unsubscribe(self, event: threading.Event) -> None:
        with self._lock:
            self._subscribers.pop(event, None)
            self._heads.pop(event, None)
            self._hurries.pop(event, None)
            if self._subscribers or self._thread is None:
                return
            thread, self._thread = self._thread, None
            self._stop.set()
        thread.join(timeout=5)

    def head_of(self, event: threading.Event) -> int | None:
        """The highest position announced by a commit that woke ``event``'s subscriber;
        None when unknown (nothing announced since it subscribed, or commits may have gone
        unheard)."""
        with self._lock:
            return self._heads.get(event)

    def _wake_all(self) -> None:
        self._wake(None, None)

    def _wake(self, mask: int | None, position: int | None) -> None:
        """Wake the subscribers that follow a topic of ``mask`` (None: every one), and
        raise their heads to ``position`` (None: unknown)."""
        with self._lock:
            for event, follows in self._subscribers.items():
                if mask is None or follows is None or follows & mask:
                    known = self._heads.get(event)
                    if position is None:
                        self._heads[event] = None
                    else:
                        self._heads[event] = position if known is None else max(known, position)
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
                            if n.payload == HURRY:
                                with self._lock:
                                    for hurried in self._hurries.values():
                                        hurried.set()
                                continue
                            position, mask = parse(n.payload)
                            if position is not None:
                                self.head = max(self.head, position)
                            self._wake(mask, position)
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
