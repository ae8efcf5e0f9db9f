"""The discount math of a placement (``domain/promotion/discounts.py``): each target and kind,
conditions, the stacking choice, and, by hypothesis over random orders and promotions, that a
discount never exceeds its base, every amount is rounded half-up once per line to the minor
unit, and the totals sum the rounded lines. Then PlaceOrder with promotions: the order's
lines, discount, promotions and total."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.placement import place_order
from domain.order.state import OrderState
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from domain.promotion import discounts as dc
from domain.promotion.events import Conditions
from tests.unit.test_order_placement import ADDRESS, CUSTOMER, NOW, PAYMENT, priced

D = Decimal
P1, P2, P3 = (UUID(f"00000000-0000-4000-8000-00000000000{i}") for i in (1, 2, 3))
CAT = uuid4()


def offer(pid=P1, target="order", kind="percentage", value="10", **kw) -> dc.Offer:
    return dc.Offer(pid, kw.pop("code", None), target, kind, D(value), **kw)


LINES = [dc.Line("a", "A", 2, D("20.00"), frozenset({CAT})), dc.Line("b", "B", 1, D("5.55"))]
ANYONE = dc.Customer()


def best(offers, lines=LINES, shipping="4.99", customer=ANYONE, currency="USD"):
    return dc.best(offers, lines, D(shipping), currency, customer)


def test_an_order_percentage_takes_its_share_of_each_line_rounded_half_up():
    got = best([offer(value="10")])
    assert got.by_line == {"a": D("2.00"), "b": D("0.56")}  # 0.555 rounds half-up
    assert got.total == D("2.56") and got.shipping == 0
    assert [(a.promotion_id, a.amount) for a in got.applied] == [(P1, D("2.56"))]


def test_a_products_promotion_takes_off_only_the_lines_it_names():
    got = best([offer(target="products", conditions=Conditions(skus=("B",)), value="50")])
    assert got.by_line == {"a": D(0), "b": D("2.78")}
    by_category = best([offer(target="products", conditions=Conditions(category_ids=(CAT,)))])
    assert by_category.by_line == {"a": D("2.00"), "b": D(0)}


def test_a_fixed_amount_off_products_is_per_unit_and_capped_at_the_line():
    got = best([offer(target="products", kind="fixed_amount", value="3.00", currency="USD")])
    assert got.by_line == {"a": D("6.00"), "b": D("3.00")}
    capped = best([offer(target="products", kind="fixed_amount", value="9.00", currency="USD")])
    assert capped.by_line == {"a": D("18.00"), "b": D("5.55")}


def test_a_fixed_amount_off_the_order_is_spread_and_sums_exactly():
    got = best([offer(kind="fixed_amount", value="10.00", currency="USD")])
    assert sum(got.by_line.values()) == D("10.00")
    assert got.by_line == {"a": D("7.83"), "b": D("2.17")}
    everything = best([offer(kind="fixed_amount", value="100.00", currency="USD")])
    assert everything.by_line == {"a": D("20.00"), "b": D("5.55")}  # never beyond the base


def test_shipping_promotions_take_off_the_shipping_only():
    free = best([offer(target="shipping", value="100")])
    assert free.shipping == D("4.99") and free.on_lines == 0 and free.total == D("4.99")
    fixed = best([offer(target="shipping", kind="fixed_amount", value="10.00", currency="USD")])
    assert fixed.shipping == D("4.99")


def test_conditions_decide_whether_it_applies():
    assert best([offer(conditions=Conditions(min_subtotal=D("25.56")))]).applied == ()
    assert best([offer(conditions=Conditions(min_subtotal=D("25.55")))]).applied != ()
    assert best([offer(conditions=Conditions(segments=("vip",)))]).applied == ()
    vip = dc.Customer(segment="vip")
    assert best([offer(conditions=Conditions(segments=("vip",)))], customer=vip).applied
    returning = dc.Customer(first_order=False)
    assert (
        best([offer(conditions=Conditions(first_order_only=True))], customer=returning) == dc.NONE
    )
    assert best([offer(conditions=Conditions(skus=("Z",)))]).applied == ()
    assert best([offer(kind="fixed_amount", value="1", currency="EUR")]).applied == ()
    why = dc.applies(offer(conditions=Conditions(segments=("vip",))), LINES, "USD", ANYONE)
    assert why == "segment"


def test_stackable_promotions_combine_each_on_what_the_last_left():
    a = offer(P1, target="products", value="50", stackable=True)
    b = offer(P2, value="10", stackable=True)
    got = best([b, a])
    assert got.by_line == {"a": D("11.00"), "b": D("3.06")}  # 50 % then 10 % of the rest
    assert [x.promotion_id for x in got.applied] == [P1, P2]  # products first


def test_one_non_stackable_promotion_the_best_for_the_customer():
    small = offer(P1, value="10")
    large = offer(P2, value="20")
    stack = [offer(P3, value="5", stackable=True)]
    got = best([small, large, *stack])
    assert [a.promotion_id for a in got.applied] == [P2]
    assert best([offer(P1, value="10"), offer(P2, value="10")]).applied[0].promotion_id == P1
    # equal to the stackable set: the stackable set wins the tie
    tie = best([offer(P1, value="10"), offer(P3, value="10", stackable=True)])
    assert [a.promotion_id for a in tie.applied] == [P3]


def test_nothing_applies_without_offers():
    assert best([]) is dc.NONE and dc.NO_TERMS.discounts([], D(0), "USD") is dc.NONE


# ---- properties --------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False)
lines_st = st.lists(
    st.tuples(st.sampled_from("ABCD"), st.integers(1, 20), amounts), min_size=1, max_size=6
)
offer_st = st.builds(
    lambda pid, target, kind, percent, amount, stackable, skus: dc.Offer(
        pid,
        None,
        target,
        kind,
        percent if kind == "percentage" else amount,
        None if kind == "percentage" else "USD",
        Conditions(skus=tuple(skus)),
        stackable,
    ),  # fmt: skip
    st.uuids(),
    st.sampled_from(["order", "products", "shipping"]),
    st.sampled_from(["percentage", "fixed_amount"]),
    st.decimals(min_value=D("0.01"), max_value=100, places=2),
    st.decimals(min_value=D("0.01"), max_value=500, places=2),
    st.booleans(),
    st.lists(st.sampled_from("ABCD"), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(lines_st, st.lists(offer_st, max_size=5), amounts)
def test_a_discount_never_exceeds_its_base_and_totals_sum_rounded_lines(raw, offers, shipping):
    lines = [dc.Line(f"l{i}", sku, q, unit * q) for i, (sku, q, unit) in enumerate(raw)]
    got = dc.best(offers, lines, shipping, "USD", ANYONE)
    cent = D("0.01")
    for ln in lines:
        off = got.by_line.get(ln.line_id, D(0))
        assert 0 <= off <= ln.base
        assert off == off.quantize(cent)
    assert 0 <= got.shipping <= shipping
    assert got.total == sum(got.by_line.values(), D(0)) + got.shipping
    assert sum((a.amount for a in got.applied), D(0)) == got.total
    assert all(a.amount > 0 and a.amount == a.amount.quantize(cent) for a in got.applied)
    non_stackable = [a for a in got.applied if not _by_id(offers, a.promotion_id).stackable]
    assert len(non_stackable) <= 1 and (not non_stackable or len(got.applied) == 1)


def _by_id(offers, pid):
    return next(o for o in offers if o.promotion_id == pid)


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=8), amounts)
def test_shares_of_a_fixed_amount_sum_to_it_and_stay_within_each_part(parts, amount):
    amount = min(amount, sum(parts, D(0)))
    shares = dc._shares(amount, parts, D("0.01"))
    if sum(parts) > 0:
        assert sum(shares, D(0)) == amount
    assert all(0 <= s <= p for s, p in zip(shares, parts, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["order", "products", "shipping"]), min_size=1, max_size=4))
def test_the_choice_is_deterministic_whatever_the_offers_order(targets):
    offers = [offer(uuid4(), target=t, value=str(10 + i)) for i, t in enumerate(targets)]
    assert best(offers) == best(list(reversed(offers)))


# ---- PlaceOrder with promotions ----------------------------------------------------------


def placed_with(lines, promotions=dc.NO_TERMS, tax="0", shipping="0"):
    """PlaceOrder of ``lines`` decided with these terms and flat policies."""
    command = PlaceOrder(
        customer_id=CUSTOMER, currency="USD", shipping_address=ADDRESS, payment=PAYMENT,
        lines=[RequestedLine(sku=p.sku, quantity=p.quantity) for p in lines],
    )  # fmt: skip
    [event] = place_order(
        OrderState(), command, NOW, order_id=uuid4(), number=1, priced=lines,
        tax_policy=FlatRateTax(D(tax)), shipping_policy=FlatRateShipping(D(shipping)),
        placed_by="tester", promotions=promotions,
    )  # fmt: skip
    return event


def test_an_order_records_its_line_discounts_promotions_and_discounted_total():
    terms = dc.Terms((offer(P1, code="TEN", value="10"),))
    placed = placed_with(
        [priced("A", 2, "10.00"), priced("B", 1, "5.55")], terms, tax="0.10", shipping="4.00"
    )
    assert [ln.discount.amount for ln in placed.lines] == [D("2.00"), D("0.56")]
    assert [ln.total.amount for ln in placed.lines] == [D("20.00"), D("5.55")]  # undiscounted
    assert placed.subtotal.amount == D("25.55") and placed.discount.amount == D("2.56")
    assert placed.tax.amount == D("2.30")  # 10 % of 22.99, rounded half-up
    assert placed.total.amount == D("25.55") - D("2.56") + D("4.00") + D("2.30")
    assert [(p.promotion_id, p.code, p.amount.amount) for p in placed.promotions] == [
        (P1, "TEN", D("2.56"))]  # fmt: skip


def test_an_order_without_promotions_is_placed_as_before():
    placed = placed_with([priced("A", 1, "3.00")])
    assert placed.discount.amount == 0 and placed.promotions == []
    assert placed.lines[0].discount is None
    old = placed.model_dump(mode="json")
    old.pop("promotions")
    for line in old["lines"]:
        line.pop("discount")
    assert type(placed).model_validate(old) == placed  # an event stored before reads the same


def test_a_shipping_discount_leaves_the_tax_base_alone():
    terms = dc.Terms((offer(target="shipping", value="100"),))
    placed = placed_with([priced("A", 1, "10.00")], terms, tax="0.10", shipping="5.00")
    assert placed.discount == placed.shipping and placed.tax.amount == D("1.00")
    assert placed.total == placed.subtotal + placed.tax
