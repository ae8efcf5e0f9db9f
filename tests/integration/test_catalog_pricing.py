"""The price an order line pays for a SKU, read from the product through the command layer."""

import pytest

from commands import products
from commands.context import CommandContext
from domain.errors import InvalidCommand
from domain.money import Money
from domain.product.commands import AddVariant, CreateProduct, DeactivateVariant
from tests.factories import active_product, new_sku, send, write_of


def _ctx():
    return CommandContext.new("tester")


def test_an_active_products_sku_is_priced_at_the_product_price(container):
    product_id, sku = active_product(container, price="12.50")
    priced = products.price_for_order(write_of(container), sku, "USD")
    assert priced.product_id == product_id
    assert priced.sku == sku
    assert priced.unit_price == Money.of("12.50", "USD")
    assert priced.name


def test_a_variant_with_its_own_price_is_priced_at_that_price(container):
    product_id, _ = active_product(container, price="10.00")
    cheap, own = new_sku("V"), new_sku("V")
    send(container, AddVariant(product_id=product_id, sku=cheap, options={"size": "S"}), _ctx())
    own_price = Money.of("14.00", "USD")
    send(
        container,
        AddVariant(product_id=product_id, sku=own, options={"size": "L"}, price=own_price),
        _ctx(),
    )
    assert products.price_for_order(write_of(container), cheap, "USD").unit_price.amount == 10
    assert products.price_for_order(write_of(container), own, "USD").unit_price.amount == 14


def test_an_unknown_sku_is_refused(container):
    with pytest.raises(InvalidCommand) as err:
        products.price_for_order(write_of(container), new_sku("NOPE"), "USD")
    assert err.value.code == "unknown_sku"


def test_a_draft_product_is_not_for_sale(container):
    sku = new_sku()
    send(container, CreateProduct(sku=sku, name="Draft", price=Money.of("1.00", "USD")), _ctx())
    with pytest.raises(InvalidCommand) as err:
        products.price_for_order(write_of(container), sku, "USD")
    assert err.value.code == "product_not_active"


def test_a_deactivated_variant_is_not_for_sale(container):
    product_id, _ = active_product(container)
    variant = new_sku("V")
    send(container, AddVariant(product_id=product_id, sku=variant, options={"c": "red"}), _ctx())
    recall = DeactivateVariant(product_id=product_id, sku=variant, reason="recalled")
    send(container, recall, _ctx())
    with pytest.raises(InvalidCommand) as err:
        products.price_for_order(write_of(container), variant, "USD")
    assert err.value.code == "product_not_active"


def test_an_order_in_another_currency_is_refused(container):
    _, sku = active_product(container, currency="EUR")
    with pytest.raises(InvalidCommand) as err:
        products.price_for_order(write_of(container), sku, "USD")
    assert err.value.code == "currency_mismatch"
