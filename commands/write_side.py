"""``WriteSide``: what every command handler decides with, built once by the composition root
(``composition/bootstrap.py``) and shared by the dispatcher and the process managers.

It holds the event store, the payment gateway (only process managers call it: no request
waits on a payment provider), the write side's caches, each folded from event streams and
owned here rather than by a module: the locations directory, product states by stream version,
SKU owners and promotions (a cache is an optimisation of a stream read, never a read model),
the active pricing rules (``commands/price_rules.py``; it and the promotions are refreshed by
one read, ``commands/directory_feed.py``); the pricing policies a placement
totals an order with, and the key ring that forgets a customer (None where none is
configured); how far ahead of our clock a reported time may lie (``clock_skew``,
``domain.reported_time``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from commands.directory_feed import feed_together
from commands.location_directory import LocationDirectory
from commands.payment_gateway import PaymentGateway
from commands.price_rules import PriceRules
from commands.product_states import ProductStates
from commands.promotion_directory import PromotionDirectory
from commands.sku_lookup import SkuOwners
from commands.stream_states import StateCache
from domain.pricing_policy import OrderPricing
from domain.reported_time import CLOCK_SKEW
from eventstore.privacy import KeyRing
from eventstore.store import EventStore


@dataclass(frozen=True, slots=True)
class WriteSide:
    store: EventStore
    gateway: PaymentGateway
    locations: LocationDirectory
    #: Folded product states by stream version (pricing order lines).
    products: ProductStates
    #: The owners of claimed SKUs.
    skus: SkuOwners
    pricing: OrderPricing = OrderPricing()
    keyring: KeyRing | None = None
    clock_skew: timedelta = CLOCK_SKEW
    #: Customers' standing (registered, status, segment; no personal data) by stream version.
    customers: StateCache = field(default_factory=lambda: StateCache(size=50_000))
    #: The active pricing rules (what an order line pays: ``commands/prices.py``).
    price_rules: PriceRules | None = None
    #: The promotions, folded from their streams (a placement's discounts).
    promotions: PromotionDirectory | None = None
    #: Merchants' status and commission by stream version (``commands/merchant_facts.py``).
    merchants: StateCache = field(default_factory=lambda: StateCache(size=20_000))

    def __post_init__(self) -> None:
        if self.price_rules is None:  # a write side built field by field gets its own
            object.__setattr__(self, "price_rules", PriceRules(self.store))
        if self.promotions is not None and self.price_rules.feed is not self.promotions.feed:
            # One read of the store refreshes both for a placement (it asks both).
            feed_together(self.store, self.price_rules, self.promotions)

    @classmethod
    def over(
        cls,
        store: EventStore,
        gateway: PaymentGateway,
        *,
        pricing: OrderPricing = OrderPricing(),
        keyring: KeyRing | None = None,
        clock_skew: timedelta = CLOCK_SKEW,
    ) -> WriteSide:
        """A write side over ``store`` with fresh caches (the composition root's, and a test's
        for a bare store)."""
        return cls(
            store=store,
            gateway=gateway,
            locations=LocationDirectory(store),
            products=ProductStates(store),
            skus=SkuOwners(store),
            pricing=pricing,
            keyring=keyring,
            clock_skew=clock_skew,
            price_rules=PriceRules(store),
            promotions=PromotionDirectory(store),
        )
