"""Inventory stock decisions: given events, when receive/adjust/transfer/set thresholds, then
these events or this error."""

from datetime import UTC, datetime
from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.errors import InsufficientStock, InvalidCommand
from domain.inventory.commands import AdjustStock, ReceiveStock, SetThresholds, TransferStock
from domain.inventory.decide import adjust_stock, receive_stock, set_thresholds, transfer_stock
from domain.inventory.events import (
    StockAdjusted,
    StockAlertRaised,
    StockAlertResolved,
    StockReceived,
    StockReserved,
    StockTransferred,
    ThresholdsSet,
)
from domain.inventory.state import INVENTORY

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
SKU = "SKU-1"
RID = UUID("00000000-0000-0000-0000-0000000000a1")
ORDER = UUID("00000000-0000-0000-0000-0000000000b1")
LINE = UUID("00000000-0000-0000-0000-0000000000c1")


def given(*events):
    return INVENTORY.fold(events)


def received(quantity, location="WH1"):
    return StockReceived(sku=SKU, location=location, quantity=quantity)


def reserved(quantity, location="WH1"):
    return StockReserved(
        sku=SKU,
        reservation_id=RID,
        order_id=ORDER,
        line_id=LINE,
        location=location,
        quantity=quantity,
        expires_at=None,
    )


class TestReceive:
    def test_receiving_records_the_units_and_reference(self):
        events = receive_stock(
            given(), ReceiveStock(sku=SKU, location="WH1", quantity=5, reference="PO-1"), NOW
        )
        assert events == [StockReceived(sku=SKU, location="WH1", quantity=5, reference="PO-1")]

    def test_receiving_into_an_empty_location_resolves_its_out_of_stock_alert(self):
        state = given(
            received(1),
            StockAdjusted(sku=SKU, location="WH1", delta=-1, reason="loss", movement_type="loss"),
            StockAlertRaised(
                sku=SKU, location="WH1", kind="out_of_stock", severity="critical", available=0
            ),
        )
        events = receive_stock(state, ReceiveStock(sku=SKU, location="WH1", quantity=3), NOW)
        assert events[-1] == StockAlertResolved(
            sku=SKU, location="WH1", kind="out_of_stock", available=3
        )

    @pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
    def test_a_quantity_that_is_not_a_positive_integer_makes_no_command(self, quantity):
        with pytest.raises(ValidationError):
            ReceiveStock(sku=SKU, location="WH1", quantity=quantity)


class TestAdjust:
    def test_a_negative_adjustment_with_a_reason_is_recorded(self):
        events = adjust_stock(
            given(received(5)), AdjustStock(sku=SKU, location="WH1", delta=-2, reason="damage"), NOW
        )
        assert events == [
            StockAdjusted(
                sku=SKU, location="WH1", delta=-2, reason="damage", movement_type="damage"
            )
        ]

    def test_a_free_text_reason_is_a_plain_adjustment(self):
        events = adjust_stock(
            given(received(5)),
            AdjustStock(sku=SKU, location="WH1", delta=1, reason="found one"),
            NOW,
        )
        assert events[0].movement_type == "adjustment"

    def test_adjusting_below_the_reserved_units_is_insufficient_stock(self):
        with pytest.raises(InsufficientStock) as e:
            adjust_stock(
                given(received(5), reserved(3)),
                AdjustStock(sku=SKU, location="WH1", delta=-3, reason="loss"),
                NOW,
            )
        assert e.value.code == "insufficient_stock"

    def test_adjusting_below_zero_is_insufficient_stock(self):
        with pytest.raises(InsufficientStock):
            adjust_stock(
                given(received(2)), AdjustStock(sku=SKU, location="WH1", delta=-3, reason="x"), NOW
            )

    def test_adjusting_down_to_exactly_the_reserved_units_raises_out_of_stock(self):
        events = adjust_stock(
            given(received(5), reserved(3)),
            AdjustStock(sku=SKU, location="WH1", delta=-2, reason="x"),
            NOW,
        )
        assert events[-1].kind == "out_of_stock"

    def test_an_adjustment_without_a_reason_is_invalid(self):
        with pytest.raises(InvalidCommand) as e:
            adjust_stock(
                given(received(5)), AdjustStock(sku=SKU, location="WH1", delta=1, reason=" "), NOW
            )
        assert e.value.code == "reason_required"

    def test_a_zero_delta_is_invalid(self):
        with pytest.raises(InvalidCommand) as e:
            adjust_stock(
                given(received(5)), AdjustStock(sku=SKU, location="WH1", delta=0, reason="x"), NOW
            )
        assert e.value.code == "invalid_delta"


class TestTransfer:
    def test_available_units_move_between_two_locations(self):
        events = transfer_stock(
            given(received(5)),
            TransferStock(sku=SKU, from_location="WH1", to_location="WH2", quantity=2),
            NOW,
        )
        assert events == [
            StockTransferred(sku=SKU, from_location="WH1", to_location="WH2", quantity=2)
        ]

    def test_reserved_units_cannot_be_transferred(self):
        with pytest.raises(InsufficientStock):
            transfer_stock(
                given(received(5), reserved(4)),
                TransferStock(sku=SKU, from_location="WH1", to_location="WH2", quantity=2),
                NOW,
            )

    def test_a_transfer_to_the_same_location_is_invalid(self):
        with pytest.raises(InvalidCommand) as e:
            transfer_stock(
                given(received(5)),
                TransferStock(sku=SKU, from_location="WH1", to_location="WH1", quantity=1),
                NOW,
            )
        assert e.value.code == "same_location"

    def test_emptying_the_source_raises_its_out_of_stock_alert(self):
        events = transfer_stock(
            given(received(2)),
            TransferStock(sku=SKU, from_location="WH1", to_location="WH2", quantity=2),
            NOW,
        )
        assert (
            StockAlertRaised(
                sku=SKU, location="WH1", kind="out_of_stock", severity="critical", available=0
            )
            in events
        )


class TestThresholds:
    def test_thresholds_are_set_and_low_stock_is_raised_when_at_or_below(self):
        events = set_thresholds(
            given(received(5)),
            SetThresholds(sku=SKU, location="WH1", reorder_point=5, max_stock=20),
            NOW,
        )
        assert events == [
            ThresholdsSet(sku=SKU, location="WH1", reorder_point=5, max_stock=20),
            StockAlertRaised(
                sku=SKU, location="WH1", kind="low_stock", severity="medium", available=5
            ),
        ]

    def test_setting_the_same_thresholds_again_writes_nothing(self):
        state = given(received(9), ThresholdsSet(sku=SKU, location="WH1", reorder_point=2))
        assert (
            set_thresholds(state, SetThresholds(sku=SKU, location="WH1", reorder_point=2), NOW)
            == []
        )

    def test_receiving_above_the_reorder_point_resolves_low_stock(self):
        state = given(received(5), ThresholdsSet(sku=SKU, location="WH1", reorder_point=5))
        state = INVENTORY.fold(
            [
                StockAlertRaised(
                    sku=SKU, location="WH1", kind="low_stock", severity="medium", available=5
                )
            ],
            state,
        )
        events = receive_stock(state, ReceiveStock(sku=SKU, location="WH1", quantity=1), NOW)
        assert events[-1] == StockAlertResolved(
            sku=SKU, location="WH1", kind="low_stock", available=6
        )

    @pytest.mark.parametrize("fields", [{"reorder_point": -1}, {"reorder_quantity": 0}])
    def test_negative_thresholds_make_no_command(self, fields):
        with pytest.raises(ValidationError):
            SetThresholds(sku=SKU, location="WH1", **{"reorder_point": 1, **fields})

    def test_a_maximum_below_the_reorder_point_is_invalid(self):
        with pytest.raises(InvalidCommand) as e:
            c = SetThresholds(sku=SKU, location="WH1", reorder_point=5, max_stock=4)
            set_thresholds(given(), c, NOW)
        assert e.value.code == "invalid_thresholds"
