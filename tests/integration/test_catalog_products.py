"""Products through the command layer against real PostgreSQL: SKU uniqueness (also under a
race), If-Match, not-found, and the catalog and history read models."""

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from commands import products
from commands.context import CommandContext
from domain.category.commands import CreateCategory
from domain.errors import Conflict, DomainError, InvalidCommand, NotFound, VersionMismatch
from domain.money import Money
from domain.product.commands import (
    AddVariant,
    AssignCategory,
    ChangePrice,
    CreateProduct,
    NewVariant,
    UpdateProductDetails,
)
from projections.product_catalog import get_product, list_products
from projections.product_history import product_history
from tests.factories import active_product, new_sku, send, write_of

USD = Money.of("5.00", "USD")


def ctx(**kw):
    return CommandContext.new("tester", **kw)


def create(container, sku=None, **kw):
    command = CreateProduct(sku=sku or new_sku(), name="Thing", price=USD, **kw)
    result = send(container, command, ctx())
    return result.stream_id, result


def test_a_created_product_claims_its_sku_and_its_variants_skus(container):
    sku, variant = new_sku(), new_sku("V")
    variants = [NewVariant(sku=variant, options={"size": "S"})]
    product_id, result = create(container, sku, variants=variants)
    assert result.version == 3
    skus = write_of(container).skus
    assert skus.owner_of(sku) == product_id
    assert skus.owner_of(variant) == product_id


def test_a_sku_taken_by_another_product_or_variant_is_refused_and_nothing_written(container):
    sku, variant = new_sku(), new_sku("V")
    owner, _ = create(container, sku, variants=[NewVariant(sku=variant, options={"size": "S"})])
    other, _ = create(container)
    head = container.store.head()

    def add(taken):
        return send(container, AddVariant(product_id=other, sku=taken, options={"c": "1"}), ctx())

    for attempt in (
        lambda: create(container, sku),
        lambda: create(container, variant),
        lambda: add(sku),
        lambda: add(variant),
    ):
        with pytest.raises(Conflict) as err:
            attempt()
        assert err.value.code == "duplicate_sku"
    assert container.store.head() == head


def test_concurrent_creates_of_one_sku_let_exactly_one_win(container):
    sku = new_sku("RACE")

    def attempt(_):
        try:
            create(container, sku)
            return "ok"
        except DomainError as e:
            return e.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert sorted(outcomes) == ["duplicate_sku"] * 7 + ["ok"]


def test_commands_on_an_unknown_product_are_not_found_even_with_if_match(container):
    with pytest.raises(NotFound) as err:
        send(
            container,
            ChangePrice(product_id=uuid4(), price=USD, reason="r"),
            ctx(expected_version=2),
        )
    assert err.value.code == "product_not_found"
    with pytest.raises(NotFound):
        send(container, UpdateProductDetails(product_id=uuid4(), name="x"), ctx())


def test_a_stale_if_match_is_refused(container):
    product_id, _ = create(container)
    rename = UpdateProductDetails(product_id=product_id, name="y")
    with pytest.raises(VersionMismatch):
        send(container, rename, ctx(expected_version=5))
    result = send(container, rename, ctx(expected_version=1))
    assert result.version == 2


def test_an_unknown_category_is_refused(container):
    with pytest.raises(InvalidCommand) as err:
        create(container, category_ids=[uuid4()])
    assert err.value.code == "unknown_category"
    product_id, _ = create(container)
    with pytest.raises(InvalidCommand):
        send(container, AssignCategory(product_id=product_id, category_id=uuid4()), ctx())


def test_the_catalog_row_follows_every_change(container):
    tools = CreateCategory(name="Tools", slug=f"tools-{uuid4().hex[:8]}")
    category_id = send(container, tools, ctx()).stream_id
    product_id, _ = active_product(container, price="7.50")
    for command in (
        UpdateProductDetails(product_id=product_id, brand="Acme", attributes={"w": 2}),
        ChangePrice(product_id=product_id, price=Money.of("8.00", "USD"), reason="raise"),
        AddVariant(product_id=product_id, sku=new_sku("V"), options={"size": "S"}),
    ):
        send(container, command, ctx())
    last = send(container, AssignCategory(product_id=product_id, category_id=category_id), ctx())
    container.runner.catch_up(["product_catalog", "product_history"])
    row = get_product(container.pool, product_id)
    assert row["status"] == "active" and row["brand"] == "Acme"
    assert row["price_amount"] == Money.of("8.00", "USD").amount
    assert row["attributes"] == {"w": 2}
    assert row["variants"][0]["master"] is True
    assert row["category_ids"] == [category_id]
    assert row["version"] == last.version
    listed = list_products(container.pool, category_id=category_id)
    assert [r["id"] for r in listed] == [product_id]
    fields = [h["field"] for h in product_history(container.pool, product_id)]
    assert fields == ["status", "status", "attributes", "brand", "price"]


def test_price_for_a_variant_without_its_own_price_follows_the_product(container):
    product_id, _ = active_product(container, price="3.00")
    variant = new_sku("V")
    send(container, AddVariant(product_id=product_id, sku=variant, options={"c": "blue"}), ctx())
    new_price = ChangePrice(product_id=product_id, price=Money.of("4.00", "USD"), reason="r")
    send(container, new_price, ctx())
    priced = products.price_for_order(write_of(container), variant, "USD")
    assert priced.unit_price == Money.of("4.00", "USD") and priced.product_id == product_id
