"""Inventory invariants under any command sequence (hypothesis state machine, pure domain).

After every command: on hand per location = received + adjusted − committed ± transfers, the
total is conserved by transfers, 0 ≤ reserved ≤ on hand, reserved equals what active
reservations hold, open alerts match the levels, and folding every emitted event from scratch
gives the live state."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain.errors import DomainError
from domain.inventory import reservations as rsv
from domain.inventory.commands import (
    AdjustStock,
    CommitReservation,
    ConfirmReservation,
    ExpireDueReservations,
    ReceiveStock,
    ReleaseReservation,
    ReserveStock,
    SetThresholds,
    TransferStock,
)
from domain.inventory.decide import adjust_stock, receive_stock, set_thresholds, transfer_stock
from domain.inventory.events import StockAdjusted, StockCommitted, StockReceived, StockTransferred
from domain.inventory.rules import wanted_alert
from domain.inventory.state import INVENTORY

SKU = "SKU-P"
LOCATIONS = ("WH1", "WH2", "WH3")
ORDER = UUID(int=1)
SHIPMENT = UUID(int=2)
START = datetime(2026, 1, 1, tzinfo=UTC)

locations = st.sampled_from(LOCATIONS)
quantities = st.integers(min_value=1, max_value=20)
reservation_numbers = st.integers(min_value=1, max_value=12)


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.state = INVENTORY.initial()
        self.history: list = []
        self.now = START
        self.flows: Counter = Counter()  # per location: every unit in and out

    def run(self, decide):
        try:
            events = decide(self.state)
        except DomainError:
            return []
        self.history.extend(events)
        self.state = INVENTORY.fold(events, self.state)
        for e in events:
            match e:
                case StockReceived():
                    self.flows[e.location] += e.quantity
                case StockAdjusted():
                    self.flows[e.location] += e.delta
                case StockCommitted():
                    self.flows[e.location] -= e.quantity
                case StockTransferred():
                    self.flows[e.from_location] -= e.quantity
                    self.flows[e.to_location] += e.quantity
        return events

    @rule(location=locations, quantity=quantities)
    def receive(self, location, quantity):
        self.run(
            lambda s: receive_stock(
                s, ReceiveStock(sku=SKU, location=location, quantity=quantity), self.now
            )
        )

    @rule(
        location=locations,
        delta=st.integers(-20, 20).filter(bool),
        reason=st.sampled_from(["damage", "loss", "return", "count_correction", "other"]),
    )
    def adjust(self, location, delta, reason):
        before = self.state.level(location)
        events = self.run(
            lambda s: adjust_stock(
                s, AdjustStock(sku=SKU, location=location, delta=delta, reason=reason), self.now
            )
        )
        if before.on_hand + delta >= before.reserved and not any(
            isinstance(e, StockAdjusted) for e in events
        ):
            # expiries only lower reserved, so what fit before the command still fits
            raise AssertionError("a fitting adjustment was refused")

    @rule(origin=locations, destination=locations, quantity=quantities)
    def transfer(self, origin, destination, quantity):
        total = self.state.totals()["on_hand"]
        self.run(
            lambda s: transfer_stock(
                s,
                TransferStock(
                    sku=SKU, from_location=origin, to_location=destination, quantity=quantity
                ),
                self.now,
            )
        )
        assert self.state.totals()["on_hand"] == total

    @rule(
        n=reservation_numbers,
        location=locations,
        quantity=quantities,
        ttl=st.one_of(st.none(), st.integers(1, 180)),
    )
    def reserve(self, n, location, quantity, ttl):
        expires = None if ttl is None else self.now + timedelta(minutes=ttl)
        self.run(
            lambda s: rsv.reserve_stock(
                s,
                ReserveStock(
                    sku=SKU,
                    reservation_id=UUID(int=1000 + n),
                    order_id=ORDER,
                    line_id=UUID(int=n),
                    location=location,
                    quantity=quantity,
                    expires_at=expires,
                ),
                self.now,
            )
        )

    @rule(n=reservation_numbers)
    def confirm(self, n):
        self.run(
            lambda s: rsv.confirm_reservation(
                s, ConfirmReservation(sku=SKU, reservation_id=UUID(int=1000 + n)), self.now
            )
        )

    @rule(n=reservation_numbers)
    def release(self, n):
        self.run(
            lambda s: rsv.release_reservation(
                s,
                ReleaseReservation(sku=SKU, reservation_id=UUID(int=1000 + n), reason="test"),
                self.now,
            )
        )

    @rule(n=reservation_numbers, quantity=st.one_of(st.none(), quantities))
    def commit(self, n, quantity):
        self.run(
            lambda s: rsv.commit_reservation(
                s,
                CommitReservation(
                    sku=SKU,
                    reservation_id=UUID(int=1000 + n),
                    shipment_id=SHIPMENT,
                    quantity=quantity,
                ),
                self.now,
            )
        )

    @rule(location=locations, point=st.integers(0, 15))
    def set_thresholds(self, location, point):
        self.run(
            lambda s: set_thresholds(
                s, SetThresholds(sku=SKU, location=location, reorder_point=point), self.now
            )
        )

    @rule(minutes=st.integers(1, 120))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule()
    def sweep(self):
        self.run(lambda s: rsv.expire_due_reservations(s, ExpireDueReservations(sku=SKU), self.now))
        assert not any(r.is_due(self.now) for r in self.state.reservations.values())

    @invariant()
    def on_hand_is_the_sum_of_movements(self):
        for location in LOCATIONS:
            assert self.state.level(location).on_hand == self.flows[location]

    @invariant()
    def reserved_is_between_zero_and_on_hand(self):
        for level in self.state.levels.values():
            assert 0 <= level.reserved <= level.on_hand
            assert level.available >= 0

    @invariant()
    def reserved_is_what_active_reservations_hold(self):
        held: Counter = Counter()
        for r in self.state.reservations.values():
            assert 0 <= r.remaining <= r.quantity
            if r.status == "active":
                held[r.location] += r.remaining
            else:
                assert r.remaining == 0 or r.status == "committed"
        for location in LOCATIONS:
            assert self.state.level(location).reserved == held[location]

    @invariant()
    def open_alerts_match_the_levels(self):
        for location in set(self.state.levels) | set(self.state.thresholds):
            open_kinds = {k for loc, k in self.state.alerts if loc == location}
            want = wanted_alert(self.state, location)
            assert open_kinds == ({want} if want else set())

    @invariant()
    def the_indexes_agree_with_the_reservations(self):
        reservations = self.state.reservations.values()
        can_expire = {
            r.id: r.expires_at
            for r in reservations
            if r.status == "active" and r.expires_at is not None
        }
        assert dict(self.state.expiring) == can_expire
        by_order: dict = {}
        for r in reservations:
            by_order.setdefault(r.order_id, set()).add(r.id)
        assert {o: set(ids) for o, ids in self.state.by_order.items()} == by_order

    @invariant()
    def folding_the_history_from_scratch_gives_the_live_state(self):
        assert INVENTORY.fold(self.history) == self.state
        # one event at a time (``evolve``) and all at once (``fold_many``) agree
        one_by_one = INVENTORY.initial()
        for event in self.history:
            one_by_one = INVENTORY.evolve(one_by_one, event)
        assert one_by_one == self.state


InventoryMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
TestInventoryInvariants = InventoryMachine.TestCase
