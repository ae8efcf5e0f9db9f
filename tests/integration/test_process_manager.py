"""A tracked process manager sends each event's commands once, even when it replays, and
stamps them with its own clock when it decides."""

import time
import uuid
from datetime import timedelta

from commands.context import CommandContext
from commands.process_manager import ProcessManager, ProcessRunner, Trigger
from domain.location.commands import DeactivateLocation, RegisterLocation
from eventstore.follower import RetryPolicy
from tests.factories import send


class CloseTemporaryLocations(ProcessManager):
    """Test-only: deactivates every location registered with the name 'temporary'."""

    name = f"test-close-temporary-{uuid.uuid4().hex[:6]}"
    topics = ("location.LocationRegistered",)

    def __init__(self, store, clock):
        self.store, self.clock = store, clock
        self.handled = 0

    def handle(self, trigger: Trigger) -> None:
        self.handled += 1
        if trigger.event.data["name"] == "temporary":
            send(
                self.store,
                DeactivateLocation(code=trigger.event.data["code"], reason="temporary"),
                trigger.context("deactivate", now=self.clock()),
            )


def test_commands_take_effect_once_even_after_a_replay(container):
    store = container.store
    code = f"PM-{uuid.uuid4().hex[:8]}"
    registered = send(
        store,
        RegisterLocation(code=code, name="temporary", type="store", priority=1),
        CommandContext.new("t"),
    )
    decided_at = store.load(registered.stream_id)[0].meta.occurred_at + timedelta(minutes=5)
    manager = CloseTemporaryLocations(store, clock=lambda: decided_at)
    runner = ProcessRunner(store, [manager])
    runner.catch_up()
    events = store.load(registered.stream_id)
    assert [e.name for e in events] == ["LocationRegistered", "LocationDeactivated"]
    deactivated = events[1]
    assert deactivated.meta.causation_id == f"{registered.stream_id}@1"
    assert deactivated.meta.actor == f"process:{manager.name}"
    # stamped by the manager's clock when it decided, not with the trigger's time
    assert deactivated.meta.occurred_at == decided_at

    # A crash before the position was stored: the manager sees the event again.
    with store.datastore.get_connection() as conn:
        conn.execute("UPDATE process_tracking SET position = 0 WHERE name = %s", (manager.name,))
    head = store.head()
    runner.catch_up()
    assert manager.handled >= 2
    assert store.head() == head
    assert len(store.load(registered.stream_id)) == 2


class RecordLocations(ProcessManager):
    """Test-only: records the codes of the locations it sees with a prefix, one event at a
    time; fails once on the code it is told to."""

    topics = ("location.LocationRegistered",)

    def __init__(self, prefix: str, fail_once_on: str | None = None):
        self.name = f"test-record-{uuid.uuid4().hex[:6]}"
        self.prefix, self.fail_once_on = prefix, fail_once_on
        self.seen: list[str] = []

    def handle(self, trigger: Trigger) -> None:
        code = trigger.event.data["code"]
        if not code.startswith(self.prefix):
            return
        if code == self.fail_once_on:
            self.fail_once_on = None
            raise ValueError("the handler failed once")
        self.seen.append(code)


class PositionsStored(ProcessRunner):
    """The runner, keeping each position it stores (the store still writes it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored: list[int] = []

    def _store(self, conn, name: str, position: int) -> None:  # noqa: ANN001
        self.stored.append(position)
        super()._store(conn, name, position)


def _register(store, codes: list[str]) -> list[int]:
    """Registers the locations; returns the position of each one's event."""
    positions = []
    for code in codes:
        registered = send(
            store,
            RegisterLocation(code=code, name=code, type="store", priority=1),
            CommandContext.new("t"),
        )
        positions.append(store.load_with_positions(registered.stream_id)[0].position)
    return positions


def test_a_pass_over_many_events_stores_its_position_once(container):
    # Given five events of a manager that handles one at a time
    prefix = f"PASS-{uuid.uuid4().hex[:6]}-"
    codes = [f"{prefix}{i}" for i in range(5)]
    positions = _register(container.store, codes)
    manager = RecordLocations(prefix)
    runner = PositionsStored(container.store, [manager], batch=100_000)
    # When one pass handles them all
    runner.run_once(manager.name)
    # Then each is handled, and the position is written once, past the last of them
    assert manager.seen == codes
    assert len(runner.stored) == 1 and runner.stored[0] >= positions[-1]


def test_a_failed_event_resumes_after_the_events_handled_before_it(container):
    # Given five events, the third of which fails once
    prefix = f"FAIL-{uuid.uuid4().hex[:6]}-"
    codes = [f"{prefix}{i}" for i in range(5)]
    positions = _register(container.store, codes)
    manager = RecordLocations(prefix, fail_once_on=codes[2])
    runner = PositionsStored(
        container.store, [manager], batch=100_000, retry=RetryPolicy(backoff_s=0.0)
    )
    # When a pass fails on it
    assert runner.run_once(manager.name) == 0
    # Then the position kept is the event just before it
    assert runner.stored[-1] == positions[1]
    # And the next pass handles it and the rest, and none of the first two again
    runner.run_once(manager.name)
    assert manager.seen == codes
    assert runner.stored[-1] >= positions[-1]


class PacedRecordLocations(RecordLocations):
    """Test-only: ``RecordLocations`` whose loop paces its passes."""

    pace_s = 1.0


def test_a_paced_manager_takes_what_came_during_its_pause_in_one_pass(container, database_url):
    # Given a paced manager's loop, woken by commits
    prefix = f"PACE-{uuid.uuid4().hex[:6]}-"
    codes = [f"{prefix}{i}" for i in range(5)]
    manager = PacedRecordLocations(prefix)
    runner = PositionsStored(container.store, [manager], batch=100_000)
    runner.run_once(manager.name)  # (past what earlier tests wrote)
    runner.stored.clear()
    runner.start(database_url)
    try:
        # When one event comes, and four more while its pass's pause runs
        _register(container.store, codes[:1])
        deadline = time.monotonic() + 5
        while manager.seen != codes[:1] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert manager.seen == codes[:1]
        positions = _register(container.store, codes[1:])
        # Then the four are handled in one pass after the pause, not one pass each
        deadline = time.monotonic() + 5
        while manager.seen != codes and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        runner.stop()
    assert manager.seen == codes
    assert len(runner.stored) == 2 and runner.stored[-1] >= positions[-1], runner.stored
