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
        reserved = self._resume(order_id, lines, ctx)
        if reserved is None:  # nothing held yet (or a partial hold was just released)
            reserved = self._reserve(trigger, order_id, data, lines, ctx)
            if reserved is None:
                return
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
        for alloc, rid in reserved:
            try:
                inventory.confirm(
                    self.store, ctx(f"confirm:{rid}"), sku=alloc.sku, reservation_id=rid
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
        for alloc, rid in reserved:
            inventory.release(
                self.store, ctx(f"release:{rid}"), sku=alloc.sku, reservation_id=rid, reason=reason
            )

    def _resume(self, order_id: UUID, lines: list[LineNeed], ctx):  # noqa: ANN001, ANN202
        """After a crash: the order's active reservations, if they cover every line; a partial
        hold is released (allocation is then decided afresh), so nothing is left orphaned.
        Allocation is not repeatable (our own holds changed availability), so the holds, not a
        recomputed plan, say what was reserved."""
        held: list[tuple[Allocation, UUID]] = []
        for sku in {line.sku for line in lines}:
            for r in inventory.get(self.store, sku).reservations.values():
                if r.order_id == order_id and r.status == "active":
                    held.append((Allocation(str(r.line_id), sku, r.location, r.quantity), r.id))
        if not held:
            return None
        covered = {line.line_id: 0 for line in lines}
        for alloc, _rid in held:
            covered[alloc.line_id] = covered.get(alloc.line_id, 0) + alloc.quantity
        if all(covered[line.line_id] == line.quantity for line in lines):
            return held
        self._release(ctx, held, "partial_hold_after_restart")
        return None

    def _reserve(self, trigger, order_id: UUID, data, lines, ctx):  # noqa: ANN001, ANN202
        """Allocate and reserve; ``None`` when the order was cancelled ``out_of_stock``."""
        active = self._active_locations()
        if data.get("split_location"):  # a split child is served by its part's location
            active = {k: v for k, v in active.items() if k == data["split_location"]}
        plan = allocate(lines, active, self._available(lines))
        if plan is None:
            orders.cancel(self.store, ctx("cancel"), order_id, reason="out_of_stock")
            return None
        reserved: list[tuple[Allocation, UUID]] = []
        for alloc in plan:
            rid = uuid5(order_id, f"reservation:{alloc.line_id}:{alloc.location}")
            try:
                inventory.reserve(
                    self.store,
                    ctx(f"reserve:{rid}:{alloc.quantity}"),
                    sku=alloc.sku,
                    order_id=order_id,
                    line_id=UUID(alloc.line_id),
                    location=alloc.location,
                    quantity=alloc.quantity,
                    reservation_id=rid,
                    ttl=self.settings.reservation_ttl,
                )
            except Conflict:  # units taken meanwhile, or this id was used by a released hold
                self._release(ctx, reserved, "out_of_stock")
                orders.cancel(self.store, ctx("cancel"), order_id, reason="out_of_stock")
                return None
            reserved.append((alloc, rid))
        return reserved

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
