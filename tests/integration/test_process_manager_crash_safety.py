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

The triggering events are appended through the command layer (the same handlers the HTTP
routes call, which record only the intent) while no manager runs: the manager under test is
the only one that does the steps."""

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
from commands import (
    inventory,
    orders,
    payments,
    returns,
)
from commands.context import CommandContext
from commands.dropship import DropshipManager
from commands.executor import execute
from commands.fulfillment_saga import FulfillmentSaga
from commands.line_edit_manager import LineEditManager
from commands.notification_queuer import NotificationQueuer
from commands.placement_saga import OrderPlacementSaga
from commands.process_manager import ProcessManager, WritingManager
from commands.redemptions import RedemptionReleaser
from commands.replenishment import ReplenishmentManager
from commands.returns_manager import ReturnsManager
from domain.command import MoneyIn
from domain.ids import inventory_stream, payment_stream, plan_stream
from domain.inventory.commands import ReceiveStock
from domain.location.commands import RegisterLocation
from domain.order import cancellation_failure as failure
from domain.order.commands import PlaceOrder, RequestedLine
from domain.order.fulfillment_commands import (
    FailCancellation,
    LineUnits,
    RequestCancellation,
    ReviewCancellation,
    SplitOrder,
    SplitPart,
)
from domain.order.line_edit_commands import AddLine, ChangeLine, RemoveLine
from domain.order.state import ORDER
from domain.order.values import Address, PaymentRef
from domain.payment.commands import CapturePayment, RequestRefund
from domain.pricing_policy import FlatRateShipping, FlatRateTax
from domain.promotion.commands import ActivatePromotion, CreatePromotion
from domain.promotion.state import (
    customer_orders_stream,
    customer_redemptions_stream,
    redemptions_stream,
)
from domain.returns.commands import ReceiveReturn, RequestReturn, ReturnLine
from domain.shipment.commands import OpenShipment, RecordTracking
from tests.factories import active_product, priced, send

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")
#: Every process manager, by the name the composition root runs it under.
MANAGERS: dict[str, type[ProcessManager]] = {
    "order_placement": OrderPlacementSaga,
    "fulfillment": FulfillmentSaga,
    "line_edits": LineEditManager,
    "returns": ReturnsManager,
    "promotion_redemptions": RedemptionReleaser,
    "replenishment": ReplenishmentManager,  # its crash test: test_replenishment_crash_safety.py
    # Queues at version 0 of a stream named by (source event, channel): a rerun conflicts and
    # writes nothing; the sender's crashes: test_notification_sender_crashes.py.
    "notifications": NotificationQueuer,
    # A WritingManager: each command keyed by (manager, position, step), as the managers above
    # whose kills this module tests; no SIGKILL test of its own yet.
    "dropship": DropshipManager,
}
MAX_RUNS = 60


# ---- the crashing subprocess ------------------------------------------------------------


@dataclass
class Runs:
    """What the runs of one manager until it finished came to."""

    kills: list[str]  # the step each kill fell after, in order
    last_commits: list[str]  # what the run that finished committed (nothing, after kills)
    last_log: str = ""  # what the run that finished wrote to stderr


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
            return Runs(kills, commits, err)
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
                and not inspect.isabstract(obj)
                and obj is not WritingManager
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
        runs.last_log,
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
    """Six confirmed orders of one SKU, each about to trigger one of the manager's workflows."""

    sku: str
    dispatched: UUID  # dispatched, then delivered
    cancelled: UUID  # cancellation approved, nothing captured
    refunded: UUID  # captured by hand, then cancellation approved: a refund
    split: UUID  # split in two
    retried: UUID  # cancellation approved, failed, approved again
    grown: UUID  # a line of 2 grown to 5 (two reservations), shipped 3 then 2, delivered

    def roles(self) -> dict[str, UUID]:
        return {
            "dispatched": self.dispatched,
            "cancelled": self.cancelled,
            "refunded": self.refunded,
            "split": self.split,
            "retried": self.retried,
            "grown": self.grown,
        }


def _confirmed_orders(container, location: str) -> Fulfillment:  # noqa: ANN001
    sku = _stocked_sku(container, location, 15)
    made = Fulfillment(sku, *(_place(container, sku, q) for q in (1, 1, 1, 2, 1, 2)))
    container.processes.catch_up()  # the placement saga confirms them, in this process
    for order_id in made.roles().values():
        assert orders.get(container.store, order_id).status == "confirmed"
    [line] = orders.get(container.store, made.grown).lines
    grow = ChangeLine(order_id=made.grown, line_id=line.line_id, quantity=5, reason="more")
    send(container, grow, CommandContext.new("agent"))
    container.processes.catch_up()  # the line edit manager reserves 3 more where the 2 are
    assert [a["quantity"] for a in orders.get(container.store, made.grown).allocations] == [2, 3]
    return made


def _track(store, shipment_id: UUID, code: str) -> None:  # noqa: ANN001
    """A carrier's event on the shipment (and its copy on the order): all the request does."""
    send(store, RecordTracking(shipment_id=shipment_id, status=code), CommandContext.new("carrier"))


def _approved_cancellation(store, order_id: UUID) -> UUID:  # noqa: ANN001
    requested = send(
        store, RequestCancellation(order_id=order_id, reason="other"), CommandContext.new("c")
    )
    request_id = UUID(requested.extra["id"])
    approve = ReviewCancellation(request_id=request_id, approve=True)
    send(store, approve, CommandContext.new("manager"))
    return request_id


def _retried_cancellation(store, order_id: UUID) -> None:  # noqa: ANN001
    """Approved, failed (as if the gateway had kept failing the void), approved again."""
    request_id = _approved_cancellation(store, order_id)
    execute(
        store,
        ORDER,
        order_id,
        lambda s, _v: failure.fail_cancellation(
            s,
            FailCancellation(
                order_id=order_id,
                request_id=request_id,
                operation="void",
                reason="gateway_unavailable",
                attempts=4,
            ),
        ),
        CommandContext.new("process:fulfillment"),
    )
    again = ReviewCancellation(request_id=request_id, approve=True)
    retried = send(store, again, CommandContext.new("manager"))
    assert retried.extra["status"] == "approved"


def _shipped(store, order_id: UUID, location: str, quantity: int | None = None) -> None:  # noqa: ANN001
    """A shipment of the order's lines (``quantity`` units of its one line), picked up and
    delivered."""
    order = orders.get(store, order_id)
    lines = [LineUnits(line_id=ln.line_id, quantity=quantity or ln.quantity) for ln in order.lines]
    opened = send(
        store,
        OpenShipment(order_id=order_id, location=location, lines=lines, carrier="UPS"),
        CommandContext.new("picker"),
    )
    shipment_id = UUID(opened.extra["id"])
    _track(store, shipment_id, "picked_up")  # ShipmentDispatched
    _track(store, shipment_id, "delivered")  # ShipmentDelivered


def _trigger_steps(container, made: Fulfillment, location: str) -> None:  # noqa: ANN001
    """The events the manager reacts to, recorded while no manager runs."""
    store = container.store
    _shipped(store, made.dispatched, location)
    _shipped(store, made.grown, location, 3)  # 2 from the first reservation, 1 from the second
    _shipped(store, made.grown, location, 2)  # the second's 2 left
    _approved_cancellation(store, made.cancelled)
    pay = payments.get(store, made.refunded)
    capture = CapturePayment(
        order_id=made.refunded, capture_id=uuid5(made.refunded, "capture"), amount=pay.authorized
    )
    send(container, capture, CommandContext.new("finance"))
    _approved_cancellation(store, made.refunded)
    _retried_cancellation(store, made.retried)
    [line] = orders.get(store, made.split).lines
    part = SplitPart(location=location, lines=[LineUnits(line_id=line.line_id, quantity=1)])
    split = SplitOrder(order_id=made.split, reason="two boxes", parts=[part, part])
    send(store, split, CommandContext.new("manager"))


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
    once = Counter({"capture": 3, "void": 3, "refund": 1})
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

    h = _history(store, crashed.retried, crashed.sku, location)
    assert (h["order"]["CancellationRetried"], h["order"]["CancellationFailed"]) == (1, 1)
    assert h["inventory"]["ReservationReleased"] == 1
    assert h["payment"] == Counter({"PaymentAuthorized": 1, "AuthorizationVoided": 1})
    assert (h["order"]["OrderCancelled"], h["order"]["CancellationCompleted"]) == (1, 1)
    assert orders.get(store, crashed.retried).cancellation.status == "completed"

    h = _history(store, crashed.grown, crashed.sku, location)
    assert (h["order"]["LinesShipped"], h["order"]["LinesDelivered"]) == (2, 2)
    assert h["inventory"]["StockCommitted"] == 3 and h["payment"]["PaymentCaptured"] == 2
    state, pay = orders.get(store, crashed.grown), payments.get(store, crashed.grown)
    assert state.status == "delivered" and [ln.shipped for ln in state.lines] == [5]
    assert pay.captured == state.total.amount

    # Stock: on hand less what shipped; only the split's children may still hold any.
    totals = inventory.get(store, crashed.sku).totals()
    assert totals["on_hand"] == 15 - 1 - 5 and totals["reserved"] == 0
    assert _parked(container) == parked


# ---- the line edit manager --------------------------------------------------------------


@dataclass
class Edits:
    """Confirmed orders, each with one line edit requested and not yet carried out."""

    skus: list[str]  # every SKU the orders hold or add
    added: UUID  # a line added: reserve, authorize the higher total, apply, revise the plan
    shrunk: UUID  # a quantity lowered: release, reserve what stays, lower the authorization
    removed: UUID  # a line removed: release it, lower the authorization
    rejected: UUID  # more than there is: rejected, nothing held

    def roles(self) -> dict[str, UUID]:
        return {
            "added": self.added,
            "shrunk": self.shrunk,
            "removed": self.removed,
            "rejected": self.rejected,
        }


def _requested_edits(container, location: str) -> Edits:  # noqa: ANN001
    """Orders confirmed by the placement saga (in this process), then their edits requested
    while no manager runs."""
    store = container.store
    # ``b``: exactly what the removed order holds and the added line takes, so a replay that
    # did not find its reservation would find no stock left for it.
    a, b, scarce = (_stocked_sku(container, location, n) for n in (10, 4, 3))
    added, shrunk, rejected = _place(container, a, 1), _place(container, a, 3), None
    removed = send(
        priced(
            store, tax=FlatRateTax(Decimal("0.1")), shipping=FlatRateShipping(Decimal("5.00"), None)
        ),
        PlaceOrder(
            customer_id=uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=a, quantity=1), RequestedLine(sku=b, quantity=2)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token="tok_visa"),
        ),
        CommandContext.new("t"),
    ).stream_id
    rejected = _place(container, scarce, 2)
    container.processes.catch_up()
    made = Edits([a, b, scarce], added, shrunk, removed, rejected)
    for order_id in made.roles().values():
        assert orders.get(store, order_id).status == "confirmed"

    def line(order_id: UUID, i: int = 0) -> str:
        return orders.get(store, order_id).lines[i].line_id

    for command in (
        AddLine(order_id=added, sku=b, quantity=2, reason="asked"),
        ChangeLine(order_id=shrunk, line_id=line(shrunk), quantity=1, reason="fewer"),
        RemoveLine(order_id=removed, line_id=line(removed, 1), reason="not wanted"),
        ChangeLine(order_id=rejected, line_id=line(rejected), quantity=9, reason="more"),
    ):
        send(container, command, CommandContext.new("agent"))
    return made


def _edit_history(store, order_id: UUID, skus: list[str], location: str) -> dict:  # noqa: ANN001
    """Every event an order's edit caused, by stream kind (ids left out)."""
    inventory_events: Counter[str] = Counter()
    for sku in skus:
        events = store.load(inventory_stream(sku))
        mine = {
            e.data["reservation_id"]
            for e in events
            if e.name == "StockReserved" and e.data.get("order_id") == str(order_id)
        }
        inventory_events += Counter(e.name for e in events if e.data.get("reservation_id") in mine)
    return {
        "order": _names(store, order_id),
        "payment": _names(store, payment_stream(order_id)),
        "plan": _names(store, plan_stream(order_id, location)),
        "inventory": inventory_events,
    }


def test_the_line_edit_manager_survives_a_kill_after_each_step(container, crashing):
    store = container.store
    location = _location(container)
    parked = _parked(container)

    clean = _requested_edits(container, location)
    t0 = _db_now(container)
    clean_steps = crashing.clean("line_edits")
    t1 = _db_now(container)
    crashed = _requested_edits(container, location)
    t2 = _db_now(container)
    runs = crashing.killed_after_each_step("line_edits")

    # One kill after every step, in the clean run's order; after the last, nothing to do.
    assert runs.kills == clean_steps
    assert runs.last_commits == []
    for step in (
        "append StockReserved",  # reserve what is added,
        "gateway authorize",  # authorize the higher total,
        "append AuthorizationAdjusted",  # record it,
        "append OrderModified, LinesRevised",  # apply the edit,
        "append PlanRevised",  # revise the plan,
        "append ReservationReleased",  # release what shrinks or goes,
        "append LineEditRejected",  # or reject it.
    ):
        assert step in runs.kills, (step, runs.kills)
    assert len(runs.kills) >= 14

    # The gateway authorized once per grown total, as in the clean run.
    clean_ops = _gateway_since(container, t0) - _gateway_since(container, t1)
    assert clean_ops == Counter({"authorize": 1}), clean_ops
    assert _gateway_since(container, t2) == Counter({"authorize": 1})

    # Each order's history is its twin's: every step once.
    for role, order_id in crashed.roles().items():
        twin = clean.roles()[role]
        assert _edit_history(store, order_id, crashed.skus, location) == _edit_history(
            store, twin, clean.skus, location
        ), role
        state = orders.get(store, order_id)
        assert state.pending_edit is None, role
        assert payments.get(store, order_id).authorized == state.total.amount, role

    h = _edit_history(store, crashed.added, crashed.skus, location)
    assert (h["order"]["LineEditRequested"], h["order"]["LinesRevised"]) == (1, 1)
    assert h["inventory"] == Counter({"StockReserved": 2, "ReservationConfirmed": 1})
    assert h["payment"] == Counter({"PaymentAuthorized": 1, "AuthorizationAdjusted": 1})
    assert h["plan"] == Counter({"PlanCreated": 1, "PlanRevised": 1})
    h = _edit_history(store, crashed.shrunk, crashed.skus, location)
    assert h["inventory"] == Counter(
        {"StockReserved": 2, "ReservationConfirmed": 1, "ReservationReleased": 1}
    )
    assert orders.get(store, crashed.shrunk).lines[0].reserved == 1
    h = _edit_history(store, crashed.removed, crashed.skus, location)
    assert h["inventory"]["ReservationReleased"] == 1 and h["order"]["LinesRevised"] == 1
    h = _edit_history(store, crashed.rejected, crashed.skus, location)
    assert h["order"]["LineEditRejected"] == 1 and h["order"]["LinesRevised"] == 0
    assert h["payment"] == Counter({"PaymentAuthorized": 1})

    # Stock: what the orders hold after their edits, nothing more.
    a, b, scarce = crashed.skus
    assert inventory.get(store, a).totals()["reserved"] == 1 + 1 + 1
    assert inventory.get(store, b).totals()["reserved"] == 2
    assert inventory.get(store, scarce).totals()["reserved"] == 2
    assert _parked(container) == parked


@dataclass
class Returns:
    """Three delivered orders of one SKU, each about to trigger one of the manager's steps."""

    sku: str
    returned: UUID  # a return received with restock: restocked, lines returned, refunded
    refunded: UUID  # a client's refund (``RequestRefund``): the gateway, then settled
    retried: UUID  # a return whose refund failed, asked again: fails again
    return_ids: dict[str, UUID]

    def roles(self) -> dict[str, UUID]:
        return {"returned": self.returned, "refunded": self.refunded, "retried": self.retried}


def _delivered_orders(container, location: str) -> Returns:  # noqa: ANN001
    """Three orders confirmed, shipped and delivered by the other managers, in this process."""
    sku = _stocked_sku(container, location, 10)
    ids = [_place(container, sku, 1), _place(container, sku, 1),
           _place(container, sku, 1, "tok_refund_fails")]  # fmt: skip
    container.processes.catch_up()  # confirmed
    for order_id in ids:
        order = orders.get(container.store, order_id)
        lines = [LineUnits(line_id=ln.line_id, quantity=ln.quantity) for ln in order.lines]
        opened = send(
            container,
            OpenShipment(order_id=order_id, location=location, lines=lines, carrier="UPS"),
            CommandContext.new("picker"),
        )
        shipment_id = UUID(opened.extra["id"])
        _track(container.store, shipment_id, "picked_up")
        _track(container.store, shipment_id, "delivered")
    container.processes.catch_up()  # shipped, captured, delivered; nothing of the returns yet
    for order_id in ids:
        assert orders.get(container.store, order_id).status == "delivered"
    return Returns(sku, *ids, return_ids={})


def _return_of(container, order_id: UUID) -> UUID:  # noqa: ANN001
    [line] = orders.get(container.store, order_id).lines
    asked = RequestReturn(
        order_id=order_id, lines=[ReturnLine(line_id=line.line_id, quantity=1)], reason="broken"
    )
    return UUID(send(container, asked, CommandContext.new("customer")).extra["id"])


def _trigger_return_steps(container, made: Returns, location: str) -> None:  # noqa: ANN001
    """The events the returns manager reacts to, recorded while no manager runs."""
    ctx = CommandContext.new("clerk")
    made.return_ids["returned"] = ret = _return_of(container, made.returned)
    send(container, ReceiveReturn(return_id=ret, restock=True, location=location), ctx)
    amount = MoneyIn(amount="5.00", currency="USD")
    send(container, RequestRefund(order_id=made.refunded, amount=amount), ctx)
    # the first refund of this one failed before (its steps run here), then it is asked again
    made.return_ids["retried"] = ret = _return_of(container, made.retried)
    send(container, ReceiveReturn(return_id=ret, restock=False), ctx)
    returns.settle(container.dispatcher.write, ctx, ret)
    assert returns.get(container.store, ret)[0].refund == "failed"
    send(container, ReceiveReturn(return_id=ret, restock=False), ctx)


def _return_history(container, made: Returns, role: str) -> dict[str, Counter[str]]:  # noqa: ANN001
    store, order_id = container.store, made.roles()[role]
    ret = made.return_ids.get(role)
    return {
        "order": _names(store, order_id),
        "payment": _names(store, payment_stream(order_id)),
        "return": _names(store, ret) if ret else Counter(),
        "restocked": Counter(
            e.name
            for e in store.load(inventory_stream(made.sku))
            if e.name == "StockReceived" and e.data.get("reference") == f"return:{ret}"
        ),
    }


def test_the_returns_manager_survives_a_kill_after_each_step(container, crashing):
    store = container.store
    location = _location(container)
    clean = _delivered_orders(container, location)
    _trigger_return_steps(container, clean, location)
    parked = _parked(container)
    t0 = _db_now(container)
    clean_steps = crashing.clean("returns")
    t1 = _db_now(container)
    crashed = _delivered_orders(container, location)
    _trigger_return_steps(container, crashed, location)
    t2 = _db_now(container)
    runs = crashing.killed_after_each_step("returns")

    # One kill after every step, in the clean run's order; after the last, nothing to do.
    assert runs.kills == clean_steps
    assert runs.last_commits == []
    for step in (
        "append StockReceived",  # restock,
        "append LinesReturned",  # the order counts the lines returned,
        "append RefundRequested",  # the refund in flight,
        "gateway refund",  # asked of the gateway,
        "append RefundSucceeded",  # recorded,
        "append ReturnRefunded",  # the return refunded;
        "append RefundFailed",  # a failing refund recorded,
        "append ReturnRefundFailed",  # and on the return.
    ):
        assert step in runs.kills, (step, runs.kills)

    # The gateway refunded once per refund that went through: the return's and the client's.
    once = Counter({"refund": 2})
    assert _gateway_since(container, t0) - _gateway_since(container, t1) == once
    assert _gateway_since(container, t2) == once

    # Each order's history is its twin's, and each step happened once.
    for role in crashed.roles():
        assert _return_history(container, crashed, role) == _return_history(
            container, clean, role
        ), role
    h = _return_history(container, crashed, "returned")
    assert h["restocked"] == Counter({"StockReceived": 1})
    assert h["order"]["LinesReturned"] == 1
    assert (h["payment"]["RefundRequested"], h["payment"]["RefundSucceeded"]) == (1, 1)
    assert h["return"]["ReturnRefunded"] == 1
    assert returns.get(store, crashed.return_ids["returned"])[0].status == "refunded"

    h = _return_history(container, crashed, "refunded")
    assert (h["payment"]["RefundRequested"], h["payment"]["RefundSucceeded"]) == (1, 1)
    assert payments.get(store, crashed.refunded).refunded == Decimal("5.00")

    h = _return_history(container, crashed, "retried")
    assert (h["payment"]["RefundRequested"], h["payment"]["RefundFailed"]) == (2, 2)
    assert h["return"]["ReturnRefundFailed"] == 2 and h["return"]["ReturnRefundRetried"] == 1
    assert h["order"]["LinesReturned"] == 1
    state, _ = returns.get(store, crashed.return_ids["retried"])
    assert (state.status, state.refund) == ("received", "failed")

    # Stock: 10, less the three shipped, plus the one restocked.
    assert inventory.get(store, crashed.sku).totals()["on_hand"] == 10 - 3 + 1
    assert _parked(container) == parked


# ---- the redemption releaser ------------------------------------------------------------


@dataclass
class Redemptions:
    """Four orders of two customers with one code limited to 4 uses, 2 a customer, all claimed
    by the placement saga; three then cancelled, each about to have its uses given back."""

    promotion_id: UUID
    ann: UUID
    bob: UUID
    kept: UUID  # Ann's, confirmed: keeps its use
    declined: UUID  # Ann's, payment declined: the saga cancels it after claiming
    also_declined: UUID  # Bob's, likewise
    cancelled: UUID  # Bob's, confirmed, then its cancellation approved (the fulfillment manager)

    def roles(self) -> dict[str, tuple[UUID, UUID]]:
        """Each order and its customer."""
        return {
            "kept": (self.kept, self.ann),
            "declined": (self.declined, self.ann),
            "also_declined": (self.also_declined, self.bob),
            "cancelled": (self.cancelled, self.bob),
        }


def _place_with_code(container, sku: str, code: str, customer: UUID, token: str) -> UUID:  # noqa: ANN001
    return send(
        container,
        PlaceOrder(
            customer_id=customer,
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=ADDRESS,
            payment=PaymentRef(token=token),
            promotion_codes=[code],
        ),
        CommandContext.new("t"),
    ).stream_id


def _cancelled_with_promotions(container, crashing, location: str) -> Redemptions:  # noqa: ANN001
    """The orders placed, claimed and cancelled by the other managers, each run in a process of
    its own (a catch-up here would run the releaser too)."""
    store = container.store
    sku = _stocked_sku(container, location, 10)
    code = f"CR-{uuid4().hex[:10]}"
    ctx = CommandContext.new("merchant")
    limited = CreatePromotion(name="crash", code=code, target="order", kind="percentage",
                              value="10", usage_limit=4, per_customer_limit=2)  # fmt: skip
    made = send(container, limited, ctx)
    send(container, ActivatePromotion(promotion_id=made.stream_id), ctx)
    ann, bob = uuid4(), uuid4()
    ids = [
        _place_with_code(container, sku, code, customer, token)
        for customer, token in (
            (ann, "tok_visa"),
            (ann, "tok_declined"),
            (bob, "tok_declined"),
            (bob, "tok_visa"),
        )
    ]
    r = Redemptions(made.stream_id, ann, bob, *ids)
    crashing.clean("order_placement")  # claims every use, confirms or cancels
    pid = r.promotion_id
    assert _holders(store, redemptions_stream(pid)) == set(ids)
    assert _holders(store, customer_redemptions_stream(pid, bob)) == {r.also_declined, r.cancelled}
    _approved_cancellation(store, r.cancelled)
    crashing.clean("fulfillment")  # voids, releases the stock, cancels
    statuses = {"kept": "confirmed", "declined": "cancelled", "also_declined": "cancelled",
                "cancelled": "cancelled"}  # fmt: skip
    for role, (order_id, _customer) in r.roles().items():
        assert orders.get(store, order_id).status == statuses[role], role
    assert _holders(store, redemptions_stream(pid)) == set(ids)  # nothing given back yet
    return r


def _holders(store, stream_id: UUID) -> set[UUID]:  # noqa: ANN001
    held: set[UUID] = set()
    for e in store.load(stream_id):
        order_id = UUID(e.data["order_id"])
        if e.name in ("RedemptionClaimed", "CustomerOrderCounted"):
            held.add(order_id)
        else:
            held.discard(order_id)
    return held


def _redemption_history(store, made: Redemptions, role: str) -> dict[str, Counter[str]]:  # noqa: ANN001
    """Every event of an order on its promotion's streams and its customer's ledger."""
    order_id, customer = made.roles()[role]
    pid = made.promotion_id

    def mine(stream_id: UUID) -> Counter[str]:
        return Counter(
            e.name for e in store.load(stream_id) if e.data.get("order_id") == str(order_id)
        )

    return {
        "order": _names(store, order_id),
        "uses": mine(redemptions_stream(pid)),
        "customer_uses": mine(customer_redemptions_stream(pid, customer)),
        "ledger": mine(customer_orders_stream(customer)),
    }


def test_the_redemption_releaser_survives_a_kill_after_each_step(container, crashing):
    store = container.store
    location = _location(container)
    container.processes.catch_up()  # the managers start from the head: only ours to do
    parked = _parked(container)

    clean = _cancelled_with_promotions(container, crashing, location)
    clean_steps = crashing.clean("promotion_redemptions")
    crashed = _cancelled_with_promotions(container, crashing, location)
    runs = crashing.killed_after_each_step("promotion_redemptions")

    # One kill after every step (one transaction a cancelled order), in the clean run's order;
    # after the last, nothing to do.
    released = "append RedemptionReleased, RedemptionReleased, CustomerOrderUncounted"
    assert clean_steps == [released] * 3, clean_steps
    assert runs.kills == clean_steps
    assert runs.last_commits == []

    # Each order's history is its twin's; each cancelled order's uses given back once.
    for role in crashed.roles():
        assert _redemption_history(store, crashed, role) == _redemption_history(
            store, clean, role
        ), role
    given_back = Counter({"RedemptionClaimed": 1, "RedemptionReleased": 1})
    for role in ("declined", "also_declined", "cancelled"):
        h = _redemption_history(store, crashed, role)
        assert h["uses"] == h["customer_uses"] == given_back, (role, h)
        assert h["ledger"] == Counter({"CustomerOrderCounted": 1, "CustomerOrderUncounted": 1})
        assert h["order"]["OrderCancelled"] == 1, role
    h = _redemption_history(store, crashed, "kept")
    assert h["uses"] == h["customer_uses"] == Counter({"RedemptionClaimed": 1})
    assert h["ledger"] == Counter({"CustomerOrderCounted": 1})

    # What is held: the kept order's use, nothing of Bob's; three of the four uses free again.
    pid = crashed.promotion_id
    assert _holders(store, redemptions_stream(pid)) == {crashed.kept}
    assert _holders(store, customer_redemptions_stream(pid, crashed.ann)) == {crashed.kept}
    assert _holders(store, customer_redemptions_stream(pid, crashed.bob)) == set()
    assert _holders(store, customer_orders_stream(crashed.ann)) == {crashed.kept}
    assert _holders(store, customer_orders_stream(crashed.bob)) == set()
    assert _parked(container) == parked
