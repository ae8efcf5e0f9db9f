"""A tracked process manager sends each event's commands once, even when it replays, and
stamps them with its own clock when it decides."""

import uuid
from datetime import timedelta

from commands.context import CommandContext
from commands.process_manager import ProcessManager, ProcessRunner, Trigger
from domain.location.commands import DeactivateLocation, RegisterLocation
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
