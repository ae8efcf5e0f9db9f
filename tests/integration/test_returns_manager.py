"""Returns and client refunds without a gateway call in the request: receiving a return and
asking for a refund each write only their intent (``ReturnReceived``, a deferred
``RefundRequested``); the returns manager, taking up those events, restocks, records the lines
returned and moves the money. A refund that failed is asked again through the same manager,
and goes through once the gateway works again."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from uuid import UUID

from commands import inventory, orders, payments, returns
from commands.context import CommandContext
from commands.payment_gateway import SandboxGateway
from commands.process_manager import Trigger
from commands.returns_manager import ReturnsManager
from domain.ids import payment_stream
from domain.payment.commands import MoneyAmount, RequestRefund
from domain.returns.commands import ReceiveReturn
from projections.payments_ledger import ledger
from tests.factories import send
from tests.integration.test_process_manager_crash_safety import (
    _delivered_orders,
    _location,
    _return_of,
)

FAST = payments.RetryPolicy(attempts=2, base_delay_s=0.01)


class RecoveredGateway(SandboxGateway):
    """The sandbox once the gateway works again: ``tok_refund_fails`` refunds go through."""

    def _unwind_fails(self, authorization_ref: str) -> None:
        return None


def _written_since(store, head: int) -> list[str]:  # noqa: ANN001
    return [e.type for e in store.read_all(after=head, limit=100)]


def _refunds(container, order_id: UUID) -> list[tuple[str, str]]:  # noqa: ANN001
    """The order's refunds as the payments ledger lists them: (amount, status)."""
    return [(x["amount"], x["status"]) for x in ledger(container.pool, order_id)["refunds"]]


def _take_up(manager: ReturnsManager, store, stream_id: UUID, after: int) -> None:  # noqa: ANN001
    """The manager handles the stream's events written after position ``after``."""
    for e in store.load_with_positions(stream_id):
        if e.position > after and e.type in manager.topics:
            manager.handle(Trigger(manager.name, e))


def test_a_receipt_and_a_refund_request_write_only_their_intent(container):
    store = container.store
    location = _location(container)
    made = _delivered_orders(container, location)
    return_id = _return_of(container, made.returned)
    ctx = CommandContext.new("clerk")

    # When the return is received, with a restock
    head = store.head()
    got = send(container, ReceiveReturn(return_id=return_id, restock=True, location=location), ctx)
    # Then only the receipt is written, and the refund is pending
    assert _written_since(store, head) == ["return.ReturnReceived"]
    assert got.extra == {"id": str(return_id), "status": "received", "refund": "pending"}

    # When a client asks for a refund
    head = store.head()
    amount = MoneyAmount(amount="5.00", currency="USD")
    asked = send(container, RequestRefund(order_id=made.refunded, amount=amount), ctx)
    # Then only the refund request is written, in flight, deferred to the manager
    assert _written_since(store, head) == ["payment.RefundRequested"]
    assert asked.extra["status"] == "pending"
    pay = payments.get(store, made.refunded)
    assert pay.refunded == 0 and pay.in_flight_amount(UUID(asked.extra["id"])) == Decimal("5.00")
    # and the payments ledger shows it pending
    container.runner.catch_up(["payments_ledger"])
    assert _refunds(container, made.refunded) == [("5.00", "pending")]

    # When the returns manager takes up both
    manager = ReturnsManager(container.dispatcher.write, FAST)
    _take_up(manager, store, return_id, 0)
    _take_up(manager, store, payment_stream(made.refunded), 0)
    # Then the return is restocked, counted returned and refunded, and the client's refund too
    state, _ = returns.get(store, return_id)
    assert (state.status, state.refund) == ("refunded", "succeeded")
    assert state.refunded > 0
    [line] = orders.get(store, made.returned).lines
    assert line.returned == 1
    assert payments.get(store, made.returned).refunded == state.refunded
    assert payments.get(store, made.refunded).refunded == Decimal("5.00")
    container.runner.catch_up(["payments_ledger"])
    assert _refunds(container, made.refunded) == [("5.00", "succeeded")]  # one entry, settled
    # and taking them up again writes nothing
    head = store.head()
    _take_up(manager, store, return_id, 0)
    _take_up(manager, store, payment_stream(made.refunded), 0)
    assert _written_since(store, head) == []


def test_a_failed_refund_is_asked_again_and_goes_through_once_the_gateway_works(container):
    store = container.store
    made = _delivered_orders(container, _location(container))
    return_id = _return_of(container, made.retried)  # paid with tok_refund_fails
    ctx = CommandContext.new("clerk")
    manager = ReturnsManager(container.dispatcher.write, FAST)

    # Given a received return whose refund failed
    send(container, ReceiveReturn(return_id=return_id, restock=False), ctx)
    _take_up(manager, store, return_id, 0)
    state, _ = returns.get(store, return_id)
    assert (state.status, state.refund, state.refunded) == ("received", "failed", 0)

    # When it is received again, then only the retry is written
    head = store.head()
    again = send(container, ReceiveReturn(return_id=return_id, restock=False), ctx)
    assert _written_since(store, head) == ["return.ReturnRefundRetried"]
    assert again.extra["refund"] == "pending"

    # When the manager takes it up once the gateway works again
    recovered = ReturnsManager(
        replace(container.dispatcher.write, gateway=RecoveredGateway()), FAST
    )
    _take_up(recovered, store, return_id, head)
    # Then it is refunded, under a new refund id
    state, _ = returns.get(store, return_id)
    assert (state.status, state.refund) == ("refunded", "succeeded")
    pay = payments.get(store, made.retried)
    assert pay.refunded == state.refunded > 0
    assert len(pay.failed_refunds) == 1 and len(pay.refund_ids) == 2


def test_a_return_whose_steps_were_parked_shows_its_refund_failed_and_a_retry_does_them_all(
    container,
):
    store = container.store
    location = _location(container)
    made = _delivered_orders(container, location)
    return_id = _return_of(container, made.returned)
    ctx = CommandContext.new("clerk")
    manager = ReturnsManager(container.dispatcher.write, FAST)
    on_hand = inventory.get(store, made.sku).totals()["on_hand"]

    # Given a received return whose steps kept failing and were parked, none of them done
    send(container, ReceiveReturn(return_id=return_id, restock=True, location=location), ctx)
    [received] = [e for e in store.load_with_positions(return_id) if e.type in manager.topics]
    manager.on_parked(Trigger(manager.name, received), "it kept failing")
    # Then the return shows its refund failed, not pending for ever, and nothing else moved
    state, _ = returns.get(store, return_id)
    assert (state.status, state.refund) == ("received", "failed")
    assert inventory.get(store, made.sku).totals()["on_hand"] == on_hand
    assert payments.get(store, made.returned).in_flight == ()

    # When it is received again and the manager takes up the retry
    head = store.head()
    send(container, ReceiveReturn(return_id=return_id, restock=False), ctx)
    _take_up(manager, store, return_id, head)
    # Then every step is done once: restocked, lines returned, refunded
    state, _ = returns.get(store, return_id)
    assert (state.status, state.refund) == ("refunded", "succeeded")
    assert inventory.get(store, made.sku).totals()["on_hand"] == on_hand + 1
    assert orders.get(store, made.returned).lines[0].returned == 1
    assert payments.get(store, made.returned).refunded == state.refunded > 0
