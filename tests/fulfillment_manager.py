"""The fulfillment process manager run in the test's own process: what the requests recorded
(dispatches, deliveries, approved cancellations, splits) is carried out as the running
program's manager would, one event at a time, in log order."""

from __future__ import annotations

from commands.fulfillment_saga import FulfillmentSaga
from commands.payment_gateway import PaymentGateway
from commands.process_manager import Trigger
from commands.write_side import WriteSide
from eventstore.store import EventStore


def carry_out(store: EventStore, gateway: PaymentGateway, after: int) -> int:
    """Handle the manager's events after position ``after``; return the head afterwards."""
    saga = FulfillmentSaga(WriteSide.over(store, gateway))
    while True:
        events = store.read_all(after=after, limit=500, topics=saga.topics)
        if not events:
            return store.head()
        for e in events:
            saga.handle(Trigger(saga.name, e))
            after = e.position
