"""How far the followers every order passes through trail the orders placed (the placement
saga and the views that follow ``OrderPlaced``), from their own rows and the event table: the
age of the oldest order after the lowest position of those that run; 0 when each has taken
every order, past other events only, or when the one behind has stopped moving."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from api.order_backlog import OrderBacklog
from commands.context import CommandContext
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.values import Address, PaymentRef
from projections.base import live_schema
from tests.conftest import container_of_its_own
from tests.factories import active_product, send

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
STALL_S = 30.0
VIEW = "order_summaries"


@pytest.fixture
def shop(database_url):
    with container_of_its_own(database_url, "ecom_backlog") as c:
        yield c


def place(container, sku: str) -> int:
    """An order placed through the handler; the position of its last event."""
    command = PlaceOrder(
        customer_id=uuid4(),
        currency="USD",
        lines=[RequestedLine(sku=sku, quantity=1)],
        shipping_address=ADDRESS,
        payment=PaymentRef(token="tok_visa"),
    )
    return send(container, command, CommandContext.new("tester")).position


def backlog(container) -> float:
    async def read() -> float:
        async with await psycopg.AsyncConnection.connect(container.url, autocommit=True) as conn:
            return await OrderBacklog([VIEW], STALL_S).seconds(conn)

    return asyncio.run(read())


def saga_at(container, position: int, moved_s_ago: float = 0.0) -> None:
    """The saga's row as its own pass writes it: its position, moved ``moved_s_ago``."""
    with psycopg.connect(container.url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO process_tracking (name, position, updated_at)"
            " VALUES ('order_placement', %s, now() - make_interval(secs => %s))"
            " ON CONFLICT (name) DO UPDATE"
            " SET position = excluded.position, updated_at = excluded.updated_at",
            (position, moved_s_ago),
        )


def view_at(container, position: int, moved_s_ago: float = 0.0) -> None:
    """The view's tracking row as the runner writes it."""
    with psycopg.connect(container.url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "UPDATE {}.tracking SET position = %s,"
                " updated_at = now() - make_interval(secs => %s)"
            ).format(sql.Identifier(live_schema(VIEW))),
            (position, moved_s_ago),
        )


def test_no_follower_runs_so_nothing_trails(shop):
    sku = active_product(shop)[1]
    view_at(shop, 0, moved_s_ago=STALL_S + 1)  # made at migration, never moved since
    place(shop, sku)
    time.sleep(0.3)
    assert backlog(shop) == 0.0  # and no saga row at all


def test_the_saga_behind_counts_from_the_oldest_order_it_has_not_taken(shop):
    sku = active_product(shop)[1]
    before = place(shop, sku)
    saga_at(shop, before)  # it has taken the first order
    place(shop, sku)
    time.sleep(0.4)
    last = place(shop, sku)  # younger: the oldest untaken one counts
    view_at(shop, last)
    assert 0.4 <= backlog(shop) < 5.0


def test_a_view_behind_counts_too(shop):
    sku = active_product(shop)[1]
    before = place(shop, sku)
    view_at(shop, before)
    place(shop, sku)
    time.sleep(0.4)
    last = place(shop, sku)
    saga_at(shop, last)
    assert 0.4 <= backlog(shop) < 5.0


def test_followers_at_the_head_trail_by_nothing(shop):
    sku = active_product(shop)[1]
    place(shop, sku)
    last = place(shop, sku)
    time.sleep(0.3)
    saga_at(shop, last)
    view_at(shop, last)
    assert backlog(shop) == 0.0


def test_other_events_after_their_positions_are_not_a_backlog(shop):
    sku = active_product(shop)[1]
    last = place(shop, sku)
    saga_at(shop, last)
    view_at(shop, last)
    active_product(shop)  # product events only, which neither takes
    time.sleep(0.3)
    assert backlog(shop) == 0.0


def test_a_follower_that_stopped_moving_is_not_waited_on(shop):
    sku = active_product(shop)[1]
    first = place(shop, sku)
    last = place(shop, sku)
    time.sleep(0.3)
    view_at(shop, last)
    saga_at(shop, first, moved_s_ago=STALL_S + 1)
    assert backlog(shop) == 0.0
    saga_at(shop, first, moved_s_ago=0.0)  # the same position, moved just now: it runs
    assert backlog(shop) >= 0.3
