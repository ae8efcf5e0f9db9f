"""The composition root: the one place that builds the store, pools, projections and handlers
from settings, and closes them. The API's lifespan, the CLI and the tests all call ``build``.

``build`` builds from a list of capabilities (``composition/capabilities.py``), by default
``CAPABILITIES``: ``CORE`` (the catalog, inventory, orders and the rest) and any added there; a
test may pass its own list (``tests/template/wishlist``, the worked example, is added so)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from psycopg_pool import ConnectionPool

import migrations
from audit.chainer import EventChainer
from audit.checkpoint import audit_key_path, load_or_create_key, mac_key_of
from audit.tree_store import TreeStore
from commands.context import Clock, system_clock
from commands.customer_facts import customer_facts_of
from commands.dispatcher import HANDLERS, Dispatcher
from commands.fulfillment_saga import FulfillmentSaga
from commands.line_edit_manager import LineEditManager
from commands.location_directory import LocationDirectory
from commands.payment_gateway import PaymentGateway, PostgresAnswers, SandboxGateway
from commands.payments import RetryPolicy
from commands.placement_saga import OrderPlacementSaga, SagaSettings
from commands.process_manager import ProcessRunner
from commands.returns_manager import ReturnsManager
from commands.write_side import WriteSide
from composition.bundles import BUNDLES
from composition.capabilities import Capability, Wiring, combine
from composition.chat import CHAT
from composition.customers import CUSTOMERS
from composition.merchants import MERCHANTS
from composition.notifications import NOTIFICATIONS
from composition.pricing import PRICING
from composition.promotions import PROMOTIONS
from composition.recommendations import RECOMMENDATIONS
from composition.reviews import REVIEWS
from composition.search import SEARCH
from composition.settings import Settings
from composition.supply import SUPPLY
from composition.support import SUPPORT
from composition.webhooks import WEBHOOKS
from domain.category.events import CATEGORY_EVENTS
from domain.fulfillment.events import PLAN_EVENTS
from domain.inventory.events import INVENTORY_EVENTS
from domain.location.events import LOCATION_EVENTS
from domain.order.events import ORDER_EVENTS, CancellationRequestFiled
from domain.payment.events import PAYMENT_EVENTS
from domain.pricing_policy import FlatRateShipping, FlatRateTax, OrderPricing
from domain.product.events import PRODUCT_EVENTS
from domain.product.sku import SKU_EVENTS
from domain.returns.events import RETURN_EVENTS
from domain.shipment.events import SHIPMENT_EVENTS
from eventstore.database import make_datastore, make_pool, resolve_database_url
from eventstore.follower import RetryPolicy as FollowerRetry
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.parking import ParkingLot
from eventstore.privacy import KeyRing
from eventstore.read_access import set_login_password
from eventstore.recorder import EcomRecorder
from eventstore.store import EventStore
from projections.registry import all_projections
from projections.runner import ProjectionRunner

ALL_EVENTS = (
    *PRODUCT_EVENTS,
    *CATEGORY_EVENTS,
    *SKU_EVENTS,
    *LOCATION_EVENTS,
    *INVENTORY_EVENTS,
    *ORDER_EVENTS,
    *PAYMENT_EVENTS,
    *PLAN_EVENTS,
    *SHIPMENT_EVENTS,
    *RETURN_EVENTS,
    CancellationRequestFiled,
)


def core_process_managers(w: Wiring) -> list:
    """The placement saga, the fulfillment saga, the line-edit manager and the returns manager."""
    placement = OrderPlacementSaga(
        w.store,
        w.pool,
        w.write.gateway,
        SagaSettings(
            reservation_ttl=timedelta(seconds=w.settings.reservation_ttl_s),
            payment_retry=RetryPolicy(timeout_s=w.settings.payment_timeout_s),
        ),
        locations=w.write.locations,
        clock=w.clock,
        customers=partial(customer_facts_of, w.write),
    )
    line_edits = LineEditManager(
        w.write,
        retry=RetryPolicy(timeout_s=w.settings.payment_timeout_s),
        clock=w.clock,
    )
    returns = ReturnsManager(w.write, RetryPolicy(timeout_s=w.settings.payment_timeout_s), w.clock)
    return [placement, FulfillmentSaga(w.write, w.clock), line_edits, returns]


#: Everything the program had before capabilities; its routes are ``api/app.py``'s and its
#: rules ``api/authorization.py``'s ``RULES``.
CORE = Capability(
    name="core",
    events=ALL_EVENTS,
    handlers=HANDLERS,
    projections=all_projections,
    process_managers=core_process_managers,
)

#: The program's capabilities: what ``build``, the server (``composition.asgi``) and every
#: ``ecom`` command run. A new capability is one more entry here.
CAPABILITIES: tuple[Capability, ...] = (
    CORE,
    CUSTOMERS,
    PRICING,
    BUNDLES,
    PROMOTIONS,
    SUPPORT,
    CHAT,
    MERCHANTS,
    WEBHOOKS,
    REVIEWS,
    RECOMMENDATIONS,
    NOTIFICATIONS,
    SUPPLY,
    SEARCH,
)


@dataclass
class Container:
    settings: Settings
    url: str
    store: EventStore
    pool: ConnectionPool
    runner: ProjectionRunner
    gateway: PaymentGateway
    processes: ProcessRunner
    #: The write side's locations (code → priority, active), from the Location streams.
    locations: LocationDirectory
    parking: ParkingLot  # events the followers of the log parked (eventstore/parking.py)
    #: Every command goes through it (``commands/dispatcher.py``), against the write side.
    dispatcher: Dispatcher
    chainer: EventChainer | None = None  # extends the audit hash chain
    keyring: KeyRing | None = None  # per-customer keys for personal data
    clock: Clock = system_clock  # what the process managers stamp their decisions with
    tree: TreeStore | None = None  # the Merkle tree over the log: signed heads and proofs
    #: The capabilities' background services (``start``/``stop``), run with the processes.
    services: list = field(default_factory=list)

    def migrate(self) -> list[str]:
        def after_sql() -> None:  # still under the migration lock
            self.runner.ensure_schemas()
            if self.settings.analyst_password:
                with self.pool.connection() as conn:
                    set_login_password(conn, self.settings.analyst_password)

        return migrations.apply(self.url, self.store.recorder.create_table, after_sql)

    def start_background(self) -> None:
        """Read models and process managers, in threads of this process."""
        if self.settings.run_projections:
            self.runner.start(self.url)
            if self.chainer is not None:
                self.chainer.start(self.url)
        if self.settings.run_processes:
            self.processes.start(self.url)
            for service in self.services:
                service.start()

    def close(self) -> None:
        for service in self.services:
            service.stop()
        self.processes.stop()
        self.runner.stop()
        if self.chainer is not None:
            self.chainer.stop()
        self.pool.close()
        self.store.committer.close()  # the group committer's own connections
        self.store.datastore.close()


def build(
    settings: Settings | None = None,
    *,
    url: str | None = None,
    clock: Clock = system_clock,
    capabilities: Sequence[Capability] = CAPABILITIES,
) -> Container:
    settings = settings or Settings.from_env()
    parts = combine(capabilities)
    url = url or resolve_database_url(settings.database_url, settings.data_dir)
    datastore = make_datastore(
        url, pool_size=settings.pool_size, lock_timeout_s=settings.lock_timeout_s
    )
    recorder = EcomRecorder(datastore)
    pool = make_pool(url, max_size=settings.pool_size * 2)
    keyring = KeyRing(pool)
    mapper = EventMapper(EventRegistry(parts.events), keyring)
    store = EventStore(recorder, mapper)
    parking = ParkingLot(pool.connection)
    retry = FollowerRetry(
        attempts=max(1, settings.follower_attempts), backoff_s=settings.follower_backoff_s
    )
    runner = ProjectionRunner(
        pool,
        mapper,
        parts.projections(),
        batch_size=settings.projection_batch,
        parking=parking,
        retry=retry,
    )
    gateway = SandboxGateway(slow_delay_s=settings.payment_timeout_s, memory=PostgresAnswers(pool))
    pricing = OrderPricing(
        tax=FlatRateTax(settings.tax_rate),
        shipping=FlatRateShipping(settings.shipping_flat, settings.free_shipping_over),
    )
    # the write side's caches: one each per process
    write = WriteSide.over(
        store,
        gateway,
        pricing=pricing,
        keyring=keyring,
        clock_skew=timedelta(seconds=settings.clock_skew_s),
    )
    locations = write.locations
    wiring = Wiring(settings, store, pool, write, clock, url)
    managers = parts.process_managers(wiring)
    audit_key = load_or_create_key(audit_key_path(settings.data_dir))
    tree = TreeStore(pool, audit_key)
    return Container(
        settings=settings,
        url=url,
        store=store,
        pool=pool,
        runner=runner,
        gateway=gateway,
        locations=locations,
        dispatcher=Dispatcher(write, parts.handlers),
        chainer=EventChainer(pool, mac_key=mac_key_of(audit_key), tree=tree),
        tree=tree,
        keyring=keyring,
        clock=clock,
        processes=ProcessRunner(store, managers, parking=parking, retry=retry),
        parking=parking,
        services=parts.services(wiring),
    )
