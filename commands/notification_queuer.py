"""The notification manager: the order's life told to its customer.

It follows the events a customer hears about (an order confirmed or cancelled, a parcel
dispatched, a delivery attempt that failed, a parcel delivered, a refund paid) and queues, for
each channel the customer is told by (``commands/notification_recipients.py``, the write side),
one message rendered from the template named after the event (``domain/notification/templates``;
a staff-changed one from its stream, else the default).

**At most one message per (source event, channel)**, whatever replays it: the notification's
stream id is derived from the source event's id and the channel
(``domain.notification.ids.notification_stream``) and the queuing is appended at version 0, so a
replay after a crash, a reset of this manager's position or a second runner finds the stream
(nothing written) or conflicts on it (decided again: nothing written). The messages are sent
by ``commands/notification_sender.py``, never here."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from commands.context import Clock, event_id, system_clock
from commands.notification_recipients import CONTACT, Contact, recipients
from commands.notifications import queue
from commands.process_manager import ProcessManager, Trigger
from commands.stream_states import load_states
from commands.unsubscribe_tokens import UnsubscribeTokens
from domain.errors import ConcurrencyConflict, DomainError
from domain.notification.commands import QueueNotification
from domain.notification.decide import queue as decide_queue
from domain.notification.ids import message_key, notification_stream, template_stream
from domain.notification.state import TEMPLATE, NotificationState
from domain.notification.templates import DEFAULTS, empty_context, render, render_html
from eventstore.recorded import RecordedEvent
from eventstore.store import EventStore, StreamAppend

log = logging.getLogger(__name__)

#: Stored event name → the template (and kind of news) it is told with.
TEMPLATE_OF = {
    "order.OrderConfirmed": "order_confirmed",
    "order.OrderCancelled": "order_cancelled",
    "shipment.ShipmentDispatched": "shipment_dispatched",
    "shipment.DeliveryAttemptRecorded": "delivery_failed",
    "shipment.ShipmentDelivered": "order_delivered",
    "payment.RefundSucceeded": "order_refunded",
}
#: Attempt outcomes that are not a failure to tell about.
_NOT_FAILED = ("successful", "rescheduled")


def _untold(e: RecordedEvent) -> bool:
    """A delivery attempt that did not fail: nothing to tell."""
    return e.type == "shipment.DeliveryAttemptRecorded" and e.data.get("outcome") in _NOT_FAILED


def _first(store: EventStore, stream_id: UUID) -> dict | None:
    events = store.load(stream_id, up_to_version=1)
    return events[0].data if events else None


class _Reads:
    """What rendering a batch's messages reads from the log: streams' first events, customers'
    contacts and templates, each kept for the batch. ``handle_batch`` fills them for the whole
    batch in a few queries; what was not filled in is read when asked for (``handle``)."""

    def __init__(self, store: EventStore):
        self.store = store
        self.firsts: dict[UUID, dict | None] = {}
        self.contacts: dict[UUID, Contact] = {}
        self.templates: dict[str, tuple[str, str]] = {}

    def first(self, stream_id: UUID) -> dict | None:
        if stream_id not in self.firsts:
            self.firsts[stream_id] = _first(self.store, stream_id)
        return self.firsts[stream_id]

    def fetch_firsts(self, stream_ids: set[UUID]) -> None:
        """Each stream's first event (version 1 or lower), all in one query."""
        with self.store.datastore.get_connection() as conn:
            rows = conn.execute(
                f"SELECT e.originator_id, e.originator_version, e.topic, e.state "
                f"FROM unnest(%s::uuid[]) AS c(id) CROSS JOIN LATERAL "
                f"(SELECT originator_id, originator_version, topic, state "
                f"FROM {self.store.table} s WHERE s.originator_id = c.id "
                "AND s.originator_version <= 1 ORDER BY s.originator_version LIMIT 1) e",
                (list(stream_ids),),
            ).fetchall()
        decoded = self.store.mapper.to_recorded_many(
            [
                (None, r["originator_id"], r["originator_version"], r["topic"], r["state"])
                for r in rows
            ]
        )
        self.firsts.update(dict.fromkeys(stream_ids))
        self.firsts.update((e.stream_id, e.data) for e in decoded)

    def contact(self, customer_id: UUID) -> Contact:
        if customer_id not in self.contacts:
            self.fetch_contacts({customer_id})
        return self.contacts[customer_id]

    def fetch_contacts(self, customer_ids: set[UUID]) -> None:
        loaded = load_states(self.store, CONTACT, customer_ids)
        self.contacts.update((cid, loaded[cid].state) for cid in customer_ids)

    def template(self, name: str) -> tuple[str, str]:
        if name not in self.templates:
            self.fetch_templates({name})
        return self.templates[name]

    def fetch_templates(self, names: set[str]) -> None:
        streams = {name: template_stream(name) for name in names}
        loaded = load_states(self.store, TEMPLATE, streams.values())
        for name, stream in streams.items():
            state = loaded[stream].state
            self.templates[name] = (state.subject, state.body) if state.changed else DEFAULTS[name]


class NotificationQueuer(ProcessManager):
    name = "notifications"
    topics = tuple(TEMPLATE_OF)
    #: Messages queued a fifth of a second later, in fewer passes (``ProcessManager``).
    pace_s = 0.2

    def __init__(
        self,
        store: EventStore,
        tokens: UnsubscribeTokens,
        public_url: str,
        clock: Clock = system_clock,
    ):
        self.store, self.tokens, self.clock = store, tokens, clock
        self.public_url = public_url.rstrip("/")

    def handle(self, trigger: Trigger) -> None:
        """One event's messages, each queued on its own (a stream found is left as it is)."""
        self._queue(trigger, _Reads(self.store))

    def _queue(self, trigger: Trigger, reads: _Reads) -> None:
        for command in self.commands(trigger, reads):
            try:
                ctx = trigger.context(f"notify:{command.channel}", now=self.clock())
                queue(self.store, command, ctx)
            except DomainError as exc:  # an address the rules refuse: nothing to send to
                log.warning("notification %s not queued: %s", command.notification_id, exc)

    def handle_batch(self, triggers: list[Trigger]) -> None:
        """A batch's messages queued in one transaction, each stream at version 0; when any
        exists already (a replay) the batch is handled event by event instead."""
        now = self.clock()
        appends = []
        reads = self.prefetched(triggers)
        for trigger in triggers:
            meta = trigger.context("queue", now=now).meta()
            for command in self.commands(trigger, reads):
                try:
                    events = decide_queue(NotificationState(), command, now)
                except DomainError as exc:
                    log.warning("notification %s not queued: %s", command.notification_id, exc)
                    continue
                appends.append(StreamAppend(command.notification_id, 0, events, metas=[meta]))
        if not appends:
            return
        try:
            self.store.append(appends, appends[0].metas[0])
        except ConcurrencyConflict:
            for trigger in triggers:
                self._queue(trigger, reads)

    def prefetched(self, triggers: list[Trigger]) -> _Reads:
        """The first events, contacts and templates a batch's messages read, in one query
        each (a second or third for the first events only when a payment names its order in
        its own first event, or an order is a split child without a contact email)."""
        reads = _Reads(self.store)
        for _ in range(3):
            wanted = self._firsts_wanted(triggers, reads.firsts) - reads.firsts.keys()
            if not wanted:
                break
            reads.fetch_firsts(wanted)
        customers = {
            UUID(placed["customer_id"])
            for t in triggers
            if not _untold(t.event)
            and (order_id := self._order_id(t.event, reads.firsts)) is not None
            and (placed := reads.firsts.get(order_id)) is not None
        }
        if customers:
            reads.fetch_contacts(customers)
        reads.fetch_templates({TEMPLATE_OF[t.event.type] for t in triggers})
        return reads

    @staticmethod
    def _order_id(e: RecordedEvent, firsts: dict[UUID, dict | None]) -> UUID | None:
        """The order an event is about, as far as ``firsts`` tells (None when not yet)."""
        if e.type.startswith("order."):
            return e.stream_id
        order = e.data.get("order_id")
        if not order and e.type.startswith("payment."):
            order = (firsts.get(e.stream_id) or {}).get("order_id")
        return UUID(order) if order else None

    def _firsts_wanted(self, triggers: list[Trigger], firsts: dict[UUID, dict | None]) -> set:
        """The streams whose first event the batch reads, as far as ``firsts`` tells."""
        wanted: set[UUID] = set()
        for t in triggers:
            e = t.event
            if _untold(e):
                continue
            if not e.type.startswith("order."):
                wanted.add(e.stream_id)
            order_id = self._order_id(e, firsts)
            if order_id is None:
                continue
            wanted.add(order_id)
            placed = firsts.get(order_id)
            if placed and placed.get("parent_order_id") and not placed.get("contact_email"):
                wanted.add(UUID(placed["parent_order_id"]))
        return wanted

    def commands(self, trigger: Trigger, reads: _Reads | None = None) -> list[QueueNotification]:
        """The messages an event calls for: one per channel its customer is told by."""
        reads = reads or _Reads(self.store)
        e = trigger.event
        if _untold(e):
            return []
        context = empty_context()
        order_id = self._order_of(e.type, e.stream_id, e.data, context, reads)
        placed = reads.first(order_id) if order_id else None
        if placed is None:
            return []
        if placed.get("parent_order_id") and not placed.get("contact_email"):
            parent = reads.first(UUID(placed["parent_order_id"])) or {}
            placed = {**placed, "contact_email": parent.get("contact_email")}
        customer_id = UUID(placed["customer_id"])
        contact = reads.contact(customer_id)
        context["order"] = {
            "id": str(order_id),
            "number": placed.get("order_number"),
            "total": (placed.get("total") or {}).get("amount"),
            "currency": placed.get("currency"),
        }
        context["customer"] = {"name": contact.name or ""}
        context["unsubscribe_url"] = (
            f"{self.public_url}/api/v1/unsubscribe/{self.tokens.token(customer_id, 'email')}"
        )
        template = TEMPLATE_OF[e.type]
        subject_src, body_src = reads.template(template)
        out = []
        for channel, to in recipients(contact, placed.get("contact_email")):
            try:
                subject = " ".join(render(subject_src, context).split())
                text = render(body_src, context) if channel == "email" else subject
                html = render_html(body_src, context) if channel == "email" else None
            except Exception:  # noqa: BLE001 - a stored template checked against the sample
                log.exception("template %s did not render; the default is used", template)
                subject_src, body_src = DEFAULTS[template]
                subject = " ".join(render(subject_src, context).split())
                text = render(body_src, context) if channel == "email" else subject
                html = render_html(body_src, context) if channel == "email" else None
            source = event_id(e.stream_id, e.version)
            nid = notification_stream(source, channel)
            command = QueueNotification(
                notification_id=nid,
                channel=channel,
                template=template,
                to=to,
                subject=subject,
                text=text,
                html=html,
                customer_id=customer_id,
                order_id=order_id,
                source_event_id=source,
                source_position=e.position,
                message_key=message_key(nid),
            )
            out.append(command)
        return out

    def _order_of(
        self, kind: str, stream_id: UUID, data: dict, context: dict, reads: _Reads
    ) -> UUID | None:
        """The order the event is about, filling in the context's event-specific parts."""
        if kind.startswith("order."):
            context["reason"] = data.get("reason")
            return stream_id
        if kind.startswith("shipment."):
            created = reads.first(stream_id) or {}
            context["shipment"] = {
                "id": str(stream_id),
                "number": created.get("number"),
                "carrier": created.get("carrier"),
                "tracking_number": created.get("tracking_number"),
            }
            if kind == "shipment.DeliveryAttemptRecorded":
                context["attempt"] = {
                    "number": data.get("attempt"),
                    "outcome": data.get("outcome"),
                    "failure_reason": data.get("failure_reason"),
                }
            return UUID(data["order_id"]) if data.get("order_id") else None
        payment: dict[str, Any] = reads.first(stream_id) or {}
        context["refund"] = {
            "amount": data.get("amount"),
            "currency": payment.get("currency"),
            "reason": data.get("reason"),
        }
        order = data.get("order_id") or payment.get("order_id")
        return UUID(order) if order else None
