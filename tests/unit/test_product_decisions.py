"""Product decisions, given past events, when a command, then new events or a named error."""

from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from domain.errors import Conflict, IllegalTransition, InvalidCommand, NotFound
from domain.money import Money
from domain.product import decide
from domain.product.commands import (
    AddVariant,
    AssignCategory,
    ChangeLifecycle,
    ChangePrice,
    CreateProduct,
    DeactivateVariant,
    NewVariant,
    SetMasterVariant,
    UnassignCategory,
    UpdateProductDetails,
)
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


def refused(command: type, **fields) -> list[str]:
    """The fields the command message refuses, by name (it cannot be built with them)."""
    with pytest.raises(ValidationError) as err:
        command(**fields)
    return [str(e["loc"][0]) for e in err.value.errors()]


def create(state: ProductState, **fields):
    command = CreateProduct(**{"sku": "MUG", "name": "Mug", "price": USD10, **fields})
    return decide.create_product(state, command, PID)


def details(state: ProductState, **fields):
    return decide.update_details(state, UpdateProductDetails(product_id=PID, **fields))


def price(state: ProductState, new: Money, reason: str = "r", change_type: str = "manual"):
    command = ChangePrice(product_id=PID, price=new, reason=reason, change_type=change_type)
    return decide.change_price(state, command)


def variant(sku: str, options: dict, price: Money | None = None) -> AddVariant:
    return AddVariant(product_id=PID, sku=sku, options=options, price=price)


def lifecycle(state: ProductState, status: str, reason: str | None = None):
    return decide.change_lifecycle(
        state, ChangeLifecycle(product_id=PID, status=status, reason=reason)
    )


# ---- CreateProduct ---------------------------------------------------------------------


def test_creating_a_product_records_it_as_a_draft():
    events = create(given(), price=Money.of("10", "USD"))
    assert events == [CREATED]
    assert PRODUCT.fold(events).status == "draft"


def test_creating_with_variants_adds_them_and_makes_the_first_the_master():
    variants = [
        NewVariant(sku="MUG-S", options={"size": "S"}),
        NewVariant(sku="MUG-L", options={"size": "L"}),
    ]
    events = create(given(), variants=variants)
    assert events[1:] == [
        VariantAdded(sku="MUG-S", options={"size": "S"}),
        MasterVariantSet(sku="MUG-S"),
        VariantAdded(sku="MUG-L", options={"size": "L"}),
    ]


def test_creating_takes_the_price_in_the_currencys_minor_unit():
    events = create(given(), price={"amount": "10.5", "currency": "USD"})
    assert events[0].price == Money.of("10.50", "USD")


def test_creating_an_existing_product_conflicts():
    rejected(Conflict, "product_exists", create, given(CREATED))


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"name": "  "}, InvalidCommand, "invalid_name"),
        ({"variants": [NewVariant(sku="MUG", options={"s": "1"})]}, Conflict, "duplicate_sku"),
    ],
)
def test_creating_with_bad_fields_is_refused(fields, error, code):
    rejected(error, code, create, given(), **fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sku": "bad sku"}, "sku"),
        ({"name": ""}, "name"),
        ({"price": Money(amount="-1", currency="USD")}, "price"),
        ({"price": Money(amount="10.005", currency="USD")}, "price"),
        ({"price": {"amount": "10", "currency": "usd"}}, "price"),
        ({"variants": [{"sku": "MUG-S", "options": {}}]}, "variants"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_the_create_command_refuses_malformed_fields(fields, field):
    assert refused(CreateProduct, **{"sku": "MUG", "name": "Mug", "price": USD10, **fields}) == [
        field
    ]


# ---- UpdateProductDetails --------------------------------------------------------------


def test_updating_details_records_old_and_new_of_each_changed_field_only():
    events = details(given(CREATED), name="Big mug", description="")
    assert events == [
        ProductDetailsChanged(changes=[FieldChange(field="name", old="Mug", new="Big mug")])
    ]


def test_updating_details_changes_only_the_fields_given():
    branded = given(CREATED, *details(given(CREATED), brand="Acme"))
    assert branded.brand == "Acme"
    assert details(branded, name="Cup") == [
        ProductDetailsChanged(changes=[FieldChange(field="name", old="Mug", new="Cup")])
    ]


def test_a_brand_given_as_null_is_cleared():
    branded = given(CREATED, *details(given(CREATED), brand="Acme"))
    assert details(branded, brand=None) == [
        ProductDetailsChanged(changes=[FieldChange(field="brand", old="Acme", new=None)])
    ]


def test_updating_details_to_the_same_values_writes_nothing():
    assert details(given(CREATED), name="Mug", attributes={}) == []


def test_updating_an_unknown_product_is_not_found():
    rejected(NotFound, "product_not_found", details, given(), name="x")


def test_the_update_command_refuses_an_unknown_field_or_a_null_name():
    assert refused(UpdateProductDetails, product_id=PID, sku="x") == ["sku"]
    assert refused(UpdateProductDetails, product_id=PID, name=None) == ["name"]


def test_updating_the_name_to_blank_is_refused():
    rejected(InvalidCommand, "invalid_name", details, given(CREATED), name=" ")


def test_an_archived_product_cannot_change():
    archived = given(
        CREATED, *status_events("pending_approval", "active", "discontinued", "archived")
    )
    rejected(Conflict, "product_archived", details, archived, name="x")


# ---- ChangePrice -----------------------------------------------------------------------


def test_changing_the_price_records_old_new_type_and_reason():
    new = Money.of("12.00", "USD")
    events = price(given(CREATED), new, "supplier", "competitor_match")
    assert events == [
        PriceChanged(old=USD10, new=new, change_type="competitor_match", reason="supplier")
    ]


def test_changing_to_the_same_price_writes_nothing():
    assert price(given(CREATED), Money.of("10", "USD"), "again") == []


def test_a_price_change_with_a_blank_reason_is_refused():
    rejected(InvalidCommand, "reason_required", price, given(CREATED), Money.of("1", "USD"), " ")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"change_type": "whim"}, "change_type"),
        ({"price": Money(amount="-0.01", currency="USD")}, "price"),
    ],
)
def test_the_price_command_refuses_malformed_fields(fields, field):
    command = {"product_id": PID, "price": USD10, "reason": "r", **fields}
    assert refused(ChangePrice, **command) == [field]


def test_changing_the_price_of_an_unknown_product_is_not_found():
    rejected(NotFound, "product_not_found", price, given(), USD10)


# ---- variants --------------------------------------------------------------------------

S = VariantAdded(sku="MUG-S", options={"size": "S"})
S_MASTER = MasterVariantSet(sku="MUG-S")


def test_adding_a_first_variant_makes_it_the_master():
    events = decide.add_variant(given(CREATED), variant("MUG-S", {"size": "S"}))
    assert events == [S, S_MASTER]


def test_adding_another_variant_keeps_the_master():
    events = decide.add_variant(given(CREATED, S, S_MASTER), variant("MUG-L", {"size": "L"}))
    assert events == [VariantAdded(sku="MUG-L", options={"size": "L"})]


@pytest.mark.parametrize(
    ("command", "error", "code"),
    [
        (variant("MUG-S", {"size": "M"}), Conflict, "duplicate_sku"),
        (variant("MUG", {"size": "M"}), Conflict, "duplicate_sku"),
        (variant("MUG-M", {"size": "S"}), Conflict, "duplicate_variant"),
        (
            variant("MUG-M", {"size": "M"}, Money.of("1", "EUR")),
            InvalidCommand,
            "currency_mismatch",
        ),
    ],
)
def test_a_bad_variant_is_refused(command, error, code):
    rejected(error, code, decide.add_variant, given(CREATED, S, S_MASTER), command)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sku": "bad sku"}, "sku"),
        ({"options": {}}, "options"),
        ({"options": {"": "x"}}, "options"),
    ],
)
def test_the_variant_command_refuses_malformed_fields(fields, field):
    assert refused(
        AddVariant, **{"product_id": PID, "sku": "V", "options": {"a": "b"}, **fields}
    ) == [field]


def deactivate(state: ProductState, sku: str, reason: str | None = None):
    return decide.deactivate_variant(
        state, DeactivateVariant(product_id=PID, sku=sku, reason=reason)
    )


def master(state: ProductState, sku: str):
    return decide.set_master_variant(state, SetMasterVariant(product_id=PID, sku=sku))


def test_deactivating_the_master_promotes_the_next_active_variant():
    L = VariantAdded(sku="MUG-L", options={"size": "L"})
    events = deactivate(given(CREATED, S, S_MASTER, L), "MUG-S", "recalled")
    assert events == [
        VariantDeactivated(sku="MUG-S", reason="recalled"),
        MasterVariantSet(sku="MUG-L", previous_sku="MUG-S"),
    ]


def test_deactivating_twice_writes_nothing_the_second_time():
    state = given(CREATED, S, S_MASTER, VariantDeactivated(sku="MUG-S"))
    assert deactivate(state, "MUG-S") == []


def test_deactivating_an_unknown_variant_is_not_found():
    rejected(NotFound, "variant_not_found", deactivate, given(CREATED), "NOPE")


def test_naming_another_master_clears_the_old_in_the_same_event():
    L = VariantAdded(sku="MUG-L", options={"size": "L"})
    events = master(given(CREATED, S, S_MASTER, L), "MUG-L")
    assert events == [MasterVariantSet(sku="MUG-L", previous_sku="MUG-S")]
    state = given(CREATED, S, S_MASTER, L, *events)
    assert [v.sku for v in state.variants if v.master] == ["MUG-L"]


def test_naming_the_current_master_writes_nothing():
    assert master(given(CREATED, S, S_MASTER), "MUG-S") == []


def test_a_deactivated_variant_cannot_become_master():
    L = VariantAdded(sku="MUG-L", options={"size": "L"})
    state = given(CREATED, S, S_MASTER, L, VariantDeactivated(sku="MUG-L"))
    rejected(Conflict, "variant_inactive", master, state, "MUG-L")


def test_naming_an_unknown_variant_master_is_not_found():
    rejected(NotFound, "variant_not_found", master, given(CREATED), "NOPE")


# ---- categories ------------------------------------------------------------------------


def assign(state: ProductState, category_id: UUID):
    return decide.assign_category(state, AssignCategory(product_id=PID, category_id=category_id))


def unassign(state: ProductState, category_id: UUID):
    command = UnassignCategory(product_id=PID, category_id=category_id)
    return decide.unassign_category(state, command)


def test_assigning_a_category_records_it_once():
    assert assign(given(CREATED), CAT) == [CategoryAssigned(category_id=CAT)]
    assert assign(given(CREATED, CategoryAssigned(category_id=CAT)), CAT) == []


def test_unassigning_a_category_records_it_only_if_assigned():
    state = given(CREATED, CategoryAssigned(category_id=CAT))
    assert unassign(state, CAT) == [CategoryUnassigned(category_id=CAT)]
    assert unassign(given(CREATED), CAT) == []


def test_category_commands_on_an_unknown_product_are_not_found():
    rejected(NotFound, "product_not_found", assign, given(), uuid4())
    rejected(NotFound, "product_not_found", unassign, given(), uuid4())


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
    events = lifecycle(state, target, "because")
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
    rejected(IllegalTransition, "illegal_transition", lifecycle, state, target, "r")


def test_a_rejection_needs_a_reason():
    state = given(CREATED, *status_events("pending_approval"))
    rejected(InvalidCommand, "reason_required", lifecycle, state, "draft", None)


def test_activation_needs_a_price():
    unpriced = ProductCreated(product_id=PID, sku="MUG", name="Mug", price=None)
    state = given(unpriced, *status_events("pending_approval"))
    rejected(InvalidCommand, "price_required", lifecycle, state, "active")


def test_the_lifecycle_command_refuses_an_unknown_status():
    assert refused(ChangeLifecycle, product_id=PID, status="sold") == ["status"]


def test_changing_the_lifecycle_of_an_unknown_product_is_not_found():
    rejected(NotFound, "product_not_found", lifecycle, given(), "pending_approval")
