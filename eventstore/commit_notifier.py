"""Wake-ups after commit for the listeners of the event table's channel (the projection
runner, the library's subscriptions): one ``NOTIFY`` in a statement of its own for any number
of commits since the last one, sent from a background thread.

Never inside the appending transaction: PostgreSQL lets one notifying transaction commit at a
time (a global lock held through the commit), and under the event table's lock that queue sat
in every append's critical section. Listeners need to know that something was committed, up to
where, and of which topics (the payload, ``eventstore.wakeups.payload``: the highest position
this process committed and the mask of the topics committed since the last ``NOTIFY``, so that
a follower of other topics sleeps on); they read by position, and poll anyway now and then in
case a wake-up is lost, as it is when the process dies between a commit and its NOTIFY.
"""

from __future__ import annotations

import logging
import threading
import time

from eventsourcing.postgres import PostgresDatastore

from eventstore.wakeups import payload

log = logging.getLogger(__name__)

NOTIFY = "SELECT pg_notify(%s, %s)"


class CommitNotifier:
    def __init__(
        self,
        datastore: PostgresDatastore,
        channel: str,
        interval_s: float = 0.01,
        linger_s: float = 1.0,
    ):
        self.datastore = datastore
        self.channel = channel
        #: At most one NOTIFY per interval: commits meanwhile share the next one. The first
        #: commit after a quiet spell is announced at once; under a steady load listeners are
        #: busy reading anyway (a NOTIFY per commit cost a lone writer 0.1-0.2 ms an append).
        self.interval_s = interval_s
        #: The thread waits this long for another commit before it ends (a new one starts on
        #: the next commit), so an idle process keeps no thread and holds no connection.
        self.linger_s = linger_s
        self._changed = threading.Condition()
        self._due = False
        self._running = False
        self._head = 0  # the highest position committed here so far
        #: The topics committed since the last NOTIFY (``eventstore.wakeups.topic_mask``);
        #: None once a commit did not say (then every follower is woken).
        self._mask: int | None = 0

    def committed(self, position: int = 0, mask: int | None = None) -> None:
        """Something was committed, up to ``position``, of the topics in ``mask`` (None: not
        said): wake the listeners soon (without waiting here). The ``NOTIFY`` says the highest
        position committed here, so a follower already past it need not read, and the topics
        committed since the last one (``eventstore/wakeups.py``)."""
        with self._changed:
            self._due = True
            self._head = max(self._head, position)
            self._mask = None if mask is None or self._mask is None else self._mask | mask
            if self._running:
                self._changed.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="ecom-commit-notifier", daemon=True).start()

    def _run(self) -> None:
        try:
            while self._wait_until_due():
                with self.datastore.get_connection() as conn:
                    while True:
                        conn.execute(NOTIFY, (self.channel, self._take()), prepare=True)
                        time.sleep(self.interval_s)
                        with self._changed:
                            if not self._due:
                                break
                            self._due = False
        except Exception:
            if not self.datastore.pool.closed:  # else the process is shutting down
                log.warning("NOTIFY %s failed; listeners will poll", self.channel, exc_info=True)
            with self._changed:
                self._running = False

    def _take(self) -> str:
        """The next payload; what it announces is not announced again."""
        with self._changed:
            announced = payload(self._head, self._mask)
            self._mask = 0
            return announced

    def _wait_until_due(self) -> bool:
        with self._changed:
            if not self._due:
                self._changed.wait(self.linger_s)
            if not self._due:
                self._running = False
                return False
            self._due = False
            return True
