"""``WriteSide``: what every command handler decides with, built once by the composition root
(``composition/bootstrap.py``) and shared by the dispatcher and the process managers.

It holds the event store, the payment gateway (only process managers call it: no request
waits on a payment provider), the pricing policies a placement totals an order with, the key
ring that forgets a customer (None where none is configured) and the write side's caches,
each folded from event streams and owned here rather than by a module: the locations
directory, product states by stream version and SKU owners. A cache is an optimisation of a
stream read, never a read model."""

from __future__ import annotations

from dataclasses import dataclass

from commands.location_directory import LocationDirectory
from commands.payment_gateway import PaymentGateway
from domain.pricing_policy import OrderPricing
from eventstore.privacy import KeyRing
from eventstore.store import EventStore


@dataclass(frozen=True, slots=True)
class WriteSide:
    store: EventStore
    gateway: PaymentGateway
    locations: LocationDirectory
    pricing: OrderPricing = OrderPricing()
    keyring: KeyRing | None = None
