"""The returns manager: the money and stock that follow a return or a client's refund, so no
request waits on the payment gateway.

- ``ReturnReceived`` → restock each part once, ``LinesReturned`` on the order, then the refund
  (``RefundRequested``, the gateway, ``RefundSucceeded`` or ``RefundFailed``), and the return
  ``ReturnRefunded`` or ``ReturnRefundFailed`` (``commands.returns.settle``).
- ``ReturnRefundRetried`` → whatever of that was not done, and the refund again, as its attempt
  number says.
- ``RefundRequested`` that a client asked for (``deferred``) → the gateway, then
  ``RefundSucceeded`` or ``RefundFailed`` (``SettleRefund``, ``commands.payments.settle_refund``).

Every step is keyed by the return id (or the refund id), so after a crash the manager replays
from its stored position and writes nothing twice. A return whose steps keep failing and are
parked ends with its refund ``failed`` (``on_parked``), to be retried by receiving it again; a
client's refund that is parked stays in flight, with the parked record's alert, since the
gateway may have moved the money. Gateway calls retry with the configured policy. It writes
through its write side (``store`` and ``gateway`` are that write side's) and stamps its steps
with its clock when it takes up the event."""

from __future__ import annotations

from uuid import UUID

from commands import payments, returns
from commands.context import Clock, system_clock
from commands.executor import load
from commands.process_manager import Trigger, WritingManager
from commands.write_side import WriteSide
from domain.payment.commands import SettleRefund
from domain.payment.state import PAYMENT


class ReturnsManager(WritingManager):
    name = "returns"
    topics = ("return.ReturnReceived", "return.ReturnRefundRetried", "payment.RefundRequested")

    def __init__(
        self,
        write: WriteSide,
        retry: payments.RetryPolicy = payments.RetryPolicy(),
        clock: Clock = system_clock,
    ):
        self.write, self.retry, self.clock = write, retry, clock

    def handle(self, trigger: Trigger) -> None:
        e = trigger.event
        ctx = trigger.context("returns", now=self.clock())
        match e.type:
            case "return.ReturnReceived":
                returns.settle(self.write, ctx, e.stream_id, 0, self.retry)
            case "return.ReturnRefundRetried":
                returns.settle(self.write, ctx, e.stream_id, e.data["attempt"], self.retry)
            case "payment.RefundRequested" if e.data.get("deferred"):
                order_id = load(self.store, PAYMENT, e.stream_id).state.order_id
                assert order_id is not None  # a refund needs a capture, hence an authorization
                settle = SettleRefund(
                    order_id=order_id,
                    refund_id=UUID(e.data["refund_id"]),
                    reason=e.data["reason"],
                )
                payments.settle_refund(
                    self.write,
                    settle,
                    trigger.context(f"refund:{e.data['refund_id']}", now=ctx.now),
                    retry=self.retry,
                )

    def on_parked(self, trigger: Trigger, error: str) -> None:
        """A return's steps were parked: its refund ends ``failed`` (see
        ``commands.returns.give_up``). A client's refund is left in flight."""
        e = trigger.event
        match e.type:
            case "return.ReturnReceived":
                attempt = 0
            case "return.ReturnRefundRetried":
                attempt = e.data["attempt"]
            case _:
                return
        ctx = trigger.context("returns:parked", now=self.clock())
        returns.give_up(self.write, ctx, e.stream_id, attempt)
