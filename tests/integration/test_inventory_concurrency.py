"""Concurrent reservations against real PostgreSQL: 50 threads, 1 unit each, 10 in stock."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from uuid import uuid4

from commands import inventory, sku_lookup
from commands.context import CommandContext
from domain.errors import InsufficientStock
from domain.inventory.commands import ReceiveStock, ReserveStock
from domain.location.commands import RegisterLocation
from tests.factories import send


def test_fifty_concurrent_reservations_of_ten_units_reserve_exactly_ten(container):
    store = container.store
    sku, code = f"INV-RACE-{uuid4().hex[:8]}", f"WH-RACE-{uuid4().hex[:8]}"
    store.append([sku_lookup.claim(sku, uuid4())], CommandContext.new("t").meta())
    send(
        store,
        RegisterLocation(code=code, name="R", type="warehouse", priority=1),
        CommandContext.new("t"),
    )
    send(store, ReceiveStock(sku=sku, location=code, quantity=10), CommandContext.new("t"))
    start = Barrier(50)

    def reserve_one(_):
        start.wait()
        try:
            reserve = ReserveStock(
                sku=sku,
                reservation_id=uuid4(),
                order_id=uuid4(),
                line_id=uuid4(),
                location=code,
                quantity=1,
                expires_at=None,
            )
            send(container, reserve, CommandContext.new("saga"))
            return "reserved"
        except InsufficientStock:
            return "insufficient"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(reserve_one, range(50)))

    assert outcomes.count("reserved") == 10
    assert outcomes.count("insufficient") == 40
    level = inventory.get(store, sku).level(code)
    assert (level.on_hand, level.reserved, level.available) == (10, 10, 0)
    active = [r for r in inventory.get(store, sku).reservations.values() if r.status == "active"]
    assert len(active) == 10
