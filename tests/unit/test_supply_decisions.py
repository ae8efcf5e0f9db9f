"""The supply side's decisions, no database: given events, when a command is decided, then these
events or this error (with its code). Suppliers, purchase orders by status, and replenishment."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.command import MoneyIn
from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.inventory.state import Level, Thresholds
from domain.supply import commands as cmd
from domain.supply import events as ev
from domain.supply import purchase_orders as po
from domain.supply import replenishment as r
from domain.supply.suppliers import SUPPLIER, Listing, register_supplier

ACME = UUID("00000000-0000-4000-8000-00000000000a")
BOLT = UUID("00000000-0000-4000-8000-00000000000b")
ORDER = UUID("00000000-0000-4000-8000-0000000000f1")
RECEIPT = UUID("00000000-0000-4000-8000-0000000000e1")
WIDGET = ev.SupplierItem(sku="W-1", cost="2.50", currency="USD", pack_size=6, min_order_quantity=12)
BOLTS = ev.SupplierItem(sku="B-1", cost="0.10", currency="USD", pack_size=1, min_order_quantity=1)
REGISTERED = ev.SupplierRegistered(
    name="Acme", email="a@acme.example", lead_time_days=5, items=(WIDGET, BOLTS)
)
CREATED = ev.PurchaseOrderCreated(
    supplier_id=ACME,
    location="WH-1",
    lines=(
        ev.OrderedLine(sku="W-1", quantity=12, unit_cost="2.50", currency="USD"),
        ev.OrderedLine(sku="B-1", quantity=3, unit_cost="0.10", currency="USD"),
    ),
    lead_time_days=5,
)
APPROVED, DISPATCHED = ev.PurchaseOrderApproved(), ev.PurchaseOrderDispatched()
CANCELLED = ev.PurchaseOrderCancelled(reason="cancelled")


def refused(kind, code, decision, *args):
    with pytest.raises(kind) as e:
        decision(*args)
    assert e.value.code == code, e.value.message
    return e.value


def supplier_item(sku="W-1", amount="2.50") -> cmd.SupplierItemIn:
    return cmd.SupplierItemIn(
        sku=sku, cost=MoneyIn(amount=amount, currency="USD"), pack_size=6, min_order_quantity=12
    )


def order(*events) -> po.PurchaseOrderState:
    return po.PURCHASE_ORDER.fold(events)


def create(lines: dict[str, int], supplier=None) -> list:
    command = cmd.CreatePurchaseOrder(
        supplier_id=ACME,
        location="WH-1",
        lines=[cmd.LineIn(sku=s, quantity=q) for s, q in lines.items()],
    )
    return po.create_purchase_order(order(), command, supplier or SUPPLIER.fold([REGISTERED]))


def receive(state, lines: dict[str, int]) -> list:
    command = cmd.ReceivePurchaseOrder(
        purchase_order_id=ORDER, lines=[cmd.LineIn(sku=s, quantity=q) for s, q in lines.items()]
    )
    return po.receive(state, command, RECEIPT)


class TestRegisterSupplier:
    def test_a_supplier_registers_with_its_items(self):
        command = cmd.RegisterSupplier(
            name="Acme", email="a@acme.example", lead_time_days=5, items=[supplier_item("W-1")]
        )
        (registered,) = register_supplier(SUPPLIER.fold([]), command)
        assert registered.items == (WIDGET,)

    def test_a_sku_listed_twice_is_refused(self):
        command = cmd.RegisterSupplier(
            name="Acme",
            email="a@acme.example",
            lead_time_days=5,
            items=[supplier_item(), supplier_item()],
        )
        refused(InvalidCommand, "duplicate_sku", register_supplier, SUPPLIER.fold([]), command)

    def test_a_malformed_email_is_refused(self):
        command = cmd.RegisterSupplier(
            name="Acme", email="acme at example", lead_time_days=5, items=[supplier_item()]
        )
        refused(InvalidCommand, "invalid_email", register_supplier, SUPPLIER.fold([]), command)

    def test_registering_twice_is_refused(self):
        command = cmd.RegisterSupplier(
            name="Acme", email="a@acme.example", lead_time_days=5, items=[supplier_item()]
        )
        refused(
            Conflict, "supplier_exists", register_supplier, SUPPLIER.fold([REGISTERED]), command
        )


class TestCreatePurchaseOrder:
    def test_whole_packs_at_or_above_the_minimum_make_a_pending_order(self):
        assert create({"W-1": 12, "B-1": 3}) == [CREATED]
        assert order(CREATED).status == "pending"

    def test_a_quantity_not_in_whole_packs_is_refused(self):
        refused(InvalidCommand, "not_whole_packs", create, {"W-1": 13})

    def test_a_quantity_below_the_minimum_is_refused(self):
        refused(InvalidCommand, "below_minimum_order", create, {"W-1": 6})

    def test_a_sku_the_supplier_does_not_supply_is_refused(self):
        refused(InvalidCommand, "sku_not_supplied", create, {"X-9": 1})

    def test_an_unknown_supplier_is_refused(self):
        refused(InvalidCommand, "unknown_supplier", create, {"W-1": 12}, SUPPLIER.fold([]))

    def test_a_sku_on_two_lines_is_refused(self):
        command = cmd.CreatePurchaseOrder(
            supplier_id=ACME,
            location="WH-1",
            lines=[cmd.LineIn(sku="B-1", quantity=1), cmd.LineIn(sku="B-1", quantity=2)],
        )
        refused(
            InvalidCommand,
            "duplicate_sku",
            po.create_purchase_order,
            order(),
            command,
            SUPPLIER.fold([REGISTERED]),
        )

    def test_creating_an_existing_order_is_refused(self):
        refused(
            Conflict,
            "purchase_order_exists",
            po.create_purchase_order,
            order(CREATED),
            cmd.CreatePurchaseOrder(
                supplier_id=ACME, location="WH-1", lines=[cmd.LineIn(sku="B-1", quantity=1)]
            ),
            SUPPLIER.fold([REGISTERED]),
        )


class TestTransitions:
    @pytest.mark.parametrize(
        "given, to, then",
        [
            ((CREATED,), "ordered", [APPROVED]),
            ((CREATED,), "cancelled", [CANCELLED]),
            ((CREATED, APPROVED), "in_transit", [DISPATCHED]),
            ((CREATED, APPROVED), "cancelled", [CANCELLED]),
            ((CREATED, APPROVED), "ordered", []),  # asked again: nothing to do
            ((CREATED, CANCELLED), "cancelled", []),
        ],
    )
    def test_the_table_allows(self, given, to, then):
        assert po.move(order(*given), ORDER, to) == then

    @pytest.mark.parametrize(
        "given, to",
        [
            ((CREATED,), "in_transit"),
            ((CREATED, APPROVED, DISPATCHED), "cancelled"),
            ((CREATED, APPROVED, DISPATCHED), "ordered"),
            ((CREATED, CANCELLED), "ordered"),
        ],
    )
    def test_the_table_refuses(self, given, to):
        refused(IllegalTransition, "illegal_transition", po.move, order(*given), ORDER, to)

    def test_an_unknown_order_is_not_found(self):
        refused(NotFound, "purchase_order_not_found", po.move, order(), ORDER, "ordered")

    def test_a_cancellation_keeps_its_reason(self):
        assert po.cancel(order(CREATED), ORDER, "supplier closed") == [
            ev.PurchaseOrderCancelled(reason="supplier closed")
        ]


class TestReceive:
    def test_a_partial_receipt_keeps_the_status(self):
        (received,) = receive(order(CREATED, APPROVED), {"W-1": 6})
        assert received == ev.PurchaseOrderReceived(
            receipt_id=RECEIPT, lines=(ev.ReceivedLine(sku="W-1", quantity=6),), complete=False
        )
        assert order(CREATED, APPROVED, received).lines["W-1"] == (12, 6)

    def test_the_receipt_that_completes_every_line_receives_the_order(self):
        partial = receive(order(CREATED, APPROVED, DISPATCHED), {"W-1": 12})[0]
        (last,) = receive(order(CREATED, APPROVED, DISPATCHED, partial), {"B-1": 3})
        assert last.complete
        assert order(CREATED, APPROVED, DISPATCHED, partial, last).status == "received"

    def test_more_than_ordered_is_an_over_receipt(self):
        partial = receive(order(CREATED, APPROVED), {"B-1": 2})[0]
        error = refused(
            InvalidCommand, "over_receipt", receive, order(CREATED, APPROVED, partial), {"B-1": 2}
        )
        assert error.details == {"sku": "B-1", "ordered": 3, "received": 2, "quantity": 2}

    def test_a_sku_not_on_the_order_is_refused(self):
        refused(InvalidCommand, "sku_not_on_order", receive, order(CREATED, APPROVED), {"X-9": 1})

    def test_a_pending_order_is_not_received(self):
        refused(Conflict, "purchase_order_not_ordered", receive, order(CREATED), {"B-1": 1})

    def test_a_cancelled_order_is_not_received(self):
        refused(
            Conflict, "purchase_order_cancelled", receive, order(CREATED, CANCELLED), {"B-1": 1}
        )

    def test_a_fully_received_order_takes_nothing_more(self):
        done = receive(order(CREATED, APPROVED), {"W-1": 12, "B-1": 3})[0]
        refused(InvalidCommand, "over_receipt", receive, order(CREATED, APPROVED, done), {"B-1": 1})


QUICK_DEAR = Listing(
    ACME,
    3,
    ev.SupplierItem(sku="W-1", cost="3.00", currency="USD", pack_size=10, min_order_quantity=10),
)
QUICK_CHEAP = Listing(
    BOLT,
    3,
    ev.SupplierItem(sku="W-1", cost="2.00", currency="USD", pack_size=12, min_order_quantity=24),
)
SLOW_CHEAPEST = Listing(
    UUID(int=1),
    9,
    ev.SupplierItem(sku="W-1", cost="0.50", currency="USD", pack_size=1, min_order_quantity=1),
)


class TestReplenishment:
    LIMITS = Thresholds(reorder_point=20, reorder_quantity=30)

    def test_the_cheapest_of_the_quickest_suppliers_is_chosen(self):
        assert r.choose_supplier([SLOW_CHEAPEST, QUICK_DEAR, QUICK_CHEAP]) == QUICK_CHEAP
        assert r.choose_supplier([]) is None

    def test_a_crossing_opens_a_suggestion_in_whole_packs_of_at_least_the_minimum(self):
        (suggested,) = r.suggest(
            r.REPLENISHMENT.fold([]), "W-1", "WH-1", self.LIMITS, Level(on_hand=20), QUICK_CHEAP
        )
        suggestion_id, order_id = r.suggestion_ids("W-1", "WH-1", 1)
        assert suggested == ev.ReorderSuggested(
            suggestion_id=suggestion_id,
            sku="W-1",
            location="WH-1",
            available=20,
            reorder_point=20,
            quantity=36,
            supplier_id=BOLT,
            purchase_order_id=order_id,
        )

    def test_while_one_is_open_a_crossing_suggests_nothing(self):
        opened = r.suggest(
            r.REPLENISHMENT.fold([]), "W-1", "WH-1", self.LIMITS, Level(5), QUICK_DEAR
        )
        assert (
            r.suggest(
                r.REPLENISHMENT.fold(opened), "W-1", "WH-1", self.LIMITS, Level(0), QUICK_DEAR
            )
            == []
        )

    def test_closing_it_lets_the_next_crossing_open_a_new_one(self):
        opened = r.suggest(
            r.REPLENISHMENT.fold([]), "W-1", "WH-1", self.LIMITS, Level(5), QUICK_DEAR
        )
        order_id = opened[0].purchase_order_id
        closed = r.close(r.REPLENISHMENT.fold(opened), order_id, "received")
        assert closed == [
            ev.ReorderSuggestionClosed(
                suggestion_id=opened[0].suggestion_id, purchase_order_id=order_id, reason="received"
            )
        ]
        (again,) = r.suggest(
            r.REPLENISHMENT.fold(opened + closed), "W-1", "WH-1", self.LIMITS, Level(5), QUICK_DEAR
        )
        assert again.purchase_order_id not in (None, order_id)

    def test_another_orders_receipt_closes_nothing(self):
        opened = r.suggest(
            r.REPLENISHMENT.fold([]), "W-1", "WH-1", self.LIMITS, Level(5), QUICK_DEAR
        )
        assert r.close(r.REPLENISHMENT.fold(opened), ORDER, "received") == []

    def test_without_a_supplier_the_suggestion_drafts_nothing_and_stays_unsourced(self):
        (suggested,) = r.suggest(
            r.REPLENISHMENT.fold([]), "W-1", "WH-1", self.LIMITS, Level(5), None
        )
        assert suggested.purchase_order_id is None and suggested.quantity == 30
        assert r.REPLENISHMENT.fold([suggested]).open_suggestion is None

    def test_without_a_reorder_quantity_it_orders_up_to_max_or_twice_the_point(self):
        assert r.wanted_quantity(Thresholds(10, None, 100), Level(on_hand=8)) == 92
        assert r.wanted_quantity(Thresholds(10, None, None), Level(on_hand=8)) == 20
