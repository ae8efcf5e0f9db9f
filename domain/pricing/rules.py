"""What a pricing rule is, and how its input is checked.

A rule has a type (``RULE_TYPES``), a scope (SKUs, products, categories: any of them matches;
an empty scope matches every SKU), a configuration whose shape its type gives, a priority
(higher wins), a validity window ``[valid_from, valid_to)`` and an active flag.

Configurations, as the API writes them (a price is money in the rule's one currency; a
percentage a number or a decimal string):

- ``tiered``: ``{tiers: [{min, max|null, price|percent_off}]}``, ``min ≤ quantity ≤ max``,
  ``max`` null is open-ended; tiers never overlap.
- ``segment``: ``{segments: {name: {price}|{percent_off}}}``.
- ``geographic``: ``{regions: {"US" or "US-CA": {price}|{percent_adjust}}}``; the most
  specific key that matches the shipping address wins within the rule.
- ``time_based``: ``{price|percent_off, schedule?: [{weekday 0-6 (Monday 0), from "HH:MM",
  to "HH:MM"}]}`` in UTC; ``to`` before ``from`` runs past midnight into the next day, ``to``
  may be ``"24:00"``. It needs a schedule or a validity window.
- ``cost_plus``: ``{cost, markup_percent}``: cost × (1 + markup ÷ 100).

``check_rule`` turns a type and its raw configuration into a ``PricingRule`` (and the
normalised configuration the events keep), or refuses with a precise code:
``unknown_rule_type``, ``invalid_config``, ``invalid_tier``, ``overlapping_tiers``,
``percent_out_of_range``, ``negative_money``, ``money_precision``, ``currency_mismatch``,
``invalid_region``, ``invalid_segment``, ``invalid_schedule``, ``time_window_required``,
``invalid_validity``, ``negative_price``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.command import Sku
from domain.errors import InvalidCommand
from domain.money import Money, minor_unit

RULE_TYPES = ("tiered", "segment", "geographic", "time_based", "cost_plus")
SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_AMOUNT = re.compile(r"^-?[0-9]{1,12}(\.[0-9]{1,12})?$")
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
DAY_MINUTES = 24 * 60


class RuleScope(BaseModel):
    """What a rule applies to: a SKU it lists, a product it lists, or a product in a category
    it lists. All empty: every SKU."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skus: Annotated[list[Sku], Field(max_length=1000)] = []
    product_ids: Annotated[list[UUID], Field(max_length=1000)] = []
    category_ids: Annotated[list[UUID], Field(max_length=1000)] = []


# ---- the rule as decisions use it ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A fixed price, or a signed percentage change of the base price (``-10`` is 10 % off)."""

    price: Money | None = None
    percent: Decimal = Decimal(0)

    def applied_to(self, base: Decimal) -> Decimal:
        """The unrounded price this adjustment gives a base price."""
        if self.price is not None:
            return self.price.amount
        return base * (1 + self.percent / 100)


@dataclass(frozen=True, slots=True)
class Tier:
    min: int
    max: int | None
    adjustment: Adjustment


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """``[start, end)`` in minutes from the start of ``weekday`` (Monday 0), UTC; ``end`` may
    pass 1440 (the window runs into the next day)."""

    weekday: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PricingRule:
    rule_id: UUID
    name: str
    rule_type: str
    priority: int
    skus: frozenset[str] = frozenset()
    product_ids: frozenset[UUID] = frozenset()
    category_ids: frozenset[UUID] = frozenset()
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    active: bool = True
    #: The currency of the rule's money (None: percentages only, any currency).
    currency: str | None = None
    tiers: tuple[Tier, ...] = ()
    #: segment name or region key → adjustment (``segment``, ``geographic``).
    by_key: dict[str, Adjustment] = field(default_factory=dict)
    #: ``time_based``: the adjustment and the weekly windows (none: the validity alone).
    adjustment: Adjustment | None = None
    schedule: tuple[WeeklyWindow, ...] = ()
    #: ``cost_plus``.
    cost: Money | None = None
    markup_percent: Decimal = Decimal(0)


# ---- the input's shape --------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _MoneyIn(_In):
    amount: str
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


_Percent = Annotated[Decimal, Field(max_digits=12, decimal_places=4, allow_inf_nan=False)]


class _PriceOrOff(_In):
    price: _MoneyIn | None = None
    percent_off: _Percent | None = None


class _PriceOrAdjust(_In):
    price: _MoneyIn | None = None
    percent_adjust: _Percent | None = None


_Count = Annotated[int, Field(le=1_000_000_000)]


class _TierIn(_PriceOrOff):
    min: _Count
    max: _Count | None = None


class _WindowIn(_In):
    weekday: _Count
    from_: Annotated[str, Field(alias="from")]
    to: str


class _Tiered(_In):
    tiers: Annotated[list[_TierIn], Field(min_length=1, max_length=100)]


class _Segment(_In):
    segments: Annotated[dict[str, _PriceOrOff], Field(min_length=1, max_length=100)]


class _Geographic(_In):
    regions: Annotated[dict[str, _PriceOrAdjust], Field(min_length=1, max_length=500)]


class _TimeBased(_PriceOrOff):
    schedule: Annotated[list[_WindowIn], Field(max_length=100)] | None = None


class _CostPlus(_In):
    cost: _MoneyIn
    markup_percent: _Percent


_SHAPES: dict[str, type[_In]] = {
    "tiered": _Tiered,
    "segment": _Segment,
    "geographic": _Geographic,
    "time_based": _TimeBased,
    "cost_plus": _CostPlus,
}


# ---- checking ------------------------------------------------------------------------------


def _bad(code: str, message: str, **details: Any) -> InvalidCommand:
    return InvalidCommand(message, code=code, details=details or None)


class _Currencies:
    """The one currency of a rule's money."""

    def __init__(self) -> None:
        self.seen: str | None = None

    def money(self, m: _MoneyIn, where: str) -> Money:
        if not _AMOUNT.fullmatch(m.amount):
            raise _bad("invalid_config", f"{where}: amount is not a decimal.", field=where)
        try:
            amount = Decimal(m.amount)
        except InvalidOperation:  # pragma: no cover - the pattern admits decimals only
            raise _bad("invalid_config", f"{where}: amount is not a decimal.") from None
        if amount < 0:
            raise _bad("negative_money", f"{where}: money is never negative.", field=where)
        if amount % minor_unit(m.currency):
            raise _bad(
                "money_precision",
                f"{where}: {m.currency} amounts are multiples of {minor_unit(m.currency)}.",
                field=where,
            )
        if self.seen is not None and self.seen != m.currency:
            raise _bad(
                "currency_mismatch", f"{where}: a rule's money is in one currency.", field=where
            )
        self.seen = m.currency
        return Money.of(amount, m.currency)


def _percent(value: Decimal, where: str, low: int = 0, high: int = 100) -> Decimal:
    if not low <= value <= high:
        raise _bad(
            "percent_out_of_range",
            f"{where}: a percentage lies within {low} and {high}.",
            field=where,
        )
    return value


def _adjustment(x: _PriceOrOff | _PriceOrAdjust, where: str, cur: _Currencies) -> Adjustment:
    percent = x.percent_off if isinstance(x, _PriceOrOff) else x.percent_adjust
    if (x.price is None) == (percent is None):
        kind = "percent_off" if isinstance(x, _PriceOrOff) else "percent_adjust"
        raise _bad("invalid_config", f"{where}: give either price or {kind}.", field=where)
    if x.price is not None:
        return Adjustment(price=cur.money(x.price, f"{where}.price"))
    assert percent is not None
    if isinstance(x, _PriceOrOff):
        return Adjustment(percent=-_percent(percent, f"{where}.percent_off"))
    return Adjustment(percent=_percent(percent, f"{where}.percent_adjust", -100, 100))


def _tiers(shape: _Tiered, cur: _Currencies) -> tuple[Tier, ...]:
    tiers = []
    for i, t in enumerate(shape.tiers):
        where = f"config.tiers[{i}]"
        if t.min < 1 or (t.max is not None and t.max < t.min):
            raise _bad("invalid_tier", f"{where}: 1 ≤ min ≤ max.", field=where)
        tiers.append(Tier(t.min, t.max, _adjustment(t, where, cur)))
    ordered = sorted(tiers, key=lambda t: t.min)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.max is None or after.min <= before.max:
            raise _bad(
                "overlapping_tiers",
                f"Tiers from {before.min} and from {after.min} overlap.",
                tiers=[before.min, after.min],
            )
    return tuple(ordered)


def _minutes(clock: str, where: str) -> int:
    if not _CLOCK.fullmatch(clock):
        raise _bad("invalid_schedule", f"{where}: a time is HH:MM (00:00 to 24:00).", field=where)
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _schedule(windows: list[_WindowIn]) -> tuple[WeeklyWindow, ...]:
    out = []
    for i, w in enumerate(windows):
        where = f"config.schedule[{i}]"
        if not 0 <= w.weekday <= 6:
            raise _bad("invalid_schedule", f"{where}: weekday is 0 (Monday) to 6.", field=where)
        start, end = _minutes(w.from_, f"{where}.from"), _minutes(w.to, f"{where}.to")
        if start == DAY_MINUTES or start == end:
            raise _bad("invalid_schedule", f"{where}: an empty window.", field=where)
        out.append(WeeklyWindow(w.weekday, start, end if end > start else end + DAY_MINUTES))
    return tuple(out)


def check_validity(valid_from: datetime | None, valid_to: datetime | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise _bad(
            "invalid_validity",
            "The validity ends before it starts.",
            valid_from=valid_from.isoformat(),
            valid_to=valid_to.isoformat(),
        )


def check_rule(
    rule_id: UUID,
    name: str,
    rule_type: str,
    scope: RuleScope,
    config: dict[str, Any],
    priority: int,
    valid_from: datetime | None,
    valid_to: datetime | None,
) -> tuple[PricingRule, dict[str, Any]]:
    """The rule these inputs describe and its configuration normalised (as events keep it);
    ``InvalidCommand`` with a precise code when they break a rule (module docstring)."""
    shape_of = _SHAPES.get(rule_type)
    if shape_of is None:
        raise _bad(
            "unknown_rule_type",
            f"Unknown rule type '{rule_type}'; one of {', '.join(RULE_TYPES)}.",
            type=rule_type,
        )
    try:
        shape = shape_of.model_validate(config)
    except ValidationError as exc:
        details = [
            {"loc": ["config", *map(str, e["loc"])], "type": e["type"], "message": e["msg"]}
            for e in exc.errors(include_url=False)
        ]
        raise InvalidCommand(
            f"The configuration is not that of a {rule_type} rule.",
            code="invalid_config",
            details=details,
        ) from None
    check_validity(valid_from, valid_to)
    cur = _Currencies()
    parts: dict[str, Any] = {}
    if isinstance(shape, _Tiered):
        parts["tiers"] = _tiers(shape, cur)
    elif isinstance(shape, _Segment):
        for key in shape.segments:
            if not SEGMENT.fullmatch(key):
                raise _bad("invalid_segment", f"'{key}' is not a segment name.", segment=key)
        parts["by_key"] = {
            k: _adjustment(v, f"config.segments.{k}", cur) for k, v in shape.segments.items()
        }
    elif isinstance(shape, _Geographic):
        for key in shape.regions:
            if not REGION.fullmatch(key):
                raise _bad(
                    "invalid_region", f"'{key}' is not a country or country-region.", region=key
                )
        parts["by_key"] = {
            k: _adjustment(v, f"config.regions.{k}", cur) for k, v in shape.regions.items()
        }
    elif isinstance(shape, _TimeBased):
        parts["adjustment"] = _adjustment(shape, "config", cur)
        parts["schedule"] = _schedule(shape.schedule or [])
        if not parts["schedule"] and valid_from is None and valid_to is None:
            raise _bad(
                "time_window_required", "A time-based rule needs a schedule or a validity window."
            )
    elif isinstance(shape, _CostPlus):
        parts["cost"] = cur.money(shape.cost, "config.cost")
        parts["markup_percent"] = shape.markup_percent
        if shape.markup_percent < -100:
            raise _bad(
                "negative_price",
                "A markup below -100 % gives a negative price.",
                markup_percent=str(shape.markup_percent),
            )
    rule = PricingRule(
        rule_id=rule_id,
        name=name,
        rule_type=rule_type,
        priority=priority,
        skus=frozenset(scope.skus),
        product_ids=frozenset(scope.product_ids),
        category_ids=frozenset(scope.category_ids),
        valid_from=valid_from,
        valid_to=valid_to,
        currency=cur.seen,
        **parts,
    )
    return rule, shape.model_dump(mode="json", by_alias=True, exclude_none=True)
