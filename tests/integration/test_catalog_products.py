"""Products through the command layer against real PostgreSQL: SKU uniqueness (also under a
race), If-Match, not-found, and the catalog and history read models."""

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from commands import categories, products
from commands.context import CommandContext
from domain.errors import Conflict, DomainError, InvalidCommand, NotFound, VersionMismatch
from domain.money import Money
from domain.product.decide import NewVariant
from projections.product_catalog import get_product, list_products
from projections.product_history import product_history
from tests.factories import active_product, new_sku

USD = Money.of("5.00", "USD")


def ctx(**kw):
    return CommandContext.new("tester", **kw)


def create(container, sku=None, **kw):
    product_id = uuid4()
    result = products.create(
        container.store,
        ctx(),
        product_id=product_id,
        sku=sku or new_sku(),
        name="Thing",
        price=USD,
        **kw,
    )
    return product_id, result


def test_a_created_product_claims_its_sku_and_its_variants_skus(container):
    sku, variant = new_sku(), new_sku("V")
    product_id, result = create(container, sku, variants=[NewVariant(variant, {"size": "S"})])
    assert result.version == 3
    from commands.sku_lookup import owner_of

    assert owner_of(container.store, sku) == product_id
    assert owner_of(container.store, variant) == product_id


def test_a_sku_taken_by_another_product_or_variant_is_refused_and_nothing_written(container):
    sku, variant = new_sku(), new_sku("V")
    owner, _ = create(container, sku, variants=[NewVariant(variant, {"size": "S"})])
    other, _ = create(container)
    head = container.store.head()
    for attempt in (
        lambda: create(container, sku),
        lambda: create(container, variant),
        lambda: products.add_variant(container.store, ctx(), other, NewVariant(sku, {"c": "1"})),
        lambda: products.add_variant(
            container.store, ctx(), other, NewVariant(variant, {"c": "1"})
        ),
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
        products.change_price(container.store, ctx(expected_version=2), uuid4(), USD, "r")
    assert err.value.code == "product_not_found"
    with pytest.raises(NotFound):
        products.update_details(container.store, ctx(), uuid4(), {"name": "x"})


def test_a_stale_if_match_is_refused(container):
    product_id, _ = create(container)
    with pytest.raises(VersionMismatch):
        products.update_details(container.store, ctx(expected_version=5), product_id, {"name": "y"})
    result = products.update_details(
        container.store, ctx(expected_version=1), product_id, {"name": "y"}
    )
    assert result.version == 2


def test_an_unknown_category_is_refused(container):
    with pytest.raises(InvalidCommand) as err:
        create(container, category_ids=[uuid4()])
    assert err.value.code == "unknown_category"
    product_id, _ = create(container)
    with pytest.raises(InvalidCommand):
        products.assign_category(container.store, ctx(), product_id, uuid4())


def test_the_catalog_row_follows_every_change(container):
    category_id = uuid4()
    categories.create(
        container.store,
        ctx(),
        category_id=category_id,
        name="Tools",
        slug=f"tools-{uuid4().hex[:8]}",
    )
    product_id, _ = active_product(container, price="7.50")
    store = container.store
    products.update_details(store, ctx(), product_id, {"brand": "Acme", "attributes": {"w": 2}})
    products.change_price(store, ctx(), product_id, Money.of("8.00", "USD"), "raise")
    products.add_variant(store, ctx(), product_id, NewVariant(new_sku("V"), {"size": "S"}))
    last = products.assign_category(store, ctx(), product_id, category_id)
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
    products.add_variant(container.store, ctx(), product_id, NewVariant(variant, {"c": "blue"}))
    products.change_price(container.store, ctx(), product_id, Money.of("4.00", "USD"), "r")
    priced = products.price_for_order(container.store, variant, "USD")
    assert priced.unit_price == Money.of("4.00", "USD") and priced.product_id == product_id
