"""The order placement saga: ``OrderPlaced`` → allocate → reserve (with a time limit) →
authorize payment → confirm reservations → ``OrderConfirmed``.

Compensations: no stock → release what was reserved, cancel ``out_of_stock``; payment declined
or timed out → release every reservation, cancel ``payment_declined``; a reservation expired
before confirmation → release, void, cancel ``reservation_expired``. Every command carries the
order id as correlation id and the triggering event as causation id, and an idempotency key per
step, so a replay after a crash repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid5

from psycopg_pool import ConnectionPool

from commands import inventory, orders, payments
from commands.payment_gateway import PaymentGateway
from commands.process_manager import ProcessManager, Trigger
from domain.allocation import Allocation, LineNeed, allocate
from domain.errors import Conflict
from eventstore.store import EventStore


@dataclass(frozen=True)
class SagaSettings:
    reservation_ttl: timedelta = timedelta(hours=2)
    payment_retry: payments.RetryPolicy = payments.RetryPolicy()


class OrderPlacementSaga(ProcessManager):
    name = "order_placement"
    topics = ("order.OrderPlaced",)
    concurrency = 4  # orders are independent; stock conflicts are re-decided by the executor

    def __init__(
        self,
        store: EventStore,
        pool: ConnectionPool,
        gateway: PaymentGateway,
        settings: SagaSettings = SagaSettings(),
    ):
        self.store, self.pool, self.gateway, self.settings = store, pool, gateway, settings

    # ---- the steps -----------------------------------------------------------------------

    def handle(self, trigger: Trigger) -> None:
        order_id = trigger.event.stream_id
        data = trigger.event.data
        corr = str(order_id)
        ctx = lambda step: trigger.context(step, correlation_id=corr)  # noqa: E731
        current = orders.get(self.store, order_id)
        if current.split or current.cancelled or current.confirmed:
            return  # frozen by a split, cancelled or decided already: nothing to place
        lines = [LineNeed(line["line_id"], line["sku"], line["quantity"]) for line in data["lines"]]
        active = self._active_locations()
        if data.get("split_location"):  # a split child is served by its part's location
            active = {k: v for k, v in active.items() if k == data["split_location"]}
        plan = allocate(lines, active, self._available(lines))
        if plan is None:
            orders.cancel(self.store, ctx("cancel"), order_id, reason="out_of_stock")
            return
        reserved: list[tuple[Allocation, UUID]] = []
        for i, alloc in enumerate(plan):
            rid = uuid5(order_id, f"reservation:{alloc.line_id}:{alloc.location}")
            try:
                inventory.reserve(
                    self.store,
                    ctx(f"reserve:{i}"),
                    sku=alloc.sku,
                    order_id=order_id,
                    line_id=UUID(alloc.line_id),
                    location=alloc.location,
                    quantity=alloc.quantity,
                    reservation_id=rid,
                    ttl=self.settings.reservation_ttl,
                )
            except Conflict:  # someone took the units between allocation and reservation
                self._release(ctx, reserved, "out_of_stock")
                orders.cancel(self.store, ctx("cancel"), order_id, reason="out_of_stock")
                return
            reserved.append((alloc, rid))
        total = data["total"]
        auth = payments.authorize(
            self.store,
            self.gateway,
            ctx("authorize"),
            order_id=order_id,
            amount=Decimal(total["amount"]),
            currency=total["currency"],
            token=data["payment"]["token"],
            retry=self.settings.payment_retry,
        )
        if not auth.extra.get("approved"):
            self._release(ctx, reserved, "payment_declined")
            orders.cancel(self.store, ctx("cancel"), order_id, reason="payment_declined")
            return
        for i, (alloc, rid) in enumerate(reserved):
            try:
                inventory.confirm(
                    self.store, ctx(f"confirm:{i}"), sku=alloc.sku, reservation_id=rid
                )
            except Conflict:
                self._release(ctx, reserved, "reservation_expired")
                payments.void(
                    self.store,
                    self.gateway,
                    ctx("void"),
                    order_id=order_id,
                    reason="reservation_expired",
                )
                orders.cancel(self.store, ctx("cancel"), order_id, reason="reservation_expired")
                return
        orders.confirm(
            self.store,
            ctx("confirm_order"),
            order_id,
            allocations=[
                {
                    "line_id": a.line_id,
                    "sku": a.sku,
                    "location": a.location,
                    "quantity": a.quantity,
                    "reservation_id": str(rid),
                }
                for a, rid in reserved
            ],
        )

    def _release(self, ctx, reserved: list[tuple[Allocation, UUID]], reason: str) -> None:  # noqa: ANN001
        for i, (alloc, rid) in enumerate(reserved):
            inventory.release(
                self.store, ctx(f"release:{i}"), sku=alloc.sku, reservation_id=rid, reason=reason
            )

    # ---- what allocation reads -----------------------------------------------------------

    def _active_locations(self) -> dict[str, int]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT code, priority FROM rm_locations.locations WHERE active"
            ).fetchall()
        return {code: priority for code, priority in rows}

    def _available(self, lines: list[LineNeed]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for sku in {line.sku for line in lines}:
            state = inventory.get(self.store, sku)
            out[sku] = {code: level.available for code, level in state.levels.items()}
        return out
