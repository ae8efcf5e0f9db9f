"""The line edit manager: carries out the line edits the order records as requested
(``LineEditRequested``, from ``commands/line_edits.py``), one at a time per order.

For each edit, in order, every step keyed by the edit's id (``steps``, scope
``line_edit:<edit id>``; the gateway key ``line_edit:<edit id>``), so a manager killed after
any step and run again repeats none:

1. release the reservations of a line that shrinks or goes (``plan_edit``);
2. reserve what grows (or what stays of a line that shrank) at the first location that has it:
   where the line is held, then where the order is, then every active location by preference
   (the write side's locations directory); the reservation's id is derived from the edit, the
   line and the location, so a repeat finds the one it made;
3. ask the gateway to authorize the new total when it grows (the configured payment
   ``RetryPolicy``: its timeout and retries), then record the adjusted authorization;
4. record the edit on the order (``OrderModified`` and ``LinesRevised``), then revise the
   fulfillment plans to the new allocations (``fulfillment.sync_plans``).

When there is not enough stock, the gateway declines, or the order can no longer be edited
(cancelled, split, picking started meanwhile), what the edit reserved is released, an
authorization it raised is set back, and ``LineEditRejected{edit_id, reason}`` is recorded so
the client sees why. (Reservations released in step 1 are not taken again: a shrink whose
re-reservation finds the units gone meanwhile is rejected ``insufficient_stock`` with the
line's earlier reservations released.) An edit whose step keeps failing is parked and
rejected ``processing_failed``, releasing what it reserved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from commands import fulfillment, inventory, orders, payments
from commands.context import Clock, system_clock
from commands.executor import execute
from commands.location_directory import LocationDirectory
from commands.payments import RetryPolicy
from commands.process_manager import Trigger, WritingManager
from commands.steps import StepContext, steps
from commands.write_side import WriteSide
from domain.errors import DomainError, InsufficientStock
from domain.inventory.commands import ReleaseReservation, ReserveStock
from domain.order import line_edits as decide
from domain.order.events import LineEditRequested
from domain.order.state import ORDER, OrderState
from domain.payment.commands import AdjustAuthorization

PROCESSING_FAILED = "processing_failed"


def reservation_id(order_id: UUID, edit_id: UUID, line_id: str, location: str) -> UUID:
    """The reservation an edit makes for a line at a location."""
    return uuid5(order_id, f"line_edit:{edit_id}:{line_id}:{location}")


def _locations_of(state: OrderState) -> set[str]:
    return {str(a["location"]) for a in state.allocations}


class LineEditManager(WritingManager):
    name = "line_edits"
    topics = ("order.LineEditRequested",)

    def __init__(
        self,
        write: WriteSide,
        *,
        retry: RetryPolicy = RetryPolicy(),
        clock: Clock = system_clock,
    ):
        self.write, self.retry, self.clock = write, retry, clock

    @property
    def locations(self) -> LocationDirectory:
        return self.write.locations

    def _dropship(self) -> set[str]:
        """The dropship locations (a plan there is the vendor's: strategy ``dropship``)."""
        return set(self.locations.dropship_vendors())

    def _steps(self, trigger: Trigger) -> tuple[UUID, UUID, StepContext]:
        e = trigger.event
        order_id, edit_id = e.stream_id, UUID(str(e.data["edit_id"]))
        ctx = trigger.context("line_edit", now=self.clock())
        return order_id, edit_id, steps(ctx, f"line_edit:{edit_id}")

    def handle(self, trigger: Trigger) -> None:
        order_id, edit_id, step = self._steps(trigger)
        state = orders.get(self.store, order_id)
        match state.edit_status(edit_id):
            case "applied":  # recorded before a crash: the plans may still lag behind
                before, _v = orders.state_at(self.store, order_id, version=trigger.event.version)
                fulfillment.sync_plans(
                    self.store, step, order_id, _locations_of(before), self._dropship()
                )
            case "pending":
                self._carry_out(step, order_id, edit_id, state)
            case _:
                return  # rejected: nothing left to do

    # ---- the steps -----------------------------------------------------------------------

    def _carry_out(
        self, step: StepContext, order_id: UUID, edit_id: UUID, state: OrderState
    ) -> None:
        edit = decide.pending(state, edit_id)
        assert edit is not None
        try:
            decide.require_editable(state, order_id)
        except DomainError as err:
            self._reject(step, order_id, edit_id, err)
            return
        plan = decide.plan_edit(state, edit)
        previous = _locations_of(state)
        for i, a in enumerate(plan.release):
            release = ReleaseReservation(
                sku=str(a["sku"]), reservation_id=str(a["reservation_id"]), reason="edited"
            )
            inventory.release(self.write, release, step(f"release:{i}"))
        added = None
        if plan.reserve:
            try:
                added = self._reserve(step, state, order_id, edit_id, plan)
            except InsufficientStock as err:
                self._reject(step, order_id, edit_id, err)
                return
        assert state.total is not None
        authorized = state.total.amount  # what is held for the order before the edit
        try:
            self._authorize(step, order_id, edit_id, plan.total)
            execute(
                self.store, ORDER, order_id,
                lambda s, _v: decide.apply_edit(s, order_id, edit_id=edit_id, added=added),
                step("apply"),
            )  # fmt: skip
        except DomainError as err:
            self._undo(step, order_id, plan.sku, added, authorized)
            self._reject(step, order_id, edit_id, err)
            return
        fulfillment.sync_plans(self.store, step, order_id, previous, self._dropship())

    def _reserve(
        self,
        step: StepContext,
        state: OrderState,
        order_id: UUID,
        edit_id: UUID,
        plan: decide.EditPlan,
    ) -> dict[str, Any]:
        """Reserve ``plan.reserve`` units for the line at the first candidate location that
        has them (the one this edit reserved before, after a crash); its allocation."""
        line_id, sku, qty = plan.line_id, plan.sku, plan.reserve
        stock = inventory.get(self.store, sku)
        candidates = self._candidates(state, line_id)
        for code in candidates:  # a reservation this edit made before it was stopped
            rid = reservation_id(order_id, edit_id, line_id, code)
            if rid in stock.reservations:
                return {"line_id": line_id, "sku": sku, "location": code, "quantity": qty,
                        "reservation_id": str(rid)}  # fmt: skip
        for code in candidates:
            if stock.level(code).available < qty:
                continue
            rid = reservation_id(order_id, edit_id, line_id, code)
            reserve = ReserveStock(
                sku=sku, reservation_id=rid, order_id=order_id, line_id=UUID(line_id),
                location=code, quantity=qty, expires_at=None,
            )  # fmt: skip
            try:
                inventory.reserve(self.write, reserve, step(f"reserve:{code}"))
            except InsufficientStock:
                continue
            return {"line_id": line_id, "sku": sku, "location": code, "quantity": qty,
                    "reservation_id": str(rid)}  # fmt: skip
        raise InsufficientStock(
            f"No location has {qty} more units of '{sku}' available.",
            details={"sku": sku, "requested": qty},
        )

    def _candidates(self, state: OrderState, line_id: str) -> list[str]:
        """Where to reserve for ``line_id``: where the line is held, then where the order
        is, then every active location, preferred first (from the Location streams)."""
        mine = [str(a["location"]) for a in state.allocations if a["line_id"] == line_id]
        order = [str(a["location"]) for a in state.allocations]
        seen: list[str] = []
        for code in [*mine, *order, *self.locations.by_preference()]:
            if code not in seen:
                seen.append(code)
        return seen

    def _authorize(self, step: StepContext, order_id: UUID, edit_id: UUID, total: Decimal) -> None:
        """Hold ``total`` instead (``AdjustAuthorization``): asking the gateway when it grows
        (once per edit: the same key answers the same), then recording the adjusted
        authorization."""
        payments.adjust_authorization(
            self.write,
            AdjustAuthorization(
                order_id=order_id, amount=total, reason="order_edited", edit_id=edit_id
            ),
            step("adjust_authorization"),
            retry=self.retry,
        )

    # ---- compensations -------------------------------------------------------------------

    def _undo(
        self,
        step: StepContext,
        order_id: UUID,
        sku: str,
        added: dict[str, Any] | None,
        authorized: Decimal,
    ) -> None:
        """Release what the edit reserved; set an authorization it adjusted back."""
        if added is not None:
            release = ReleaseReservation(
                sku=sku, reservation_id=str(added["reservation_id"]), reason="edit_rejected"
            )
            inventory.release(self.write, release, step("undo:reserve"))
        pay = payments.get(self.store, order_id)
        if pay.authorized != authorized and pay.status == "authorized" and pay.captured == 0:
            payments.adjust_authorization(
                self.write,
                AdjustAuthorization(
                    order_id=order_id, amount=authorized, reason="order_edit_rejected"
                ),
                step("undo:authorization"),
            )

    def _reject(self, step: StepContext, order_id: UUID, edit_id: UUID, err: DomainError) -> None:
        self._record_rejection(step, order_id, edit_id, err.code, str(err))

    def _record_rejection(
        self, step: StepContext, order_id: UUID, edit_id: UUID, reason: str, message: str
    ) -> None:
        execute(
            self.store, ORDER, order_id,
            lambda s, _v: decide.reject_edit(s, edit_id=edit_id, reason=reason, message=message),
            step("reject"),
        )  # fmt: skip

    # ---- a parked edit -------------------------------------------------------------------

    def on_parked(self, trigger: Trigger, error: str) -> None:
        """The edit's step kept failing: release what it reserved and reject it
        ``processing_failed``, so it never stays pending unseen. (An authorization it raised
        stays until the order is captured, voided or edited again.)"""
        order_id, edit_id, step = self._steps(trigger)
        state = orders.get(self.store, order_id)
        edit = decide.pending(state, edit_id)
        if edit is None:
            return
        self._release_made(step, order_id, edit)
        self._record_rejection(step, order_id, edit_id, PROCESSING_FAILED, error[:500])

    def _release_made(self, step: StepContext, order_id: UUID, edit: LineEditRequested) -> None:
        stock = inventory.get(self.store, edit.sku)
        for r in stock.of_order(order_id):
            mine = reservation_id(order_id, edit.edit_id, edit.line_id, r.location)
            if r.id == mine and r.status == "active":
                release = ReleaseReservation(
                    sku=edit.sku, reservation_id=r.id, reason=PROCESSING_FAILED
                )
                inventory.release(self.write, release, step(f"parked:release:{r.location}"))
