"""The effective price (``domain/pricing/effective.py``): among active, in-window, matching
rules the highest priority wins, ties to the lower price; else the catalog's price; no
stacking; never negative; rounded half-up once. A table of cases, then a property: on random
rule sets, quantities, segments, regions and instants (weekly schedules across midnight
included) the function agrees with a brute-force oracle written here from the rule's text, on
the raw configurations (it shares no code with ``domain.pricing``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.money import Money
from domain.pricing.effective import EffectivePrice, PriceQuery, effective_price
from domain.pricing.rules import PricingRule, RuleScope, check_rule

SHIRTS = UUID("00000000-0000-4000-8000-00000000c001")
SHOES = UUID("00000000-0000-4000-8000-00000000c002")
PRODUCT = UUID("00000000-0000-4000-8000-00000000b001")
OTHER = UUID("00000000-0000-4000-8000-00000000b002")
FRIDAY = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday


def rid(n: int) -> UUID:
    return UUID(int=n)


def usd(amount: str) -> dict:
    return {"amount": amount, "currency": "USD"}


def rule(n: int, rule_type: str, config: dict, priority: int = 0, **kw: Any) -> PricingRule:
    scope = kw.pop("scope", RuleScope())
    made, _ = check_rule(
        rid(n),
        f"rule {n}",
        rule_type,
        scope,
        config,
        priority,
        kw.pop("valid_from", None),
        kw.pop("valid_to", None),
    )
    if kw.pop("inactive", False):
        from dataclasses import replace

        made = replace(made, active=False)
    assert not kw
    return made


def line(base: str = "20.00", quantity: int = 1, **kw: Any) -> PriceQuery:
    return PriceQuery(
        sku=kw.pop("sku", "TEE"),
        base=Money.of(base, kw.pop("currency", "USD")),
        quantity=quantity,
        at=kw.pop("at", FRIDAY),
        product_id=kw.pop("product_id", PRODUCT),
        category_ids=frozenset(kw.pop("category_ids", (SHIRTS,))),
        **kw,
    )


def paid(amount: str, n: int | None = None, kind: str | None = None) -> EffectivePrice:
    return EffectivePrice(Money.of(amount, "USD"), None if n is None else rid(n), kind)


TIERED = {"tiers": [{"min": 1, "max": 9, "price": usd("18.00")}, {"min": 10, "percent_off": 25}]}
VIP = {"segments": {"vip": {"percent_off": 10}}}
NIGHT = {"percent_off": 50, "schedule": [{"weekday": 4, "from": "22:00", "to": "02:00"}]}
SUNDAY_NIGHT = {"price": usd("1.00"), "schedule": [{"weekday": 6, "from": "23:00", "to": "01:00"}]}
REGIONS = {"regions": {"US": {"percent_adjust": 10}, "US-CA": {"percent_adjust": -10}}}


def at(*args: int, hours: int = 0) -> datetime:
    return datetime(*args, tzinfo=timezone(timedelta(hours=hours)))  # type: ignore[misc]


CHEAP_VIP = {"segments": {"vip": {"price": usd("19.00")}}}
FLAT_18 = {"tiers": [{"min": 1, "price": usd("18.00")}]}
TEN_OFF = {"tiers": [{"min": 1, "percent_off": 10}]}
FROM_5 = {"tiers": [{"min": 5, "percent_off": 5}]}
HALF = {"segments": {"vip": {"percent_off": 50}}}
MINUS_ALL = {"regions": {"US": {"percent_adjust": -100}}}
IN_EUR = {"tiers": [{"min": 1, "price": {"amount": "1", "currency": "EUR"}}]}
COST = {"cost": usd("8.00"), "markup_percent": "37.5"}
ELSEWHERE = RuleScope(skus=["CAP"], product_ids=[OTHER], category_ids=[SHOES])
VIP_LINE = line(segment="vip")

CASES = [
    ("no rule: the catalog's price", [], line(), paid("20.00")),
    ("a tier's price", [rule(1, "tiered", TIERED)], line(quantity=3), paid("18.00", 1, "tiered")),
    (
        "an open tier's percentage",
        [rule(1, "tiered", TIERED)],
        line(quantity=10),
        paid("15.00", 1, "tiered"),
    ),
    ("a quantity in no tier", [rule(1, "tiered", FROM_5)], line(quantity=4), paid("20.00")),
    (
        "the higher priority wins even at a higher price",
        [rule(1, "tiered", TIERED, 1), rule(2, "segment", CHEAP_VIP, 2)],
        line(quantity=10, segment="vip"),
        paid("19.00", 2, "segment"),
    ),
    (
        "a tie in priority goes to the lower price",
        [rule(1, "tiered", TIERED, 3), rule(2, "segment", VIP, 3)],
        line(quantity=2, segment="vip"),
        paid("18.00", 1, "tiered"),
    ),
    (
        "no stacking: one rule's price, never two discounts",
        [rule(1, "segment", VIP), rule(2, "tiered", TEN_OFF)],
        VIP_LINE,
        paid("18.00", 1, "segment"),
    ),
    ("an inactive rule", [rule(1, "segment", VIP, inactive=True)], VIP_LINE, paid("20.00")),
    (
        "before the window",
        [rule(1, "segment", VIP, valid_from=FRIDAY + timedelta(seconds=1))],
        VIP_LINE,
        paid("20.00"),
    ),
    ("the window's end", [rule(1, "segment", VIP, valid_to=FRIDAY)], VIP_LINE, paid("20.00")),
    (
        "the window's start",
        [rule(1, "segment", VIP, valid_from=FRIDAY)],
        VIP_LINE,
        paid("18.00", 1, "segment"),
    ),
    ("a guest has no segment", [rule(1, "segment", VIP)], line(), paid("20.00")),
    (
        "the most specific region",
        [rule(1, "geographic", REGIONS)],
        line(country="US", region="CA"),
        paid("18.00", 1, "geographic"),
    ),
    (
        "the country when the region is not listed",
        [rule(1, "geographic", REGIONS)],
        line(country="US", region="NY"),
        paid("22.00", 1, "geographic"),
    ),
    ("no address, no region", [rule(1, "geographic", REGIONS)], line(), paid("20.00")),
    (
        "Friday night past midnight",
        [rule(1, "time_based", NIGHT)],
        line(at=at(2026, 12, 5, 1, 59)),
        paid("10.00", 1, "time_based"),
    ),
    ("a window's end", [rule(1, "time_based", NIGHT)], line(at=at(2026, 12, 5, 2)), paid("20.00")),
    (
        "the schedule is in UTC",
        [rule(1, "time_based", NIGHT)],
        line(at=at(2026, 12, 4, 23, 30, hours=3)),
        paid("20.00"),
    ),
    (
        "Sunday night into Monday",
        [rule(1, "time_based", SUNDAY_NIGHT)],
        line(at=at(2026, 12, 7, 0, 30)),
        paid("1.00", 1, "time_based"),
    ),
    ("cost plus markup", [rule(1, "cost_plus", COST)], line(), paid("11.00", 1, "cost_plus")),
    (
        "never negative",
        [rule(1, "geographic", MINUS_ALL)],
        line(country="US"),
        paid("0.00", 1, "geographic"),
    ),
    (
        "rounded half-up once",
        [rule(1, "segment", HALF)],
        line("0.05", segment="vip"),
        paid("0.03", 1, "segment"),
    ),
    ("a rule in another currency", [rule(1, "tiered", IN_EUR)], line(), paid("20.00")),
    (
        "a rule scoped by category",
        [rule(1, "segment", VIP, scope=RuleScope(category_ids=[SHIRTS]))],
        VIP_LINE,
        paid("18.00", 1, "segment"),
    ),
    (
        "a rule scoped elsewhere",
        [rule(1, "segment", VIP, scope=ELSEWHERE)],
        VIP_LINE,
        paid("20.00"),
    ),
    (
        "a tie in priority and price goes to the smaller id",
        [rule(2, "segment", VIP), rule(1, "tiered", FLAT_18)],
        VIP_LINE,
        paid("18.00", 1, "tiered"),
    ),
]


@pytest.mark.parametrize(
    ("rules", "query", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_effective_price_rule(rules, query, expected):  # fmt: skip
    assert effective_price(rules, query) == expected


# ---- the oracle: the rule's text over the raw configurations ------------------------------

CENT = Decimal("0.01")


def _money_ok(m: dict, currency: str) -> Decimal | None:
    return Decimal(m["amount"]) if m["currency"] == currency else None


def _adjusted(adj: dict, base: Decimal, currency: str) -> Decimal | None | str:
    """The price an adjustment gives, None if it is in another currency."""
    if "price" in adj:
        return _money_ok(adj["price"], currency)
    if "percent_off" in adj:
        return base * (100 - Decimal(str(adj["percent_off"]))) / 100
    return base * (100 + Decimal(str(adj["percent_adjust"]))) / 100


def _on(window: dict, at: datetime) -> bool:
    t = at.astimezone(UTC)
    minute = t.hour * 60 + t.minute
    h1, m1 = map(int, window["from"].split(":"))
    h2, m2 = map(int, window["to"].split(":"))
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end > start:
        return t.weekday() == window["weekday"] and start <= minute < end
    return (t.weekday() == window["weekday"] and minute >= start) or (
        t.weekday() == (window["weekday"] + 1) % 7 and minute < end
    )


def _uses_other_currency(config: Any, currency: str) -> bool:
    if isinstance(config, dict):
        if set(config) == {"amount", "currency"}:
            return config["currency"] != currency
        return any(_uses_other_currency(v, currency) for v in config.values())
    if isinstance(config, list):
        return any(_uses_other_currency(v, currency) for v in config)
    return False


def oracle_candidate(spec: dict, q: PriceQuery) -> Decimal | None:
    currency, base = q.base.currency, q.base.amount
    if not spec["active"]:
        return None
    if spec["valid_from"] is not None and q.at < spec["valid_from"]:
        return None
    if spec["valid_to"] is not None and q.at >= spec["valid_to"]:
        return None
    if _uses_other_currency(spec["config"], currency):
        return None
    scope = spec["scope"]
    if any(scope.values()):
        hits = (
            q.sku in scope["skus"]
            or q.product_id in scope["product_ids"]
            or bool(set(scope["category_ids"]) & set(q.category_ids))
        )
        if not hits:
            return None
    c, kind = spec["config"], spec["type"]
    raw: Any = None
    if kind == "tiered":
        for tier in c["tiers"]:
            if tier["min"] <= q.quantity and (tier.get("max") is None or q.quantity <= tier["max"]):
                raw = _adjusted(tier, base, currency)
    elif kind == "segment":
        if q.segment in c["segments"]:
            raw = _adjusted(c["segments"][q.segment], base, currency)
    elif kind == "geographic":
        keys = [f"{q.country}-{q.region}", q.country] if q.region else [q.country]
        for key in reversed(keys):  # the last found is the most specific
            if key in c["regions"]:
                raw = _adjusted(c["regions"][key], base, currency)
    elif kind == "time_based":
        if not c.get("schedule") or any(_on(w, q.at) for w in c["schedule"]):
            raw = _adjusted(c, base, currency)
    elif kind == "cost_plus":
        raw = Decimal(c["cost"]["amount"]) * (100 + Decimal(str(c["markup_percent"]))) / 100
    if raw is None:
        return None
    return max(raw, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def oracle(specs: list[dict], q: PriceQuery) -> tuple[Decimal, UUID | None]:
    found = [(s, p) for s in specs if (p := oracle_candidate(s, q)) is not None]
    if not found:
        return q.base.amount, None
    top = max(s["priority"] for s, _ in found)
    best = min((p, str(s["id"]), s) for s, p in found if s["priority"] == top)
    return best[0], best[2]["id"]


# ---- random rule sets -----------------------------------------------------------------------

START = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
cents = st.integers(0, 5000).map(lambda n: Decimal(n) / 100)
money = st.builds(
    lambda amount, cur: {"amount": str(amount), "currency": cur},
    cents,
    st.sampled_from(["USD", "USD", "USD", "EUR"]),
)
percent = st.one_of(st.integers(0, 100), st.integers(0, 10000).map(lambda n: str(Decimal(n) / 100)))
off = st.one_of(
    st.builds(lambda m: {"price": m}, money), st.builds(lambda p: {"percent_off": p}, percent)
)
adjust = st.one_of(
    st.builds(lambda m: {"price": m}, money),
    st.builds(lambda p: {"percent_adjust": p}, st.integers(-100, 100)),
)
clock = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 59])
)
window = st.builds(
    lambda d, f, t: {"weekday": d, "from": f, "to": t},
    st.integers(0, 6),
    clock,
    clock | st.just("24:00"),
).filter(lambda w: w["from"] != w["to"])
instant = st.builds(
    lambda minutes, seconds, offset: (
        START + timedelta(minutes=minutes, seconds=seconds)
    ).astimezone(timezone(timedelta(hours=offset))),
    st.integers(0, 3 * 7 * 24 * 60),
    st.integers(0, 59),
    st.sampled_from([0, 0, 2, -5]),
)


@st.composite
def tiers(draw) -> dict:
    cuts = sorted(draw(st.sets(st.integers(1, 25), min_size=1, max_size=4)))
    out = []
    for i, low in enumerate(cuts):
        high = (
            cuts[i + 1] - 1
            if i + 1 < len(cuts)
            else draw(st.one_of(st.none(), st.integers(low, 30)))
        )
        out.append({"min": low, "max": high, **draw(off)})
    return {"tiers": draw(st.permutations(out))}


SEGMENTS = st.sampled_from(["vip", "staff", "b2b"])
REGION_KEYS = st.sampled_from(["US", "US-CA", "US-NY", "CA", "CA-QC"])
configs = {
    "tiered": tiers(),
    "segment": st.dictionaries(SEGMENTS, off, min_size=1).map(lambda d: {"segments": d}),
    "geographic": st.dictionaries(REGION_KEYS, adjust, min_size=1).map(lambda d: {"regions": d}),
    "time_based": st.builds(
        lambda o, s: {**o, "schedule": s}, off, st.lists(window, min_size=1, max_size=3)
    ),
    "cost_plus": st.builds(
        lambda m, p: {"cost": m, "markup_percent": p}, money, st.integers(-100, 300)
    ),
}


def _one_currency(config: Any) -> bool:
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if set(v) == {"amount", "currency"}:
                found.add(v["currency"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(config)
    return len(found) <= 1


@st.composite
def specs(draw, n: int) -> dict:
    kind = draw(st.sampled_from(sorted(configs)))
    config = draw(configs[kind].filter(_one_currency))
    lo = draw(instant) if draw(st.integers(0, 3)) == 0 else None
    hi = draw(instant) if draw(st.integers(0, 3)) == 0 else None
    if lo is not None and hi is not None and hi <= lo:
        lo = None

    def some(values: list) -> list:  # mostly nothing, so that most rules take every SKU
        return draw(st.lists(st.sampled_from(values), max_size=1)) if draw(st.booleans()) else []

    return {
        "id": rid(n),
        "type": kind,
        "config": config,
        "priority": draw(st.integers(0, 1)),
        "valid_from": lo,
        "valid_to": hi,
        "active": draw(st.integers(0, 4)) > 0,
        "scope": {
            "skus": some(["TEE", "CAP"]),
            "product_ids": some([PRODUCT, OTHER]),
            "category_ids": some([SHIRTS, SHOES]),
        },
    }


def built(spec: dict) -> PricingRule:
    from dataclasses import replace

    made, _ = check_rule(
        spec["id"],
        "r",
        spec["type"],
        RuleScope(**spec["scope"]),
        spec["config"],
        spec["priority"],
        spec["valid_from"],
        spec["valid_to"],
    )
    return replace(made, active=spec["active"])


PLACES = [(None, None), ("US", None), ("US", "CA"), ("US", "TX"), ("CA", "QC"), ("FR", "X")]
rule_sets = st.integers(0, 7).flatmap(lambda k: st.tuples(*[specs(i + 1) for i in range(k)]))
queries = st.builds(
    lambda base, q, seg, place, at, cats: PriceQuery(
        sku="TEE",
        base=Money.of(base, "USD"),
        quantity=q,
        at=at,
        product_id=PRODUCT,
        category_ids=frozenset(cats),
        segment=seg,
        country=place[0],
        region=place[1],
    ),
    cents,
    st.integers(1, 32),
    st.sampled_from([None, "vip", "staff", "b2b"]),
    st.sampled_from(PLACES),
    instant,
    st.sets(st.sampled_from([SHIRTS, SHOES]), max_size=2),
)


@settings(max_examples=400, deadline=None)
@given(rule_sets, queries)
def test_the_function_agrees_with_a_brute_force_oracle(rule_specs, query):
    expected_price, expected_rule = oracle(list(rule_specs), query)
    got = effective_price([built(s) for s in rule_specs], query)
    assert (got.price.amount, got.rule_id) == (expected_price, expected_rule)
    assert got.price.amount >= 0 and got.price.currency == "USD"
    if expected_rule is not None:
        assert got.rule_type == next(s["type"] for s in rule_specs if s["id"] == expected_rule)


@settings(max_examples=200, deadline=None)
@given(window, instant)
def test_weekly_windows_agree_with_the_oracle_across_midnight(w, at):
    config = {"percent_off": 50, "schedule": [w]}
    got = effective_price([rule(1, "time_based", config)], line("10.00", at=at))
    assert (got.rule_id is not None) == _on(w, at)
