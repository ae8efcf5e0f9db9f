"""Handlers for the Merchant and Vendor streams (``HANDLERS``): load, decide with
``domain.merchant`` or ``domain.vendor``, append. New ids are made here and answered in
``extra["id"]``."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

from commands.context import CommandContext, Outcome
from commands.executor import execute
from commands.write_side import WriteSide
from domain.errors import NotFound, VersionMismatch
from domain.events import DomainEvent
from domain.merchant import decide
from domain.merchant.commands import ChangeCommission, MoveMerchant, RegisterMerchant
from domain.merchant.state import MERCHANT, MerchantState
from domain.vendor import decide as vendor_decide
from domain.vendor.commands import RegisterVendor
from domain.vendor.state import VENDOR


def register(w: WriteSide, c: RegisterMerchant, ctx: CommandContext) -> Outcome:
    merchant_id = uuid4()

    def decision(state: MerchantState, _v: int):
        events = decide.register(state, c, merchant_id=merchant_id, by=ctx.actor)
        return events, {"id": str(merchant_id), "status": "applied"}

    return execute(w.store, MERCHANT, merchant_id, decision, ctx)


def _on_merchant(
    w: WriteSide,
    ctx: CommandContext,
    merchant_id: UUID,
    decision: Callable[[MerchantState], list[DomainEvent]],
) -> Outcome:
    """A decision on an existing merchant, answering its status after it (``extra``); an
    unknown one is not found even under If-Match."""

    def decide_and_answer(state: MerchantState, _v: int):
        events = decision(state)
        after = state
        for event in events:
            after = MERCHANT.evolve(after, event)
        return events, {"status": after.status}

    try:
        return execute(w.store, MERCHANT, merchant_id, decide_and_answer, ctx)
    except VersionMismatch as exc:
        if exc.actual == 0:
            raise NotFound(
                f"Merchant {merchant_id} does not exist.", code="merchant_not_found"
            ) from None
        raise


def move(w: WriteSide, c: MoveMerchant, ctx: CommandContext) -> Outcome:
    return _on_merchant(w, ctx, c.merchant_id, lambda s: decide.move(s, c, by=ctx.actor))


def change_commission(w: WriteSide, c: ChangeCommission, ctx: CommandContext) -> Outcome:
    return _on_merchant(
        w, ctx, c.merchant_id, lambda s: decide.change_commission(s, c, by=ctx.actor)
    )


def register_vendor(w: WriteSide, c: RegisterVendor, ctx: CommandContext) -> Outcome:
    vendor_id = uuid4()

    def decision(state, _v: int):  # noqa: ANN001
        events = vendor_decide.register(state, c, vendor_id=vendor_id, by=ctx.actor)
        return events, {"id": str(vendor_id)}

    return execute(w.store, VENDOR, vendor_id, decision, ctx)


HANDLERS = {
    RegisterMerchant: register,
    MoveMerchant: move,
    ChangeCommission: change_commission,
    RegisterVendor: register_vendor,
}
