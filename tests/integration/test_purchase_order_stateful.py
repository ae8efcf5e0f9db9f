"""Purchase orders and the shelf, as a hypothesis state machine against real PostgreSQL: any
sequence of creations, approvals, dispatches, cancellations, receipts (some beyond what is
outstanding) and shipments keeps every line's received ≤ ordered, each order's status what the
table allows, and the units on hand at the location = what the orders received − what shipped,
across the purchase order and inventory streams."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from commands import inventory, purchase_orders
from domain.errors import DomainError
from domain.inventory.commands import CommitReservation, ReserveStock
from domain.supply.commands import (
    ApprovePurchaseOrder,
    CancelPurchaseOrder,
    DispatchPurchaseOrder,
    LineIn,
    ReceivePurchaseOrder,
)
from tests.factories import send
from tests.supply_factories import ctx, item, location, purchase_order, skus, supplier

NEXT = {
    "pending": {"ordered", "cancelled"},
    "ordered": {"in_transit", "received", "cancelled"},
    "in_transit": {"received"},
    "received": set(),
    "cancelled": set(),
}


class PurchaseOrders(RuleBasedStateMachine):
    def __init__(self, container, world):  # noqa: ANN001
        super().__init__()
        self.container = container
        self.code, self.skus, self.supplier_id = world
        self.orders: list[UUID] = []
        self.status: dict[UUID, str] = {}
        self.shipped = dict.fromkeys(self.skus, 0)

    def _send(self, command) -> bool:  # noqa: ANN001
        try:
            send(self.container, command, ctx())
            return True
        except DomainError:
            return False

    @rule(a=st.integers(1, 5), b=st.integers(0, 5))
    def create(self, a: int, b: int) -> None:
        lines = {self.skus[0]: a, **({self.skus[1]: b} if b else {})}
        order_id = purchase_order(self.container, self.supplier_id, self.code, lines)
        self.orders.append(order_id)
        self.status[order_id] = "pending"

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), to=st.sampled_from(["ordered", "in_transit", "cancelled"]))
    def move(self, data, to: str) -> None:  # noqa: ANN001
        order_id = data.draw(st.sampled_from(self.orders))
        command = {
            "ordered": ApprovePurchaseOrder,
            "in_transit": DispatchPurchaseOrder,
            "cancelled": CancelPurchaseOrder,
        }[to](purchase_order_id=order_id)
        done = self._send(command)
        before = self.status[order_id]
        assert done == (to in NEXT[before] or to == before), (before, to)
        if done:
            self.status[order_id] = to

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), quantity=st.integers(1, 6), which=st.integers(0, 1))
    def receive(self, data, quantity: int, which: int) -> None:  # noqa: ANN001
        order_id = data.draw(st.sampled_from(self.orders))
        sku = self.skus[which]
        state = purchase_orders.get(self.container.dispatcher.write, order_id)
        receipt = ReceivePurchaseOrder(
            purchase_order_id=order_id, lines=[LineIn(sku=sku, quantity=quantity)]
        )
        done = self._send(receipt)
        ordered, received = state.lines.get(sku, (0, 0))
        possible = state.status in ("ordered", "in_transit") and received + quantity <= ordered
        assert done == possible, (state, sku, quantity)
        if done:
            self.status[order_id] = purchase_orders.get(
                self.container.dispatcher.write, order_id
            ).status

    @rule(quantity=st.integers(1, 4), which=st.integers(0, 1))
    def ship(self, quantity: int, which: int) -> None:
        sku = self.skus[which]
        if inventory.get(self.container.store, sku).level(self.code).available < quantity:
            return
        reservation = uuid4()
        self._send(
            ReserveStock(
                sku=sku,
                reservation_id=reservation,
                order_id=uuid4(),
                line_id=uuid4(),
                location=self.code,
                quantity=quantity,
                expires_at=None,
            )
        )
        assert self._send(
            CommitReservation(sku=sku, reservation_id=reservation, shipment_id=uuid4())
        )
        self.shipped[sku] += quantity

    @invariant()
    def received_never_exceeds_ordered_and_the_shelf_adds_up(self) -> None:
        write = self.container.dispatcher.write
        received = dict.fromkeys(self.skus, 0)
        for order_id in self.orders:
            state = purchase_orders.get(write, order_id)
            assert state.status == self.status[order_id]
            for sku, (ordered, got) in state.lines.items():
                assert 0 <= got <= ordered
                received[sku] += got
        for sku in self.skus:
            on_hand = inventory.get(self.container.store, sku).level(self.code).on_hand
            assert on_hand == received[sku] - self.shipped[sku]  # fresh SKUs: nothing else moved


def test_purchase_orders_and_the_shelf_keep_their_invariants(container):
    code = location(container)

    def machine() -> PurchaseOrders:
        pair = skus(container, 2)
        supplier_id = supplier(container, [item(s) for s in pair])
        return PurchaseOrders(container, (code, pair, supplier_id))

    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=5,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
