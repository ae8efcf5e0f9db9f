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
from commands.notification_recipients import contact_of, recipients
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


def _first(store: EventStore, stream_id: UUID) -> dict | None:
    events = store.load(stream_id, up_to_version=1)
    return events[0].data if events else None


class NotificationQueuer(ProcessManager):
    name = "notifications"
    topics = tuple(TEMPLATE_OF)

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
        for command in self.commands(trigger):
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
        for trigger in triggers:
            meta = trigger.context("queue", now=now).meta()
            for command in self.commands(trigger):
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
                self.handle(trigger)

    def commands(self, trigger: Trigger) -> list[QueueNotification]:
        """The messages an event calls for: one per channel its customer is told by."""
        e = trigger.event
        if e.type == "shipment.DeliveryAttemptRecorded" and e.data.get("outcome") in _NOT_FAILED:
            return []
        context = empty_context()
        order_id = self._order_of(e.type, e.stream_id, e.data, context)
        placed = _first(self.store, order_id) if order_id else None
        if placed is None:
            return []
        if placed.get("parent_order_id") and not placed.get("contact_email"):
            parent = _first(self.store, UUID(placed["parent_order_id"])) or {}
            placed = {**placed, "contact_email": parent.get("contact_email")}
        customer_id = UUID(placed["customer_id"])
        contact = contact_of(self.store, customer_id)
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
        subject_src, body_src = self._template(template)
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

    def _template(self, name: str) -> tuple[str, str]:
        state = load_states(self.store, TEMPLATE, [template_stream(name)])[template_stream(name)]
        if state.state.changed:
            return state.state.subject, state.state.body
        return DEFAULTS[name]

    def _order_of(self, kind: str, stream_id: UUID, data: dict, context: dict) -> UUID | None:
        """The order the event is about, filling in the context's event-specific parts."""
        if kind.startswith("order."):
            context["reason"] = data.get("reason")
            return stream_id
        if kind.startswith("shipment."):
            created = _first(self.store, stream_id) or {}
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
        payment: dict[str, Any] = _first(self.store, stream_id) or {}
        context["refund"] = {
            "amount": data.get("amount"),
            "currency": payment.get("currency"),
            "reason": data.get("reason"),
        }
        order = data.get("order_id") or payment.get("order_id")
        return UUID(order) if order else None
