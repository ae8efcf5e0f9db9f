"""Decisions of the Promotion aggregate: create (every input checked, each refusal with its
own code) and the lifecycle ``draft → active ⇄ paused → ended`` (any other move is
``409 illegal_transition``)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.money import minor_unit
from domain.promotion import commands as cmd
from domain.promotion import events as ev
from domain.promotion.state import PromotionState

CODE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
SKU = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SEGMENT = re.compile(r"^[a-z0-9_-]{1,64}$")
#: A percentage has at most this many decimals.
PERCENT_PLACES = 2

NEXT: dict[str, tuple[str, ...]] = {
    "draft": ("active",),
    "active": ("paused", "ended"),
    "paused": ("active", "ended"),
    "ended": (),
}


def _decimal(raw: object, field: str, code: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    # Bounds first, on the exponent (no arithmetic: 1e999999999 overflows the context).
    if not value.is_finite() or value.adjusted() >= 12 or value.as_tuple().exponent < -20:
        raise InvalidCommand(
            f"{field} is not a number below 10^12 written with at most 20 decimals.",
            code=code,
            details={"field": field},
        )
    return Decimal(f"{value:f}")  # written out: 1E+1 is 10


def _money(raw: cmd.MoneyValue, field: str, *, positive: bool) -> Decimal:
    amount = _decimal(raw.amount, field, "invalid_amount")
    if amount < 0 or (positive and amount == 0):
        which = "positive" if positive else "zero or more"
        raise InvalidCommand(
            f"{field} must be {which}.", code="negative_amount", details={"field": field}
        )
    unit = minor_unit(raw.currency)
    if amount != amount.quantize(unit):
        raise InvalidCommand(
            f"{field} has more decimals than {raw.currency} has.",
            code="amount_too_precise",
            details={"field": field, "currency": raw.currency},
        )
    return amount.quantize(unit)


def _value(c: cmd.CreatePromotion) -> tuple[Decimal, str | None]:
    if c.kind == "fixed_amount":
        if not isinstance(c.value, cmd.MoneyValue):
            raise InvalidCommand(
                "A fixed amount is money: {amount, currency}.",
                code="invalid_value",
                details={"field": "value"},
            )
        return _money(c.value, "value", positive=True), c.value.currency
    if isinstance(c.value, cmd.MoneyValue):
        raise InvalidCommand(
            "A percentage is a number from 0 to 100.",
            code="invalid_value",
            details={"field": "value"},
        )
    percent = _decimal(c.value, "value", "invalid_percentage")
    if not Decimal(0) < percent <= Decimal(100) or percent.as_tuple().exponent < -PERCENT_PLACES:  # type: ignore[operator]
        raise InvalidCommand(
            f"A percentage lies above 0 and at most 100, with at most {PERCENT_PLACES} decimals.",
            code="invalid_percentage",
            details={"field": "value", "value": str(c.value)},
        )
    return percent, None


def _conditions(c: cmd.CreatePromotion, currency: str | None) -> tuple[ev.Conditions, str | None]:
    k = c.conditions
    min_subtotal = None
    if k.min_subtotal is not None:
        min_subtotal = _money(k.min_subtotal, "conditions.min_subtotal", positive=False)
        if currency is not None and currency != k.min_subtotal.currency:
            raise InvalidCommand(
                "The minimum subtotal is not in the promotion's currency.",
                code="currency_mismatch",
                details={"field": "conditions.min_subtotal"},
            )
        currency = k.min_subtotal.currency
    for i, sku in enumerate(k.skus):
        if not SKU.fullmatch(sku):
            raise InvalidCommand(
                f"'{sku}' is not a SKU.",
                code="invalid_sku",
                details={"field": f"conditions.skus[{i}]"},
            )
    for i, segment in enumerate(k.segments):
        if not SEGMENT.fullmatch(segment):
            raise InvalidCommand(
                f"'{segment}' is not a segment name (lower-case letters, digits, _ and -).",
                code="invalid_segment",
                details={"field": f"conditions.segments[{i}]"},
            )
    conditions = ev.Conditions(
        min_subtotal=min_subtotal,
        skus=tuple(dict.fromkeys(k.skus)),
        category_ids=tuple(dict.fromkeys(k.category_ids)),
        segments=tuple(dict.fromkeys(k.segments)),
        first_order_only=k.first_order_only,
    )
    return conditions, currency


def check_code(code: str) -> None:
    if not CODE.fullmatch(code):
        raise InvalidCommand(
            "A code is 3 to 32 letters, digits, '_' or '-'.",
            code="invalid_code",
            details={"field": "code"},
        )


def create_promotion(
    state: PromotionState, c: cmd.CreatePromotion, *, by: str
) -> list[DomainEvent]:
    """A new promotion in ``draft``; nothing written when any input is bad."""
    if state.exists:
        raise Conflict("This promotion exists already.", code="promotion_exists")
    if c.code is not None:
        check_code(c.code)
    value, currency = _value(c)
    conditions, currency = _conditions(c, currency)
    if c.valid_from is not None and c.valid_to is not None and c.valid_to <= c.valid_from:
        raise InvalidCommand(
            "The validity window ends before it starts.",
            code="invalid_window",
            details={"valid_from": c.valid_from.isoformat(), "valid_to": c.valid_to.isoformat()},
        )
    return [
        ev.PromotionCreated(
            name=c.name,
            code=c.code,
            target=c.target,
            kind=c.kind,
            value=value,
            currency=currency,
            conditions=conditions,
            valid_from=c.valid_from,
            valid_to=c.valid_to,
            usage_limit=c.usage_limit,
            per_customer_limit=c.per_customer_limit,
            stackable=c.stackable,
            created_by=by,
        )
    ]


def _move(state: PromotionState, to: str) -> None:
    if not state.exists:
        raise NotFound("No such promotion.", code="promotion_not_found")
    if to not in NEXT[state.status]:
        raise IllegalTransition("promotion", state.status, to)


def activate(state: PromotionState, _c: cmd.ActivatePromotion, *, by: str) -> list[DomainEvent]:
    """Activating an active promotion changes nothing."""
    if state.exists and state.status == "active":
        return []
    _move(state, "active")
    return [ev.PromotionActivated(activated_by=by)]


def pause(state: PromotionState, _c: cmd.PausePromotion, *, by: str) -> list[DomainEvent]:
    if state.exists and state.status == "paused":
        return []
    _move(state, "paused")
    return [ev.PromotionPaused(paused_by=by)]


def end(state: PromotionState, _c: cmd.EndPromotion, *, by: str) -> list[DomainEvent]:
    if state.exists and state.status == "ended":
        return []
    _move(state, "ended")
    return [ev.PromotionEnded(ended_by=by)]
