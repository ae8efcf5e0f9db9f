"""The replenishment manager killed (SIGKILL, a real subprocess:
``tests/integration/crashing_processes.py``) right after each step it commits, and started again
until it finishes: a shelf that fell to its reorder point ends with exactly one suggestion and
one drafted purchase order, the same as a twin shelf the manager met unharmed."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

from commands.executor import load
from domain.inventory.commands import AdjustStock, ReceiveStock, SetThresholds
from domain.supply import replenishment as r
from domain.supply.purchase_orders import PURCHASE_ORDER
from tests.factories import send
from tests.integration.test_process_manager_crash_safety import crashing  # noqa: F401 - fixture
from tests.supply_factories import ctx, item, location, skus, supplier


def _fallen_shelf(container, code: str) -> str:  # noqa: ANN001
    """A SKU whose stock at ``code`` fell to its reorder point (not yet seen by the manager)."""
    (sku,) = skus(container, 1)
    supplier(container, [item(sku, pack=6, minimum=6)])
    send(container, ReceiveStock(sku=sku, location=code, quantity=10), ctx())
    limits = SetThresholds(sku=sku, location=code, reorder_point=4, reorder_quantity=10)
    send(container, limits, ctx())
    send(container, AdjustStock(sku=sku, location=code, delta=-7, reason="damage"), ctx())
    return sku


def _history(container, sku: str, code: str) -> tuple[Counter[str], list[tuple[int, str]]]:  # noqa: ANN001
    events = container.store.load(r.replenishment_stream(sku, code))
    orders = [UUID(e.data["purchase_order_id"]) for e in events if e.name == "ReorderSuggested"]
    states = [load(container.store, PURCHASE_ORDER, o) for o in orders]
    return Counter(e.name for e in events), [(s.version, s.state.status) for s in states]


def test_the_replenishment_manager_survives_a_kill_after_each_step(container, crashing):  # noqa: F811
    code = location(container)
    container.processes.catch_up()  # the manager starts from the head: only ours to do
    crashed = _fallen_shelf(container, code)

    runs = crashing.killed_after_each_step("replenishment")

    # one step, the order drafted and the suggestion opened in one append, killed right
    # after it commits; the run after the kill writes nothing
    assert runs.kills == ["append PurchaseOrderCreated, ReorderSuggested"]
    assert runs.last_commits == []
    assert _history(container, crashed, code) == (
        Counter({"ReorderSuggested": 1}),
        [(1, "pending")],
    )
    # a shelf the manager meets unharmed comes to the same
    clean = _fallen_shelf(container, code)
    container.processes.catch_up()
    assert _history(container, clean, code) == _history(container, crashed, code)
