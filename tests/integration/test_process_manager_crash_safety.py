"""Crash safety of every process manager, one step at a time: the manager runs in a real
subprocess (``tests/integration/crashing_processes.py``) that SIGKILLs itself right after each
step commits (an append to the event store, or a gateway operation the gateway had not seen
before), and is started again until it finishes. Every run gets one step further and dies, so
every step boundary sees a kill, and the run after the last step writes nothing.

Each scenario is built twice from the same commands: once for a run that is never killed, once
for the killed runs. The killed runs must commit the same steps as the clean run, and each
order's history (its order, payment and plan streams, and the inventory events of its
reservations) must be the same as its twin's: each expected event exactly once, each payment
captured, voided and refunded once, in the event log and at the gateway (its memory table
``gateway_idempotency``).

The triggering events are appended through the command layer while no manager runs, so the
manager under test is the one that does the steps (the HTTP handlers of dispatch and of a
cancellation review would otherwise do them first)."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4, uuid5

import pytest

import commands
from commands import cancellations, inventory, orders, payments, shipments, splits
from commands.context import CommandContext
from commands.executor import execute
from commands.fulfillment_saga import FulfillmentSaga
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import ProcessManager
from domain.ids import inventory_stream, payment_stream, plan_stream
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order import fulfillment as order_decide
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.state import ORDER
from domain.order.values import Address, LineQuantity, PaymentRef
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from domain.shipment import decide as shipment_decide
from domain.shipment.state import SHIPMENT
from tests.factories import active_product, priced, send

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
#: Every process manager, by the name the composition root runs it under.
MANAGERS: dict[str, type[ProcessManager]] = {
    "order_placement": OrderPlacementSaga,
    "fulfillment": FulfillmentSaga,
}
MAX_RUNS = 60


# ---- the crashing subprocess ------------------------------------------------------------


@dataclass
class Runs:
    """What the runs of one manager until it finished came to."""

    kills: list[str]  # the step each kill fell after, in order
    last_commits: list[str]  # what the run that finished committed (nothing, after kills)


class CrashingProcess:
    def __init__(self, database_url: str, data_dir: Path):
        self.env = {
            **os.environ,
            "ECOM_DATABASE_URL": database_url,
            "ECOM_DATA_DIR": str(data_dir),
            "ECOM_POOL_SIZE": "2",
            "ECOM_FOLLOWER_ATTEMPTS": "1",
        }

    def run(self, manager: str, *, kill_after: int) -> tuple[int, list[str], str]:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.integration.crashing_processes"],
            env={**self.env, "CRASH_MANAGERS": manager, "CRASH_AFTER": str(kill_after)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = proc.stdout.splitlines()
        commits = [line.split(": ", 1)[1] for line in lines if line.startswith("commit ")]
        return proc.returncode, commits, proc.stderr

    def clean(self, manager: str) -> list[str]:
        """One run, never killed: the steps it committed."""
        code, commits, err = self.run(manager, kill_after=0)
        assert code == 0, err
        return commits

    def killed_after_each_step(self, manager: str) -> Runs:
        """Runs that each die right after their first commit, until one finishes."""
        kills: list[str] = []
        for _ in range(MAX_RUNS):
            code, commits, err = self.run(manager, kill_after=1)
            if code == -signal.SIGKILL:
                assert len(commits) == 1, (commits, err)
                kills.append(commits[0])
                continue
            assert code == 0, err
            return Runs(kills, commits)
        raise AssertionError(f"{manager} did not finish in {MAX_RUNS} runs: {kills}")


@pytest.fixture(scope="module")
def crashing(database_url, tmp_path_factory) -> CrashingProcess:
    return CrashingProcess(database_url, tmp_path_factory.mktemp("crash-data"))


def test_every_process_manager_is_covered_here(container):
    found = set()
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"commands.{info.name}")
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, ProcessManager)
                and obj is not ProcessManager
                and obj.__module__ == module.__name__
            ):
                found.add(obj)
    assert found == set(MANAGERS.values())
    assert {n: type(m) for n, m in container.processes.managers.items()} == MANAGERS


# ---- reading what happened --------------------------------------------------------------


def _names(store, stream_id: UUID) -> Counter[str]:  # noqa: ANN001
    return Counter(e.name for e in store.load(stream_id))


def _history(store, order_id: UUID, sku: str, location: str) -> dict[str, Counter[str]]:  # noqa: ANN001
    """Every event an order caused, by stream kind (ids left out, so twins compare equal)."""
    held = {
        e.data["reservation_id"]
        for e in store.load(inventory_stream(sku))
        if e.name == "StockReserved" and e.data.get("order_id") == str(order_id)
    }
    return {
        "order": _names(store, order_id),
        "payment": _names(store, payment_stream(order_id)),
        "plan": _names(store, plan_stream(order_id, location)),
        "inventory": Counter(
            e.name
            for e in store.load(inventory_stream(sku))
            if e.data.get("reservation_id") in held
        ),
    }


def _gateway_since(container, since) -> Counter[str]:  # noqa: ANN001
    """The gateway's operations first asked for after ``since`` (its memory's clock)."""
    with container.pool.connection() as conn:
        rows = conn.execute(
            "SELECT operation, count(*) FROM gateway_idempotency WHERE created_at > %s "
            "GROUP BY operation",
            (since,),
        ).fetchall()
    return Counter({op: n for op, n in rows})


def _db_now(container):  # noqa: ANN001, ANN202
    with container.pool.connection() as conn:
        return conn.execute("SELECT clock_timestamp()").fetchone()[0]


def _parked(container) -> int:  # noqa: ANN001
    with container.pool.connection() as conn:
        return conn.execute(
            "SELECT count(*) FROM parked_events WHERE follower LIKE 'process:%%'"
        ).fetchone()[0]


# ---- a world of stock -------------------------------------------------------------------


def _location(container) -> str:  # noqa: ANN001
    code = f"PM-{uuid4().hex[:8]}"
    send(
        container,
        RegisterLocation(code=code, name=code, type="warehouse", priority=1),
        CommandContext.new("t"),
    )
    container.runner.catch_up(["locations"])
    return code


def _stocked_sku(container, location: str, quantity: int) -> str:  # noqa: ANN001
    _product, sku = active_product(container, price="10.00")
    send(
        container,
        ReceiveStock(sku=sku, location=location, quantity=quantity),
        CommandContext.new("t"),
    )
    return sku


def _place(container, sku: str, quantity: int, token: str = "tok_visa") -> UUID:  # noqa: ANN001
    return send(
        priced(
            container,
            tax=FlatRateTax(Decimal("0.1")),
            shipping=FlatRateShipping(Decimal("5.00"), None),
        ),
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=quantity)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token=token),
        ),
        CommandContext.new("t"),
    ).stream_id


# ---- the placement saga -----------------------------------------------------------------


def _placement_scenario(container, location: str) -> dict[str, tuple[UUID, str]]:  # noqa: ANN001
    """Three orders placed on a SKU with two units: approved, declined, out of stock."""
    sku = _stocked_sku(container, location, 2)
    return {
        "approved": (_place(container, sku, 1), sku),
        "declined": (_place(container, sku, 1, "tok_declined"), sku),
        "out_of_stock": (_place(container, sku, 5), sku),
    }


def test_the_placement_saga_survives_a_kill_after_each_step(container, crashing):
    store = container.store
    location = _location(container)
    container.processes.catch_up()  # the managers start from the head: only ours to do
    parked = _parked(container)

    clean = _placement_scenario(container, location)
    t0 = _db_now(container)
    clean_steps = crashing.clean("order_placement")
    t1 = _db_now(container)
    crashed = _placement_scenario(container, location)
    runs = crashing.killed_after_each_step("order_placement")

    # A kill after every step the clean run took (reserve, each authorization, decide), and
    # the run after the last kill wrote nothing. The authorizations are asked concurrently,
    # so one may land before the kill that follows the other: then it is not seen twice.
    assert set(runs.kills) == set(clean_steps) and len(runs.kills) <= len(clean_steps), (
        runs.kills,
        clean_steps,
    )
    assert len(runs.kills) >= 3 and runs.last_commits == []
    clean_ops = _gateway_since(container, t0) - _gateway_since(container, t1)
    assert clean_ops == _gateway_since(container, t1) == Counter({"authorize": 2})

    statuses = {"approved": "confirmed", "declined": "cancelled", "out_of_stock": "cancelled"}
    for role, (order_id, sku) in crashed.items():
        state = orders.get(store, order_id)
        assert state.status == statuses[role], (role, state.status)
        twin_id, twin_sku = clean[role]
        assert _history(store, order_id, sku, location) == _history(
            store, twin_id, twin_sku, location
        ), role
    approved = _history(store, crashed["approved"][0], crashed["approved"][1], location)
    assert approved["order"]["OrderConfirmed"] == 1
    assert approved["inventory"] == Counter({"StockReserved": 1, "ReservationConfirmed": 1})
    assert approved["payment"] == Counter({"PaymentAuthorized": 1})
    assert approved["plan"] == Counter({"PlanCreated": 1})
    declined = _history(store, crashed["declined"][0], crashed["declined"][1], location)
    assert declined["inventory"] == Counter({"StockReserved": 1, "ReservationReleased": 1})
    assert declined["payment"] == Counter({"PaymentDeclined": 1})
    assert declined["order"]["OrderCancelled"] == 1
    out = _history(store, crashed["out_of_stock"][0], crashed["out_of_stock"][1], location)
    assert out["inventory"] == Counter() and out["payment"] == Counter()
    assert out["order"]["OrderCancelled"] == 1
    sku = crashed["approved"][1]
    assert inventory.get(store, sku).totals()["reserved"] == 1
    assert _parked(container) == parked


# ---- the fulfillment manager ------------------------------------------------------------


@dataclass
class Fulfillment:
    """Four confirmed orders of one SKU, each about to trigger one of the manager's steps."""

    sku: str
    dispatched: UUID  # dispatched, then delivered
    cancelled: UUID  # cancellation approved, nothing captured
    refunded: UUID  # captured by hand, then cancellation approved: a refund
    split: UUID  # split in two

    def roles(self) -> dict[str, UUID]:
        return {
            "dispatched": self.dispatched,
            "cancelled": self.cancelled,
            "refunded": self.refunded,
            "split": self.split,
        }


def _confirmed_orders(container, location: str) -> Fulfillment:  # noqa: ANN001
    sku = _stocked_sku(container, location, 10)
    made = Fulfillment(sku, *(_place(container, sku, q) for q in (1, 1, 1, 2)))
    container.processes.catch_up()  # the placement saga confirms them, in this process
    for order_id in made.roles().values():
        assert orders.get(container.store, order_id).status == "confirmed"
    return made


def _track(store, shipment_id: UUID, code: str) -> None:  # noqa: ANN001
    """A carrier's event on the shipment (and its copy on the order), and nothing after it."""
    ctx = CommandContext.new("carrier")
    execute(
        store,
        SHIPMENT,
        shipment_id,
        lambda s, _v: shipment_decide.record_tracking(
            s,
            shipment_id,
            code=code,
            occurred_at=ctx.now,
            location=None,
            note=None,
            now=ctx.now,
        ),  # fmt: skip
        ctx,
        also=lambda s, events: shipments._mirror(store, s.order_id, events),
    )


def _approved_cancellation(store, order_id: UUID) -> None:  # noqa: ANN001
    request_id = uuid5(order_id, "cancel")
    cancellations.request(
        store, CommandContext.new("customer"), order_id, request_id=request_id, reason="other"
    )
    execute(
        store,
        ORDER,
        order_id,
        lambda s, _v: order_decide.review_cancellation(
            s, order_id, request_id=request_id, approve=True, note=None, actor="manager"
        ),
        CommandContext.new("manager"),
    )


def _trigger_steps(container, made: Fulfillment, location: str) -> None:  # noqa: ANN001
    """The events the manager reacts to, recorded while no manager runs."""
    store = container.store
    order = orders.get(store, made.dispatched)
    shipment_id = uuid5(made.dispatched, "shipment")
    shipments.open_shipment(
        store,
        CommandContext.new("picker"),
        made.dispatched,
        shipment_id=shipment_id,
        location=location,
        lines=[LineQuantity(line_id=ln.line_id, quantity=ln.quantity) for ln in order.lines],
        carrier="UPS",
    )
    _track(store, shipment_id, "picked_up")  # ShipmentDispatched
    _track(store, shipment_id, "delivered")  # ShipmentDelivered
    _approved_cancellation(store, made.cancelled)
    pay = payments.get(store, made.refunded)
    payments.capture(
        store, container.gateway, CommandContext.new("finance"), order_id=made.refunded,
        capture_id=uuid5(made.refunded, "capture"), amount=pay.authorized,
    )  # fmt: skip
    _approved_cancellation(store, made.refunded)
    [line] = orders.get(store, made.split).lines
    splits.split(
        store,
        CommandContext.new("manager"),
        made.split,
        reason="two boxes",
        parts=[(location, [LineQuantity(line_id=line.line_id, quantity=1)])] * 2,
    )


def test_the_fulfillment_manager_survives_a_kill_after_each_step(container, crashing):
    store = container.store
    location = _location(container)
    clean = _confirmed_orders(container, location)
    crashed = _confirmed_orders(container, location)
    parked = _parked(container)

    _trigger_steps(container, clean, location)
    t0 = _db_now(container)
    clean_steps = crashing.clean("fulfillment")
    t1 = _db_now(container)
    _trigger_steps(container, crashed, location)
    t2 = _db_now(container)
    runs = crashing.killed_after_each_step("fulfillment")

    # One kill after every step, in the clean run's order; after the last, nothing to do.
    assert runs.kills == clean_steps
    assert runs.last_commits == []
    for step in (
        "append StockCommitted",  # dispatch: commit the reservation,
        "append LinesShipped",  # record the lines shipped,
        "gateway capture",  # capture at the gateway,
        "append PaymentCaptured",  # record the capture,
        "append LinesDelivered",  # delivered,
        "gateway void",  # cancellation and split: void at the gateway,
        "append AuthorizationVoided",  # record it,
        "append ReservationReleased",  # release the stock,
        "append OrderCancelled",  # cancel the order,
        "append CancellationCompleted",  # close the request,
        "append RefundRequested",  # a refund: in flight,
        "gateway refund",  # asked of the gateway,
        "append RefundSucceeded",  # recorded.
    ):
        assert step in runs.kills, (step, runs.kills)
    assert len(runs.kills) >= 20

    # The gateway did each operation once, as many as in the clean run.
    once = Counter({"capture": 1, "void": 2, "refund": 1})
    clean_ops = _gateway_since(container, t0) - _gateway_since(container, t1)
    assert clean_ops == once, clean_ops
    assert _gateway_since(container, t2) == once

    # Each order's history is its twin's, and the steps each happened once.
    for role, order_id in crashed.roles().items():
        twin = clean.roles()[role]
        assert _history(store, order_id, crashed.sku, location) == _history(
            store, twin, clean.sku, location
        ), role
    h = _history(store, crashed.dispatched, crashed.sku, location)
    assert (h["order"]["LinesShipped"], h["order"]["LinesDelivered"]) == (1, 1)
    assert h["inventory"]["StockCommitted"] == 1 and h["payment"]["PaymentCaptured"] == 1
    state, pay = orders.get(store, crashed.dispatched), payments.get(store, crashed.dispatched)
    assert state.status == "delivered" and pay.captured == state.total.amount
    assert len(pay.capture_ids) == 1

    h = _history(store, crashed.cancelled, crashed.sku, location)
    assert h["inventory"]["ReservationReleased"] == 1
    assert h["payment"] == Counter({"PaymentAuthorized": 1, "AuthorizationVoided": 1})
    assert (h["order"]["OrderCancelled"], h["order"]["CancellationCompleted"]) == (1, 1)
    assert orders.get(store, crashed.cancelled).status == "cancelled"

    h = _history(store, crashed.refunded, crashed.sku, location)
    assert (h["payment"]["RefundRequested"], h["payment"]["RefundSucceeded"]) == (1, 1)
    assert h["inventory"]["ReservationReleased"] == 1
    assert (h["order"]["OrderCancelled"], h["order"]["CancellationCompleted"]) == (1, 1)
    pay = payments.get(store, crashed.refunded)
    assert pay.refunded == pay.captured > 0 and len(pay.refund_ids) == 1

    h = _history(store, crashed.split, crashed.sku, location)
    assert h["order"]["OrderSplit"] == 1 and h["inventory"]["ReservationReleased"] == 1
    assert h["payment"]["AuthorizationVoided"] == 1
    assert payments.get(store, crashed.split).capturable == 0

    # Stock: on hand less what shipped; only the split's children may still hold any.
    totals = inventory.get(store, crashed.sku).totals()
    assert totals["on_hand"] == 10 - 1 and totals["reserved"] == 0
    assert _parked(container) == parked
