"""The SKU registry view on real PostgreSQL: a claim makes its SKU known to the inventory
reads; an unclaimed SKU is not; a redelivered claim changes nothing."""

from __future__ import annotations

from uuid import uuid4

from psycopg import sql

from commands import sku_lookup
from commands.context import CommandContext
from domain.ids import sku_claim_stream
from projections import skus
from projections.base import live_schema
from tests.factories import new_sku


def test_a_claimed_sku_is_known_and_an_unclaimed_one_is_not(container):
    # Given a SKU claimed for a product (as its variant)
    sku, product_id = new_sku("CLAIM"), uuid4()
    claim = sku_lookup.claim(sku, product_id, is_variant=True)
    container.store.append([claim], CommandContext.new("t").meta())
    # When the view catches up
    container.runner.catch_up([skus.NAME])
    # Then the SKU is known, with its owner, and another one is not
    assert skus.is_claimed(container.pool, sku)
    assert not skus.is_claimed(container.pool, new_sku("NONE"))
    query = sql.SQL("SELECT product_id, is_variant FROM {}.skus WHERE sku = %s").format(
        sql.Identifier(live_schema(skus.NAME))
    )
    with container.pool.connection() as conn:
        assert conn.execute(query, (sku,)).fetchall() == [(product_id, True)]
        # and the same claim delivered again changes nothing
        with conn.cursor() as cur:
            again = container.store.load_with_positions(sku_claim_stream(sku))
            skus.SkusView().apply(cur, live_schema(skus.NAME), again)
            assert cur.execute(query, (sku,)).fetchall() == [(product_id, True)]
        conn.rollback()
