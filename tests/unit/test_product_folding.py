"""Property: for any sequence of product commands, folding the events as stored (through the
real mapper) gives exactly the state the decisions were made on, and the invariants hold."""

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.category.events import CATEGORY_EVENTS
from domain.errors import DomainError
from domain.money import Money
from domain.product import decide
from domain.product.commands import (
    AddVariant,
    AssignCategory,
    ChangeLifecycle,
    ChangePrice,
    CreateProduct,
    DeactivateVariant,
    SetMasterVariant,
    UnassignCategory,
    UpdateProductDetails,
)
from domain.product.decide import NEXT_STATUS
from domain.product.events import PRODUCT_EVENTS, LifecycleStatusChanged
from domain.product.sku import SKU_EVENTS
from domain.product.state import PRODUCT, ProductState
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.recorded import EventMeta

PID = UUID("00000000-0000-4000-8000-000000000002")
CATS = [UUID(int=i) for i in range(1, 4)]
SKUS = ["P-1", "V-1", "V-2", "V-3"]
MAPPER = EventMapper(EventRegistry((*PRODUCT_EVENTS, *CATEGORY_EVENTS, *SKU_EVENTS)))
META = EventMeta(datetime(2026, 1, 1, tzinfo=UTC), "prop", "c", "c")

amounts = st.decimals(min_value=Decimal("-1"), max_value=Decimal("100"), places=2)
money = st.builds(lambda a: Money(amount=a, currency="USD"), amounts)
options = st.dictionaries(st.sampled_from(["size", "color"]), st.sampled_from(["S", "M", "red"]))
details = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["Mug", "Cup", ""]),
        "description": st.sampled_from(["", "nice"]),
        "brand": st.sampled_from([None, "Acme"]),
        "attributes": st.sampled_from([{}, {"material": "clay"}, {"weight": 3, "tags": ["a"]}]),
    },
)
reasons = st.sampled_from([None, "", "why"])

commands = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(SKUS), st.one_of(st.none(), money)),
    st.tuples(st.just("details"), details),
    st.tuples(st.just("price"), money, reasons),
    st.tuples(st.just("variant"), st.sampled_from(SKUS), options, st.one_of(st.none(), money)),
    st.tuples(st.just("deactivate"), st.sampled_from(SKUS)),
    st.tuples(st.just("master"), st.sampled_from(SKUS)),
    st.tuples(st.sampled_from(["assign", "unassign"]), st.sampled_from(CATS)),
    st.tuples(st.just("lifecycle"), st.sampled_from(list(NEXT_STATUS)), reasons),
)


def run(state: ProductState, command: tuple):
    """The events of ``command`` (a ``ValidationError`` when its message cannot be built)."""
    match command:
        case ("create", sku, price):
            c = CreateProduct(sku=sku, name="Mug", price=price)
            return decide.create_product(state, c, PID)
        case ("details", changes):
            return decide.update_details(state, UpdateProductDetails(product_id=PID, **changes))
        case ("price", price, reason):
            return decide.change_price(
                state, ChangePrice(product_id=PID, price=price, reason=reason)
            )
        case ("variant", sku, opts, price):
            c = AddVariant(product_id=PID, sku=sku, options=opts, price=price)
            return decide.add_variant(state, c)
        case ("deactivate", sku):
            return decide.deactivate_variant(state, DeactivateVariant(product_id=PID, sku=sku))
        case ("master", sku):
            return decide.set_master_variant(state, SetMasterVariant(product_id=PID, sku=sku))
        case ("assign", category):
            c = AssignCategory(product_id=PID, category_id=category)
            return decide.assign_category(state, c)
        case ("unassign", category):
            c = UnassignCategory(product_id=PID, category_id=category)
            return decide.unassign_category(state, c)
        case ("lifecycle", status, reason):
            c = ChangeLifecycle(product_id=PID, status=status, reason=reason)
            return decide.change_lifecycle(state, c)
    raise AssertionError(command)


def stored_and_loaded(events):
    recorded = [
        MAPPER.to_recorded(None, PID, i, s.topic, s.state)
        for i, s in enumerate(
            (MAPPER.to_stored(PID, i, e, META) for i, e in enumerate(events, 1)), 1
        )
    ]
    return [r.to_domain() for r in recorded]


@settings(max_examples=300, deadline=None)
@given(st.lists(commands, max_size=25))
def test_folding_stored_events_gives_the_state_the_decisions_produced(cmds):
    state, history = PRODUCT.initial(), []
    for command in cmds:
        try:
            events = run(state, command)
        except (DomainError, ValidationError):
            continue
        history.extend(events)
        state = PRODUCT.fold(events, state)
    assert PRODUCT.fold(stored_and_loaded(history)) == state
    if state.variants:
        assert len([v for v in state.variants if v.master]) == 1
    assert len({v.sku for v in state.variants} | {state.sku}) == len(state.variants) + 1
    combos = [tuple(sorted(v.options.items())) for v in state.variants]
    assert len(set(combos)) == len(combos)
    for e in history:
        if isinstance(e, LifecycleStatusChanged):
            assert e.new_status in NEXT_STATUS[e.old_status]
    if state.status == "active":
        assert state.price is not None and state.price.amount >= 0
