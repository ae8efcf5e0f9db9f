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
from domain.errors import DomainError
from domain.notification import commands as cmd
from domain.notification import events as ev
from domain.notification.state import FAILED, QUEUED, SENT, NotificationState, evolve
from eventstore import lock_keys
from eventstore.follower import Follower
from eventstore.privacy import ERASED
from eventstore.store import EventStore

log = logging.getLogger(__name__)
NAME = "notification_sender"
TOPICS = tuple(cls.stored_name() for cls in ev.NOTIFICATION_EVENTS)


class Outbox:
    """Notifications not yet settled (neither delivered nor failed for good), by id, folded
    from the log in position order."""

    def __init__(self, store: EventStore):
        self.store = store
        self.position = 0
        self.pending: dict[UUID, NotificationState] = {}

    def refresh(self, batch: int = 1000) -> None:
        while True:
            events = self.store.read_all(after=self.position, limit=batch, topics=TOPICS)
            for e in events:
                state = evolve(self.pending.get(e.stream_id, NotificationState()), e.to_domain())
                if state.final:
                    self.pending.pop(e.stream_id, None)
                else:
                    self.pending[e.stream_id] = state
                self.position = e.position
            if len(events) < batch:
                return


class NotificationSender(Follower):
    thread_name = NAME
    idle_s = 0.2

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
    ):
        super().__init__()
        self.store, self.url, self.email, self.sms, self.tokens = store, url, email, sms, tokens
        self.public_url = public_url.rstrip("/")
        self.policy = policy or cmd.RetryPolicy()
        self.clock = clock
        self.outbox = Outbox(store)
        self._conn: psycopg.Connection | None = None

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
        if not self._holds_lock():
            return 0
        self.outbox.refresh()
        done = 0
        for nid, state in list(self.outbox.pending.items()):
            if self._stop.is_set():
                break
            now = self.clock()
            if state.status == QUEUED:
                self.send(nid)
            elif state.status == SENT:
                self.settle(nid)
            elif state.status == FAILED and state.retry_at is not None and state.retry_at <= now:
                handle.requeue(
                    self.store, cmd.RequeueNotification(notification_id=nid), self._ctx()
                )
            else:
                continue
            done += 1
        return done

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

    def run_until_idle(self, timeout_s: float = 30.0) -> None:
        """Steps until nothing is left to do now (tests, the benchmark)."""
        deadline = time.monotonic() + timeout_s
        while self.step():
            if time.monotonic() > deadline:
                raise TimeoutError("the notification sender did not settle")
