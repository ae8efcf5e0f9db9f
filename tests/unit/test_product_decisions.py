"""Product decisions, given past events, when a command, then new events or a named error."""

from uuid import UUID, uuid4

import pytest

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.money import Money
from domain.product import decide
from domain.product.decide import NewVariant
from domain.product.events import (
    CategoryAssigned,
    CategoryUnassigned,
    FieldChange,
    LifecycleStatusChanged,
    MasterVariantSet,
    PriceChanged,
    ProductCreated,
    ProductDetailsChanged,
    VariantAdded,
    VariantDeactivated,
)
from domain.product.state import PRODUCT, ProductState

PID = UUID("00000000-0000-4000-8000-000000000001")
CAT = UUID("00000000-0000-4000-8000-0000000000ca")
USD10 = Money.of("10.00", "USD")
CREATED = ProductCreated(product_id=PID, sku="MUG", name="Mug", price=USD10)


def given(*events) -> ProductState:
    return PRODUCT.fold(events)


def status_events(*path: str) -> list[LifecycleStatusChanged]:
    steps = ["draft", *path]
    return [
        LifecycleStatusChanged(old_status=a, new_status=b, reason="r")
        for a, b in zip(steps, steps[1:], strict=False)
    ]


def rejected(error: type, code: str, call, *args, **kwargs):
    with pytest.raises(error) as err:
        call(*args, **kwargs)
    assert err.value.code == code


# ---- CreateProduct ---------------------------------------------------------------------


def test_creating_a_product_records_it_as_a_draft():
    events = decide.create_product(
        given(), product_id=PID, sku="MUG", name="Mug", price=Money.of("10", "USD")
    )
    assert events == [CREATED]
    assert PRODUCT.fold(events).status == "draft"


def test_creating_with_variants_adds_them_and_makes_the_first_the_master():
    variants = [NewVariant("MUG-S", {"size": "S"}), NewVariant("MUG-L", {"size": "L"})]
    events = decide.create_product(
        given(), product_id=PID, sku="MUG", name="Mug", price=USD10, variants=variants
    )
    assert events[1:] == [
        VariantAdded(sku="MUG-S", options={"size": "S"}),
        MasterVariantSet(sku="MUG-S"),
        VariantAdded(sku="MUG-L", options={"size": "L"}),
    ]


def test_creating_rounds_the_price_half_up():
    price = Money(amount="10.005", currency="USD")
    events = decide.create_product(given(), product_id=PID, sku="MUG", name="Mug", price=price)
    assert events[0].price == Money.of("10.01", "USD")


def test_creating_an_existing_product_conflicts():
    rejected(
        Conflict,
        "product_exists",
        decide.create_product,
        given(CREATED),
        product_id=PID,
        sku="MUG",
        name="Mug",
        price=USD10,
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"sku": "bad sku"}, "invalid_sku"),
        ({"name": "  "}, "invalid_name"),
        ({"price": Money(amount="-1", currency="USD")}, "negative_price"),
        ({"variants": [NewVariant("MUG", {"s": "1"})]}, "duplicate_sku"),
    ],
)
def test_creating_with_bad_fields_is_refused(fields, code):
    command = {"product_id": PID, "sku": "MUG", "name": "Mug", "price": USD10, **fields}
    with pytest.raises((InvalidCommand, Conflict)) as err:
        decide.create_product(given(), **command)
    assert err.value.code == code


# ---- UpdateProductDetails --------------------------------------------------------------


def test_updating_details_records_old_and_new_of_each_changed_field_only():
    events = decide.update_details(given(CREATED), {"name": "Big mug", "description": ""})
    assert events == [
        ProductDetailsChanged(changes=[FieldChange(field="name", old="Mug", new="Big mug")])
    ]


def test_updating_details_to_the_same_values_writes_nothing():
    assert decide.update_details(given(CREATED), {"name": "Mug", "attributes": {}}) == []


def test_updating_an_unknown_product_is_not_found():
    rejected(NotFound, "product_not_found", decide.update_details, given(), {"name": "x"})


def test_updating_an_unknown_field_is_refused():
    rejected(InvalidCommand, "unknown_field", decide.update_details, given(CREATED), {"sku": "x"})


def test_updating_the_name_to_blank_is_refused():
    rejected(InvalidCommand, "invalid_name", decide.update_details, given(CREATED), {"name": ""})


def test_an_archived_product_cannot_change():
    archived = given(
        CREATED, *status_events("pending_approval", "active", "discontinued", "archived")
    )
    rejected(Conflict, "product_archived", decide.update_details, archived, {"name": "x"})


# ---- ChangePrice -----------------------------------------------------------------------


def test_changing_the_price_records_old_new_type_and_reason():
    new = Money.of("12.00", "USD")
    events = decide.change_price(given(CREATED), new, "supplier", "competitor_match")
    assert events == [
        PriceChanged(old=USD10, new=new, change_type="competitor_match", reason="supplier")
    ]


def test_changing_to_the_same_price_writes_nothing():
    assert decide.change_price(given(CREATED), Money.of("10", "USD"), "again") == []


@pytest.mark.parametrize(
    ("price", "reason", "change_type", "code"),
    [
        (Money.of("1", "USD"), "", "manual", "reason_required"),
        (Money.of("1", "USD"), "r", "whim", "invalid_change_type"),
        (Money(amount="-0.01", currency="USD"), "r", "manual", "negative_price"),
    ],
)
def test_a_bad_price_change_is_refused(price, reason, change_type, code):
    rejected(InvalidCommand, code, decide.change_price, given(CREATED), price, reason, change_type)


def test_changing_the_price_of_an_unknown_product_is_not_found():
    rejected(NotFound, "product_not_found", decide.change_price, given(), USD10, "r")


# ---- variants --------------------------------------------------------------------------

S = VariantAdded(sku="MUG-S", options={"size": "S"})
S_MASTER = MasterVariantSet(sku="MUG-S")


def test_adding_a_first_variant_makes_it_the_master():
    events = decide.add_variant(given(CREATED), NewVariant("MUG-S", {"size": "S"}))
    assert events == [S, S_MASTER]


def test_adding_another_variant_keeps_the_master():
    events = decide.add_variant(given(CREATED, S, S_MASTER), NewVariant("MUG-L", {"size": "L"}))
    assert events == [VariantAdded(sku="MUG-L", options={"size": "L"})]


@pytest.mark.parametrize(
    ("variant", "error", "code"),
    [
        (NewVariant("MUG-S", {"size": "M"}), Conflict, "duplicate_sku"),
        (NewVariant("MUG", {"size": "M"}), Conflict, "duplicate_sku"),
        (NewVariant("MUG-M", {"size": "S"}), Conflict, "duplicate_variant"),
        (NewVariant("MUG-M", {}), InvalidCommand, "invalid_options"),
        (NewVariant("bad sku", {"size": "M"}), InvalidCommand, "invalid_sku"),
        (
            NewVariant("MUG-M", {"size": "M"}, Money.of("1", "EUR")),
            InvalidCommand,
            "currency_mismatch",
        ),
    ],
)
def test_a_bad_variant_is_refused(variant, error, code):
    rejected(error, code, decide.add_variant, given(CREATED, S, S_MASTER), variant)


def test_deactivating_the_master_promotes_the_next_active_variant():
    L = VariantAdded(sku="MUG-L", options={"size": "L"})
    events = decide.deactivate_variant(given(CREATED, S, S_MASTER, L), "MUG-S", "recalled")
    assert events == [
        VariantDeactivated(sku="MUG-S", reason="recalled"),
        MasterVariantSet(sku="MUG-L", previous_sku="MUG-S"),
    ]


def test_deactivating_twice_writes_nothing_the_second_time():
    state = given(CREATED, S, S_MASTER, VariantDeactivated(sku="MUG-S"))
    assert decide.deactivate_variant(state, "MUG-S") == []


def test_deactivating_an_unknown_variant_is_not_found():
    rejected(NotFound, "variant_not_found", decide.deactivate_variant, given(CREATED), "NOPE")


def test_naming_another_master_clears_the_old_in_the_same_event():
    L = VariantAdded(sku="MUG-L", options={"size": "L"})
    events = decide.set_master_variant(given(CREATED, S, S_MASTER, L), "MUG-L")
    assert events == [MasterVariantSet(sku="MUG-L", previous_sku="MUG-S")]
    state = given(CREATED, S, S_MASTER, L, *events)
    assert [v.sku for v in state.variants if v.master] == ["MUG-L"]


def test_naming_the_current_master_writes_nothing():
    assert decide.set_master_variant(given(CREATED, S, S_MASTER), "MUG-S") == []


def test_a_deactivated_variant_cannot_become_master():
    L = VariantAdded(sku="MUG-L", options={"size": "L"})
    state = given(CREATED, S, S_MASTER, L, VariantDeactivated(sku="MUG-L"))
    rejected(Conflict, "variant_inactive", decide.set_master_variant, state, "MUG-L")


def test_naming_an_unknown_variant_master_is_not_found():
    rejected(NotFound, "variant_not_found", decide.set_master_variant, given(CREATED), "NOPE")


# ---- categories ------------------------------------------------------------------------


def test_assigning_a_category_records_it_once():
    assert decide.assign_category(given(CREATED), CAT) == [CategoryAssigned(category_id=CAT)]
    assert decide.assign_category(given(CREATED, CategoryAssigned(category_id=CAT)), CAT) == []


def test_unassigning_a_category_records_it_only_if_assigned():
    state = given(CREATED, CategoryAssigned(category_id=CAT))
    assert decide.unassign_category(state, CAT) == [CategoryUnassigned(category_id=CAT)]
    assert decide.unassign_category(given(CREATED), CAT) == []


def test_category_commands_on_an_unknown_product_are_not_found():
    rejected(NotFound, "product_not_found", decide.assign_category, given(), uuid4())
    rejected(NotFound, "product_not_found", decide.unassign_category, given(), uuid4())


# ---- lifecycle -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), "pending_approval"),
        (("pending_approval",), "active"),
        (("pending_approval",), "draft"),
        (("pending_approval", "active"), "discontinued"),
        (("pending_approval", "active", "discontinued"), "archived"),
    ],
)
def test_each_allowed_lifecycle_step_is_recorded(path, target):
    state = given(CREATED, *status_events(*path))
    events = decide.change_lifecycle(state, target, "because")
    assert events == [
        LifecycleStatusChanged(old_status=state.status, new_status=target, reason="because")
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ((), "active"),
        ((), "draft"),
        ((), "archived"),
        (("pending_approval",), "discontinued"),
        (("pending_approval", "active"), "draft"),
        (("pending_approval", "active"), "active"),
        (("pending_approval", "active", "discontinued"), "active"),
        (("pending_approval", "active", "discontinued", "archived"), "draft"),
    ],
)
def test_any_other_lifecycle_step_is_an_illegal_transition(path, target):
    state = given(CREATED, *status_events(*path))
    rejected(IllegalTransition, "illegal_transition", decide.change_lifecycle, state, target, "r")


def test_a_rejection_needs_a_reason():
    state = given(CREATED, *status_events("pending_approval"))
    rejected(InvalidCommand, "reason_required", decide.change_lifecycle, state, "draft", None)


def test_activation_needs_a_price():
    unpriced = ProductCreated(product_id=PID, sku="MUG", name="Mug", price=None)
    state = given(unpriced, *status_events("pending_approval"))
    rejected(InvalidCommand, "price_required", decide.change_lifecycle, state, "active")


def test_an_unknown_status_is_refused():
    rejected(InvalidCommand, "invalid_status", decide.change_lifecycle, given(CREATED), "sold")


def test_changing_the_lifecycle_of_an_unknown_product_is_not_found():
    rejected(NotFound, "product_not_found", decide.change_lifecycle, given(), "pending_approval")
