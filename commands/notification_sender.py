"""The notification sender: a worker that sends queued notifications, never a request.

It keeps the notifications not yet settled folded from the log (``Outbox``: the notification
events after the last position it saw, one indexed query per step), and, holding an advisory
lock on a connection of its own (so one sender in the whole deployment sends; a dead one's lock
goes with its connection), for each:

- **queued**: records ``NotificationSent`` (appended at the version it loaded: a concurrent
  writer conflicts and this send is dropped), hands the message to its channel
  (``commands/email_channel.py``, ``commands/sms_channel.py``) under the notification's key,
  then records ``NotificationDelivered``, or ``NotificationFailed`` with a ``retry_at`` growing
  by the retry policy while attempts remain (and for good after the last);
- **failed with a retry due**: queues it again (``NotificationRequeued``);
- **sent, with no outcome**: a send cut off by a crash (no other sender can hold one: the lock).
  The provider's key settles it: an SMS is sent again under its ``Idempotency-Key`` (the
  provider keeps one per key); an email is looked up by its Message-ID in the Maildir the SMTP
  server delivers to — found, it is delivered; not there, it failed and is retried. Without a
  Maildir to look in, it is recorded failed for good as ``outcome_unknown`` (staff may retry),
  never sent twice."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from uuid import UUID

import psycopg

from commands import notifications as handle
from commands.context import Clock, CommandContext, system_clock
from commands.email_channel import EmailChannel, build_message
from commands.unsubscribe_tokens import UnsubscribeTokens
from domain.errors import ConcurrencyConflict, DomainError
from domain.notification import commands as cmd
from domain.notification import decide as d
from domain.notification import events as ev
from domain.notification.state import FAILED, QUEUED, SENT, NotificationState, evolve
from eventstore import lock_keys
from eventstore.follower import Follower
from eventstore.privacy import ERASED
from eventstore.store import EventStore, StreamAppend

log = logging.getLogger(__name__)
NAME = "notification_sender"
TOPICS = tuple(cls.stored_name() for cls in ev.NOTIFICATION_EVENTS)


class Outbox:
    """Notifications not yet settled (neither delivered nor failed for good), by id, with the
    version their state was folded to, read from the log in position order."""

    def __init__(self, store: EventStore):
        self.store = store
        self.position = 0
        self.pending: dict[UUID, tuple[int, NotificationState]] = {}
        self._settled: set[UUID] = set()

    def refresh(self, batch: int = 1000) -> None:
        while True:
            events = self.store.read_all(after=self.position, limit=batch, topics=TOPICS)
            for e in events:
                self.position = e.position
                version, state = self.pending.get(e.stream_id, (0, NotificationState()))
                if e.version <= version:
                    continue
                self.fold(e.stream_id, e.version, evolve(state, e.to_domain()))
            if len(events) < batch:
                return

    def fold(self, stream_id: UUID, version: int, state: NotificationState) -> None:
        if state.final:
            self.pending.pop(stream_id, None)
        else:
            self.pending[stream_id] = (version, state)


class NotificationSender(Follower):
    thread_name = NAME
    idle_s = 0.2
    #: Its own records (sent, delivered) wake it too: after a step that sent something, the
    #: next begins a fifth of a second after it began, so what was queued meanwhile goes in
    #: one step (two reads of the log), not one step a message. A step sends every message
    #: queued, in batches, so a backlog is not held back by it.
    pace_s = 0.2

    def __init__(
        self,
        store: EventStore,
        email: EmailChannel,
        sms,  # noqa: ANN001 - commands.sms_channel.HttpSms or SandboxSms
        tokens: UnsubscribeTokens,
        public_url: str,
        *,
        policy: cmd.RetryPolicy | None = None,
        clock: Clock = system_clock,
        url: str | None = None,
        batch: int = 100,
    ):
        super().__init__()
        self.store, self.url, self.email, self.sms, self.tokens = store, url, email, sms, tokens
        self.public_url = public_url.rstrip("/")
        self.policy = policy or cmd.RetryPolicy()
        self.clock = clock
        self.outbox = Outbox(store)
        self.batch = batch
        self._conn: psycopg.Connection | None = None

    def wake_topics(self) -> tuple[str, ...]:
        """Commits of the notifications' own events wake the sender."""
        return TOPICS

    # ---- the lock ------------------------------------------------------------------------

    def _holds_lock(self) -> bool:
        if self._conn is None or self._conn.closed:
            if self.url is None:
                raise RuntimeError("the notification sender needs its database's URL")
            self._conn = psycopg.connect(self.url, autocommit=True)
            got = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (lock_keys.process(NAME),)
            ).fetchone()[0]
            if not got:
                self._release()
                return False
        return True

    def _release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # the lock goes with the session
            self._conn = None

    # ---- the work ------------------------------------------------------------------------

    def step(self) -> int:
        """Settle what a crash cut off and queue again what is due, then send what is queued."""
        if not self._holds_lock():
            return 0
        self.outbox.refresh()
        now = self.clock()
        done = 0
        for nid, (_version, state) in list(self.outbox.pending.items()):
            if self._stop.is_set():
                return done
            if state.status == SENT:
                self.settle(nid)
            elif state.status == FAILED and state.retry_at is not None and state.retry_at <= now:
                handle.requeue(
                    self.store, cmd.RequeueNotification(notification_id=nid), self._ctx()
                )
            else:
                continue
            done += 1
        self.outbox.refresh()
        queued = [n for n, (_v, st) in self.outbox.pending.items() if st.status == QUEUED]
        for start in range(0, len(queued), self.batch):
            if self._stop.is_set():
                return done
            done += self.send_batch(queued[start : start + self.batch])
        return done

    def send_batch(self, ids: list[UUID]) -> int:
        """Claim a batch (its ``NotificationSent`` in one transaction), send each message (one
        SMTP session for the batch's email), record the outcomes in one transaction. A batch
        whose claim conflicts is sent one by one instead."""
        queued = self._load_queued(ids)
        ids = [n for n in ids if n in queued]
        erased = [n for n in ids if queued[n].to == ERASED]
        for nid in erased:
            self._failed(nid, "the recipient was forgotten", permanent=True)
        ids = [n for n in ids if n not in erased]
        if not ids:
            return len(erased)
        ctx = self._ctx()
        claims = []
        for nid in ids:
            version, state = self.outbox.pending[nid]
            c = cmd.RecordNotificationSent(notification_id=nid)
            claims.append((nid, version, d.record_sent(state, c, ctx.now)))
        try:
            self.store.append([StreamAppend(n, v, evs) for n, v, evs in claims], ctx.meta())
        except ConcurrencyConflict:
            for nid in ids:
                self.send(nid)
            return len(ids) + len(erased)
        for nid, version, evs in claims:
            self.outbox.fold(nid, version + 1, evolve(self.outbox.pending[nid][1], evs[0]))
        outcomes = self._send_all([(nid, queued[nid]) for nid in ids])
        ctx = self._ctx()
        appends = []
        for nid, error in outcomes:
            version, state = self.outbox.pending[nid]
            if error is None:
                c = cmd.RecordNotificationDelivered(notification_id=nid)
                evs = d.record_delivered(state, c, ctx.now)
            else:
                f = cmd.RecordNotificationFailed(notification_id=nid, error=error)
                evs = d.record_failed(state, f, ctx.now, self.policy)
            appends.append(StreamAppend(nid, version, evs))
        self.store.append(appends, ctx.meta())
        for a in appends:
            state = self.outbox.pending[a.stream_id][1]
            self.outbox.fold(a.stream_id, a.expected_version + 1, evolve(state, a.events[0]))
        return len(ids) + len(erased)

    def _load_queued(self, ids: list[UUID]) -> dict[UUID, ev.NotificationQueued]:
        loaded = self.store.load_many({n: 0 for n in ids})
        return {n: events[0].to_domain() for n, events in loaded.items() if events}  # type: ignore[misc]

    def _send_all(self, messages) -> list[tuple[UUID, str | None]]:  # noqa: ANN001
        """(id, None) for each message its provider took, (id, error) for the others."""
        out: list[tuple[UUID, str | None]] = []
        with self.email.session() as smtp:
            for nid, q in messages:
                try:
                    if q.channel == "email":
                        smtp.send(self._message(q, self.clock()))
                    else:
                        self.sms.send(q.message_key, q.to, q.text)
                except Exception as exc:  # noqa: BLE001 - any failure of the provider's
                    log.warning("notification %s: send failed: %s", nid, exc)
                    out.append((nid, f"{type(exc).__name__}: {exc}"))
                else:
                    out.append((nid, None))
        return out

    def _ctx(self) -> CommandContext:
        return CommandContext.new(f"process:{NAME}", now=self.clock())

    def _queued(self, nid: UUID) -> ev.NotificationQueued:
        return self.store.load(nid, up_to_version=1)[0].to_domain()  # type: ignore[return-value]

    def send(self, nid: UUID) -> None:
        q = self._queued(nid)
        if q.to == ERASED:
            self._failed(nid, "the recipient was forgotten", permanent=True)
            return
        try:
            handle.record_sent(
                self.store, cmd.RecordNotificationSent(notification_id=nid), self._ctx()
            )
        except DomainError:  # another sender moved it first
            return
        self._deliver(nid, q)

    def _deliver(self, nid: UUID, q: ev.NotificationQueued) -> None:
        try:
            if q.channel == "email":
                self.email.send(self._message(q, self.clock()))
            else:
                self.sms.send(q.message_key, q.to, q.text)
        except Exception as exc:  # noqa: BLE001 - any failure of the provider is this send's
            log.warning("notification %s: send failed: %s", nid, exc)
            self._failed(nid, f"{type(exc).__name__}: {exc}")
            return
        self._delivered(nid, "accepted")

    def settle(self, nid: UUID) -> None:
        """A ``sent`` with no outcome: a send a crash cut off."""
        q = self._queued(nid)
        if q.channel == "sms":
            self._deliver(nid, q)  # the same key: the provider keeps one
        elif self.email.find(q.message_key):
            self._delivered(nid, "found")
        elif self.email.can_find:
            self._failed(nid, "the send was cut off and the message never arrived")
        else:
            self._failed(nid, "outcome_unknown: the send was cut off", permanent=True)

    def _delivered(self, nid: UUID, via: str) -> None:
        c = cmd.RecordNotificationDelivered(notification_id=nid, via=via)
        handle.record_delivered(self.store, c, self._ctx())

    def _failed(self, nid: UUID, error: str, *, permanent: bool = False, claim=False) -> None:
        if claim:
            handle.record_sent(
                self.store, cmd.RecordNotificationSent(notification_id=nid), self._ctx()
            )
        c = cmd.RecordNotificationFailed(notification_id=nid, error=error, permanent=permanent)
        handle.record_failed(self.store, c, self._ctx(), self.policy)

    def _message(self, q: ev.NotificationQueued, now: datetime):  # noqa: ANN202
        token = self.tokens.token(q.customer_id, "email")
        return build_message(
            sender=self.email.sender,
            to=q.to,
            subject=q.subject,
            text=q.text,
            html=q.html,
            message_id=q.message_key,
            unsubscribe_url=f"{self.public_url}/api/v1/unsubscribe/{token}",
            now=now,
        )

    # ---- background ----------------------------------------------------------------------

    def start(self, listen_url: str | None = None, *, idle_s: float | None = None) -> None:
        self.url = listen_url or self.url  # the database: the lock's session, and NOTIFY
        super().start(self.url, idle_s=idle_s)

    def stop(self) -> None:
        super().stop()
        self._release()

    def quiet_wait_s(self) -> float:
        """Messages waiting to be settled or retried are looked at every ``idle_s``."""
        return self.idle_s if self.outbox.pending else self.quiet_s

    def run_until_idle(self, timeout_s: float = 30.0) -> None:
        """Steps until nothing is left to do now (tests, the benchmark)."""
        deadline = time.monotonic() + timeout_s
        while self.step():
            if time.monotonic() > deadline:
                raise TimeoutError("the notification sender did not settle")
