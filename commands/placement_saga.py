"""The order placement saga: ``OrderPlaced`` → allocate → reserve (with a time limit) →
authorize payment → confirm reservations → ``OrderConfirmed`` and one fulfillment plan per
location.

Compensations: a customer blocked since placing → cancel ``customer_invalid``
with nothing held; no stock → cancel ``out_of_stock`` with nothing held; a limited promotion
with no use left → cancel ``promotion_exhausted`` with nothing held (``commands/redemptions.py``,
whose claims commit with the holds); payment declined or timed
out → release every reservation, cancel ``payment_declined``; a reservation expired before
confirmation → re-reserve once, else release, void, cancel ``reservation_expired``; the time
limit reached before the gateway answered → the holds expire, an authorization
that came late is voided, cancel ``reservation_expired``; an order whose step keeps failing
and is parked (``on_parked``) → release, void, cancel ``processing_failed``.

A bundle's line needs each of its components (``domain.bundle.needs``): they are allocated and
reserved with the other lines, all or none, each under its own reservation.

The saga handles a batch of orders at once, in three phases:

1. **reserve** — the batch's orders, stock and locations are read in a few queries; each order
   is allocated against the stock the orders before it left, and every reservation (or
   ``out_of_stock`` cancellation) of the batch is written in one transaction;
2. **authorize** — the gateway is asked for every reserved order, each under a key made of
   the triggering event's position, so a repeat never charges twice: in one call for those it
   answers at once (the sandbox's ``authorize_at_once``), the others concurrently;
3. **decide** — the answers are recorded, reservations confirmed, orders confirmed with their
   plans, or compensated, again in one transaction.

Each event keeps the triggering ``OrderPlaced``'s correlation id (the placing request's) and
names that event as its causation (``commands.context.event_id``). A conflict with another
writer re-decides the phase on fresh state. After a crash the batch is replayed: confirmed or
cancelled orders are skipped and an order's active holds are resumed instead of reserved
again, so nothing is written twice.

Time: each phase reads the saga's clock once, when it decides, and stamps what it decides with
it (never with the ``OrderPlaced``'s time). A hold is made then and its time limit runs from
then; whether a hold ran out is judged when the gateway's answers are in.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid5

from psycopg_pool import ConnectionPool

from commands import payments, redemptions
from commands.context import Clock, CommandContext, system_clock
from commands.customer_facts import GUEST, CustomerFacts
from commands.executor import RETRY_BUDGET_S
from commands.fulfillment import plans_for
from commands.location_directory import LocationDirectory
from commands.payment_gateway import AuthorizationRequest, PaymentGateway
from commands.process_manager import ProcessManager, Trigger
from commands.unit_of_work import Load, StateCache, UnitOfWork
from domain.allocation import Allocation, LineNeed, allocate
from domain.bundle.needs import bundle_line_ids, stock_needs
from domain.errors import ConcurrencyConflict, Conflict, DomainError
from domain.fulfillment import decide as plan_decide
from domain.fulfillment.state import PLAN
from domain.ids import inventory_stream, payment_stream, plan_stream
from domain.inventory import reservations as rsv
from domain.inventory.commands import ConfirmReservation, ReleaseReservation, ReserveStock
from domain.inventory.state import INVENTORY
from domain.order import decide as order_decide
from domain.order.commands import CancelOrder, ConfirmOrder
from domain.order.state import ORDER
from domain.payment import decide as pay_decide
from domain.payment.commands import AuthorizePayment, VoidAuthorization
from domain.payment.state import PAYMENT
from eventstore.recorded import EventMeta, RecordedEvent
from eventstore.store import EventStore

alerts = logging.getLogger("ecom.alerts")
#: The cancellation reason of an order whose step was parked (``on_parked``).
PROCESSING_FAILED = "processing_failed"
#: The cancellation reason of an order whose customer may no longer order (the saga's first
#: check: a customer blocked since placing).
CUSTOMER_INVALID = "customer_invalid"
#: The customers' facts, many at once (``commands.customer_facts.customer_facts_of``).
CustomerLookup = Callable[[Iterable[UUID]], Mapping[UUID, CustomerFacts]]


@dataclass(frozen=True)
class SagaSettings:
    reservation_ttl: timedelta = timedelta(hours=2)
    payment_retry: payments.RetryPolicy = payments.RetryPolicy()
    gateway_concurrency: int = 32


@dataclass
class _Order:
    """One order's way through a batch."""

    trigger: Trigger
    order_id: UUID
    data: dict
    lines: list[LineNeed]
    #: The bundles' lines: each component is held under its own reservation.
    bundle_lines: frozenset[str] = frozenset()
    held: list[tuple[Allocation, UUID]] = field(default_factory=list)
    answer: payments.AuthorizationAnswer | None = None
    #: The key the gateway is asked under (made of the trigger and the step, not the time).
    gateway_key: str = ""

    def context(self, step: str, now: datetime) -> CommandContext:
        return self.trigger.context(step, now=now)

    def meta(self, step: str, now: datetime) -> EventMeta:
        return self.context(step, now).meta()


class OrderPlacementSaga(ProcessManager):
    name = "order_placement"
    topics = ("order.OrderPlaced",)

    def __init__(
        self,
        store: EventStore,
        pool: ConnectionPool,
        gateway: PaymentGateway,
        settings: SagaSettings = SagaSettings(),
        locations: LocationDirectory | None = None,
        clock: Clock = system_clock,
        customers: CustomerLookup | None = None,
    ):
        self.store, self.pool, self.gateway, self.settings = store, pool, gateway, settings
        self.customers = customers  # None: every customer may order (tests of bare stores)
        self.locations = locations or LocationDirectory(store)  # the container passes its own
        self.clock = clock
        #: The hot SKUs (each holds its reservations), the returning customers' ledgers and
        #: the orders in flight (each placed order is put here as its state at version 1);
        #: a ledger dropped from it is read from its latest snapshot (at most 100 events)
        self.cache = StateCache(size=5_000)
        #: Asks the gateway, concurrently, for the orders of a batch it does not answer at
        #: once; its threads are kept between batches (they end when the saga is gone).
        self._asking = ThreadPoolExecutor(settings.gateway_concurrency, "gateway")

    def handle(self, trigger: Trigger) -> None:
        self.handle_batch([trigger])

    def handle_batch(self, triggers: list[Trigger]) -> None:
        seen: set[UUID] = set()
        batch = []
        for t in triggers:  # a duplicate OrderPlaced is ignored
            if t.event.stream_id not in seen:
                seen.add(t.event.stream_id)
                batch.append(self._order(t))
                self._known_from(t.event)
        reserved = self._retrying(self._reserve_phase, batch)
        self._authorize_phase(reserved)
        self._retrying(self._decide_phase, reserved)

    def _known_from(self, placed: RecordedEvent) -> None:
        """An order's ``OrderPlaced`` that opens its stream is its whole state at version 1:
        kept as the stream's cached state, so loading the order reads only what came after
        (not the placement again, its personal data decrypted a second time)."""
        if placed.version == 1 and self.cache.get(placed.stream_id) is None:
            state = ORDER.fold([placed.to_domain()])
            self.cache.put(placed.stream_id, 1, state, placed.meta.occurred_at)

    @staticmethod
    def _order(t: Trigger) -> _Order:
        data = t.event.data
        lines = stock_needs(data["lines"])  # a bundle's line needs each of its components
        return _Order(t, t.event.stream_id, data, lines, bundle_line_ids(data["lines"]))

    def _retrying(self, phase, orders: list[_Order]) -> list[_Order]:  # noqa: ANN001
        """Run a phase; when another writer moved one of its streams first, decide it again
        on fresh state (jittered backoff), for as long as a single command would try."""
        deadline = time.monotonic() + RETRY_BUDGET_S
        attempt = 0
        while True:
            try:
                return phase(orders)
            except ConcurrencyConflict:
                if time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
                attempt += 1

    def _load(self, orders: list[_Order], *more: Load) -> UnitOfWork:
        """The phase's streams, ``more`` with them, in one read (and the limited promotions'
        redemptions in a second, when some order has one)."""
        uow = UnitOfWork(self.store, self.cache)
        skus = {line.sku for o in orders for line in o.lines}
        data = [(o.order_id, o.data) for o in orders]
        # Cached: the decide phase then reads only what the reserve phase's load did not.
        uow.load_all(
            [
                (ORDER, [o.order_id for o in orders], True),
                (INVENTORY, [inventory_stream(sku) for sku in skus], True),
                *redemptions.loads(data),
                *more,
            ]
        )
        redemptions.load_limited(uow, data)
        return uow

    # ---- phase 1: reserve ----------------------------------------------------------------

    def _reserve_phase(self, orders: list[_Order]) -> list[_Order]:
        """Allocate and reserve each open order; return those now holding stock."""
        uow = self._load(orders)
        locations = self._active_locations()
        now = self.clock()  # when the holds are made: their time limit runs from here
        customers = self._customers(orders)
        reserved = []
        for o in orders:
            state = uow.state(o.order_id)
            if state.split or state.cancelled or state.confirmed:
                continue  # frozen by a split, cancelled or decided already
            if not customers.get(UUID(str(o.data["customer_id"])), GUEST).may_order:
                # (holds resumed after a crash are given back: nothing stays held)
                self._release(uow, o, self._resume(uow, o, now), CUSTOMER_INVALID, now)
                self._cancel(uow, o, CUSTOMER_INVALID, now)
                continue
            if self._guarded(uow, o, lambda o=o: self._hold(uow, o, locations, now)):
                reserved.append(o)
        uow.commit(orders[0].meta("reserve", now)) if orders else None
        return reserved

    def _customers(self, orders: list[_Order]) -> Mapping[UUID, CustomerFacts]:
        if self.customers is None or not orders:
            return {}
        return self.customers({UUID(str(o.data["customer_id"])) for o in orders})

    def _hold(self, uow: UnitOfWork, o: _Order, locations: dict[str, int], now: datetime) -> bool:
        """Resume the order's holds or reserve afresh; cancel ``out_of_stock`` if it cannot
        be covered. True when the order holds its stock."""
        o.held = self._resume(uow, o, now)
        if o.held:
            return self._redeem(uow, o, uow.savepoint(), now, resumed=True)
        point = uow.savepoint()
        try:
            o.held = self._reserve(uow, o, locations, now)
        except Conflict:
            o.held = []
        if not o.held:
            uow.rollback_to(point)  # nothing held: a partial plan is not written
            self._cancel(uow, o, "out_of_stock", now)
            return False
        return self._redeem(uow, o, point, now, resumed=False)

    def _redeem(self, uow: UnitOfWork, o: _Order, point: int, now: datetime, *, resumed: bool):  # noqa: ANN202
        """Claim the order's limited promotions with its stock (``commands/redemptions.py``);
        a limit reached: the holds made here are undone (resumed ones released) and the order
        is cancelled ``promotion_exhausted``."""
        if redemptions.claim(uow, o.order_id, o.data, o.meta("reserve", now)):
            return True
        uow.rollback_to(point)
        if resumed:
            self._release(uow, o, o.held, redemptions.EXHAUSTED, now)
        o.held = []
        self._cancel(uow, o, redemptions.EXHAUSTED, now)
        return False

    def _guarded(self, uow: UnitOfWork, o: _Order, step) -> bool:  # noqa: ANN001
        """Run one order's step; a rule it breaks that no compensation foresees undoes that
        order's part of the batch and raises an alert, instead of blocking every order
        behind it. The order stays as it was, for an operator."""
        point = uow.savepoint()
        try:
            return bool(step())
        except DomainError:
            uow.rollback_to(point)
            alerts.exception("ALERT placement saga could not decide order %s", o.order_id)
            return False

    def _resume(self, uow: UnitOfWork, o: _Order, now: datetime) -> list[tuple[Allocation, UUID]]:
        """After a crash: the order's active holds, if they cover every line. A partial hold
        is released, so nothing is left orphaned and allocation is decided afresh."""
        held: list[tuple[Allocation, UUID]] = []
        for sku in {line.sku for line in o.lines}:
            for r in uow.state(inventory_stream(sku)).of_order(o.order_id):
                if r.status == "active":
                    held.append((Allocation(str(r.line_id), sku, r.location, r.quantity), r.id))
        covered: dict[tuple[str, str], int] = {}
        for alloc, _rid in held:
            key = (alloc.line_id, alloc.sku)
            covered[key] = covered.get(key, 0) + alloc.quantity
        if held and all(covered.get((ln.line_id, ln.sku)) == ln.quantity for ln in o.lines):
            return held
        self._release(uow, o, held, "partial_hold_after_restart", now)
        return []

    def _reserve(self, uow: UnitOfWork, o: _Order, locations: dict[str, int], now: datetime):  # noqa: ANN202
        if o.data.get("split_location"):  # a split child is served by its part's location
            locations = {k: v for k, v in locations.items() if k == o.data["split_location"]}
        available = {
            sku: {c: lv.available for c, lv in uow.state(inventory_stream(sku)).levels.items()}
            for sku in {line.sku for line in o.lines}
        }
        plan = allocate(o.lines, locations, available)
        if plan is None:
            return []
        expires_at = now + self.settings.reservation_ttl
        meta = o.meta("reserve", now)
        return [(a, self._reserve_one(uow, o, a, expires_at, now, meta)) for a in plan]

    def _reserve_one(self, uow, o: _Order, alloc: Allocation, expires_at, now, meta) -> UUID:  # noqa: ANN001
        """Hold ``alloc`` for the order under a fresh reservation id; return the id."""
        stream = inventory_stream(alloc.sku)
        rid = self._fresh_reservation_id(uow, o.order_id, alloc, alloc.line_id in o.bundle_lines)
        reserve = ReserveStock(
            sku=alloc.sku,
            reservation_id=rid,
            order_id=o.order_id,
            line_id=UUID(alloc.line_id),
            location=alloc.location,
            quantity=alloc.quantity,
            expires_at=expires_at,
        )
        events = rsv.reserve_stock(uow.state(stream), reserve, now)
        uow.apply(stream, events, meta)
        return rid

    @staticmethod
    def _fresh_reservation_id(
        uow: UnitOfWork, order_id: UUID, alloc: Allocation, component: bool = False
    ) -> UUID:
        """Deterministic per (order, line, location), and per component SKU for a bundle's
        line; a released earlier hold of the same key gets the next suffix, so a
        re-reservation never collides with it."""
        existing = uow.state(inventory_stream(alloc.sku)).reservations
        line = f"{alloc.line_id}:{alloc.sku}" if component else alloc.line_id
        n = 1
        while True:
            suffix = "" if n == 1 else f":{n}"
            rid = uuid5(order_id, f"reservation:{line}:{alloc.location}{suffix}")
            if rid not in existing:
                return rid
            n += 1

    # ---- phase 2: authorize --------------------------------------------------------------

    def _authorize_phase(self, orders: list[_Order]) -> None:
        now = self.clock()
        for o in orders:
            o.gateway_key = payments.authorization_key(o.context("authorize", now), o.order_id)
        orders = self._answered_at_once(orders)

        def ask(o: _Order) -> None:
            c = self._authorization(o)
            o.answer = payments.ask_authorization(
                self.gateway,
                o.gateway_key,
                token=c.token,
                amount=c.amount,
                currency=c.currency,
                retry=self.settings.payment_retry,
            )

        if len(orders) <= 1:
            for o in orders:
                ask(o)
            return
        asked = [self._asking.submit(ask, o) for o in orders]
        wait(asked)  # every answer in (or failed) before any failure is raised
        for a in asked:
            a.result()

    def _answered_at_once(self, orders: list[_Order]) -> list[_Order]:
        """Answer what the gateway answers in one call (``authorize_at_once``: the sandbox,
        for every card but those answering by attempt); return the orders still to ask."""
        at_once = getattr(self.gateway, "authorize_at_once", None)
        if at_once is None or not orders:
            return orders
        asked = []
        for o in orders:
            c = self._authorization(o)
            asked.append(AuthorizationRequest(o.gateway_key, c.token, c.amount, c.currency))
        answers = at_once(asked)
        rest = []
        for o in orders:
            answer = answers.get(o.gateway_key)
            if answer is None:
                rest.append(o)
            else:
                o.answer = payments.authorization_answer(answer)
        return rest

    @staticmethod
    def _authorization(o: _Order) -> AuthorizePayment:
        """What the saga asks of the order's payment: its total, on its card."""
        total = o.data["total"]
        return AuthorizePayment(
            order_id=o.order_id,
            amount=Decimal(total["amount"]),
            currency=total["currency"],
            token=o.data["payment"]["token"],
        )

    # ---- phase 3: record, confirm or compensate ------------------------------------------

    def _decide_phase(self, orders: list[_Order]) -> list[_Order]:
        if not orders:
            return orders
        uow = self._load(
            orders,
            (PAYMENT, [payment_stream(o.order_id) for o in orders], False),
            (
                PLAN,
                [plan_stream(o.order_id, a.location) for o in orders for a, _rid in o.held],
                False,
            ),
        )
        now = self.clock()  # when the answers are in: has any hold run out meanwhile?
        for o in orders:
            self._guarded(uow, o, lambda o=o: self._decide(uow, o, now))
        uow.commit(orders[0].meta("confirm", now))
        return orders

    def _decide(self, uow: UnitOfWork, o: _Order, now: datetime) -> None:
        assert o.answer is not None
        state = uow.state(o.order_id)
        meta = o.meta("confirm", now)
        approved = self._record_answer(uow, o, meta)
        if state.cancelled or state.split:  # cancelled or split while we were asking
            self._release(uow, o, o.held, "order_cancelled", now)
            self._void(uow, o, "order_cancelled", now)
            redemptions.release(uow, o.order_id, o.data, "order_cancelled", meta)
            return
        if state.confirmed:
            return
        if self._ran_out(uow, o, now):  # the time limit passed before the answer came
            self._expired(uow, o, now)
            return
        if not approved:
            self._release(uow, o, o.held, "payment_declined", now)
            self._cancel(uow, o, "payment_declined", now)
            return
        point = uow.savepoint()
        try:
            confirmed = [self._confirm_hold(uow, o, alloc, rid, meta, now) for alloc, rid in o.held]
        except DomainError:  # expired and could not be reserved again
            uow.rollback_to(point)
            self._expired(uow, o, now)
            return
        allocations = [
            {
                "line_id": a.line_id,
                "sku": a.sku,
                "location": a.location,
                "quantity": a.quantity,
                "reservation_id": str(rid),
            }
            for a, rid in confirmed
        ]
        uow.apply(
            o.order_id,
            order_decide.confirm_order(
                state, ConfirmOrder(order_id=o.order_id, allocations=allocations), now
            ),
            meta,
        )
        priority = uow.state(o.order_id).priority
        dropship = self.locations.dropship_vendors(refresh=False)
        plans = plans_for(o.order_id, allocations, dropship)
        uow.load(PLAN, [p[0] for p in plans])  # loaded with the phase, as a rule
        for plan_id, location, lines, strategy in plans:
            uow.apply(
                plan_id,
                plan_decide.create_plan(
                    uow.state(plan_id),
                    order_id=o.order_id,
                    location=location,
                    lines=lines,
                    priority=priority,
                    strategy=strategy,
                ),
                meta,
            )

    def _record_answer(self, uow: UnitOfWork, o: _Order, meta: EventMeta) -> bool:
        """Record the gateway's answer once; a payment recorded before (a replay) stands."""
        assert o.answer is not None
        stream = payment_stream(o.order_id)
        pay = uow.state(stream)
        if pay.status != "pending":
            return pay.status in ("authorized", "partially_captured", "captured")
        uow.apply(
            stream,
            pay_decide.record_authorization(
                pay,
                self._authorization(o),
                gateway=self.gateway.name,
                approved=o.answer.approved,
                gateway_reference=o.answer.reference,
                reason=o.answer.reason,
                idempotency_key=o.gateway_key,
            ),
            meta,
        )
        return o.answer.approved

    def _confirm_hold(self, uow, o: _Order, alloc: Allocation, rid: UUID, meta, now):  # noqa: ANN001, ANN202
        """Confirm one hold (no more expiry); one that expired meanwhile is reserved again
        once, without expiry, if the stock is still there."""
        stream = inventory_stream(alloc.sku)
        try:
            confirm = ConfirmReservation(sku=alloc.sku, reservation_id=rid)
            events = rsv.confirm_reservation(uow.state(stream), confirm, now)
            uow.apply(stream, events, meta)
            return alloc, rid
        except Conflict:
            return alloc, self._reserve_one(uow, o, alloc, None, now, meta)

    @staticmethod
    def _ran_out(uow: UnitOfWork, o: _Order, now: datetime) -> bool:
        for alloc, rid in o.held:
            r = uow.state(inventory_stream(alloc.sku)).reservations.get(rid)
            if r is None or r.status != "active":
                return True
            if r.expires_at is not None and r.expires_at <= now:
                return True
        return False

    # ---- compensations -------------------------------------------------------------------

    def _release(self, uow: UnitOfWork, o: _Order, held, reason: str, now: datetime) -> None:  # noqa: ANN001
        """Release the holds; with ``now`` past their time limit, they are recorded as
        expired instead (every inventory decision first expires what is due)."""
        meta = o.meta(f"release:{reason}", now)
        for alloc, rid in held:
            stream = inventory_stream(alloc.sku)
            release = ReleaseReservation(sku=alloc.sku, reservation_id=rid, reason=reason)
            uow.apply(stream, rsv.release_reservation(uow.state(stream), release, now), meta)

    def _expired(self, uow: UnitOfWork, o: _Order, now: datetime) -> None:
        """The holds ran out: release them (or record them expired, with ``now`` past their
        limit), void what was authorized, cancel ``reservation_expired``."""
        self._release(uow, o, o.held, "reservation_expired", now)
        self._void(uow, o, "reservation_expired", now)
        self._cancel(uow, o, "reservation_expired", now)

    def _void(self, uow: UnitOfWork, o: _Order, reason: str, now: datetime) -> None:
        stream = payment_stream(o.order_id)
        pay = uow.state(stream)
        if pay.capturable <= 0:
            return
        ctx = o.context("void", now)
        self.gateway.void(f"void:{ctx.idempotency.principal}:{ctx.idempotency.key}", "")
        uow.apply(
            stream,
            pay_decide.void(pay, VoidAuthorization(order_id=o.order_id, reason=reason)),
            ctx.meta(),
        )

    def _cancel(self, uow: UnitOfWork, o: _Order, reason: str, now: datetime) -> None:
        state = uow.state(o.order_id)
        uow.apply(
            o.order_id,
            order_decide.cancel_order(
                state,
                CancelOrder(order_id=o.order_id, reason=reason),
                now,
                actor=f"process:{self.name}",
            ),
            o.meta("cancel", now),
        )

    # ---- a parked order ------------------------------------------------------------------

    def on_parked(self, trigger: Trigger, error: str) -> None:
        """The order's ``OrderPlaced`` was parked (its step kept failing): cancel it
        ``processing_failed``, releasing the stock it holds and voiding what was authorized,
        so it never stays pending unseen. An order decided meanwhile is left as it is."""
        o = self._order(trigger)
        state = self._load([o]).state(o.order_id)
        if state.cancelled or state.confirmed or state.split:
            return  # decided already: visible as it is
        # The gateway may hold an authorization the failing step never recorded: ask again
        # under the same key (the same answer, nothing charged twice), record it, void it.
        self._authorize_phase([o])
        self._retrying(self._give_up, [o])

    def _give_up(self, orders: list[_Order]) -> list[_Order]:
        uow = self._load(orders, (PAYMENT, [payment_stream(o.order_id) for o in orders], False))
        now = self.clock()  # when the saga gives up: what it stamps
        for o in orders:
            state = uow.state(o.order_id)
            if state.cancelled or state.confirmed or state.split:
                continue
            self._record_answer(uow, o, o.meta(PROCESSING_FAILED, now))
            held = [
                (Allocation(str(r.line_id), sku, r.location, r.quantity), r.id)
                for sku in {line.sku for line in o.lines}
                for r in uow.state(inventory_stream(sku)).of_order(o.order_id)
                if r.status == "active"
            ]
            self._release(uow, o, held, PROCESSING_FAILED, now)
            self._void(uow, o, PROCESSING_FAILED, now)
            self._cancel(uow, o, PROCESSING_FAILED, now)
        uow.commit(orders[0].meta(PROCESSING_FAILED, now))
        return orders

    # ---- what allocation reads -----------------------------------------------------------

    def _active_locations(self) -> dict[str, int]:
        """Active locations and their priorities, from the Location streams (never a view)."""
        return self.locations.active()
