"""Hypothesis stateful tests (pure): random command sequences on one order.

- Folding the stored form (JSON) of every accepted event equals the live state.
- Tags stay unique whatever their case; rejected commands change nothing.
- Driving the status facts the saga will record, the derived status only ever takes a move
  from the transition table; any other move is refused as an illegal transition.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.errors import DomainError, IllegalTransition
from domain.order import decide as decide
from domain.order.commands import (
    AddNote,
    AddTag,
    AddTimelineEntry,
    DeleteNote,
    EditNote,
    ModifyOrder,
    RemoveTag,
)
from domain.order.state import ORDER
from domain.order.status import TERMINAL, StatusFacts, can_move, derive_status, require_transition
from tests.unit.test_order_placement import ADDRESS, NOW, ORDER_ID, placed

NOTE_IDS = [UUID(int=i) for i in range(1, 5)]
TAGS = st.sampled_from(["vip", "VIP", "priority", "Priority", "gift", " gift ", ""])
PRIORITIES = st.sampled_from(["low", "normal", "high", "urgent"])
CITIES = st.sampled_from(["Springfield", "Shelbyville", "Ogdenville"])


class OrderCommands(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.events = [placed()]
        self.state = ORDER.fold(self.events)

    def _run(self, decision):
        try:
            new = decision(self.state)
        except DomainError:
            return
        for event in new:
            self.state = ORDER.evolve(self.state, event)
        self.events.extend(new)

    @rule(priority=PRIORITIES, reason=st.sampled_from(["asked", ""]))
    def change_priority(self, priority, reason):
        self._run(
            lambda s: decide.modify_order(
                s, ModifyOrder(order_id=ORDER_ID, reason=reason, priority=priority), NOW, actor="a"
            )
        )

    @rule(city=CITIES, days=st.integers(-2, 5))
    def change_address_and_date(self, city, days):
        self._run(
            lambda s: decide.modify_order(
                s,
                ModifyOrder(
                    order_id=ORDER_ID,
                    reason="moved",
                    shipping_address=ADDRESS.model_copy(update={"city": city}),
                    scheduled_delivery=NOW.date() + timedelta(days=days),
                ),
                NOW,
                actor="a",
            )
        )

    @rule(note=st.sampled_from(NOTE_IDS), text=st.text(max_size=20), visible=st.booleans())
    def add_note(self, note, text, visible):
        self._run(
            lambda s: decide.add_note(
                s,
                AddNote(order_id=ORDER_ID, text=text, visible_to_customer=visible),
                note_id=note,
                author="a",
            )
        )

    @rule(note=st.sampled_from(NOTE_IDS), text=st.text(max_size=20))
    def edit_note(self, note, text):
        self._run(
            lambda s: decide.edit_note(
                s, EditNote(order_id=ORDER_ID, note_id=note, text=text), editor="b"
            )
        )

    @rule(note=st.sampled_from(NOTE_IDS))
    def delete_note(self, note):
        self._run(
            lambda s: decide.delete_note(s, DeleteNote(order_id=ORDER_ID, note_id=note), actor="b")
        )

    @rule(tag=TAGS)
    def add_tag(self, tag):
        self._run(lambda s: decide.add_tag(s, AddTag(order_id=ORDER_ID, tag=tag), actor="a"))

    @rule(tag=TAGS)
    def remove_tag(self, tag):
        self._run(lambda s: decide.remove_tag(s, RemoveTag(order_id=ORDER_ID, tag=tag), actor="a"))

    @rule(kind=st.sampled_from(["call", "order_placed", "Bad"]))
    def add_timeline_entry(self, kind):
        self._run(
            lambda s: decide.add_timeline_entry(
                s,
                AddTimelineEntry(order_id=ORDER_ID, type=kind, description="d", metadata={"k": 1}),
                actor="a",
            )
        )

    @invariant()
    def folding_the_stored_events_equals_the_live_state(self):
        stored = [type(e).model_validate_json(e.model_dump_json()) for e in self.events]
        assert ORDER.fold(stored) == self.state

    @invariant()
    def tags_are_unique_case_insensitively(self):
        keys = [t.casefold() for t in self.state.tags]
        assert len(keys) == len(set(keys)) and all(keys)

    @invariant()
    def no_command_of_this_area_moves_the_status(self):
        assert self.state.status == "pending"
        assert self.state.scheduled_delivery is None or isinstance(
            self.state.scheduled_delivery, date
        )


class StatusFactsMachine(RuleBasedStateMachine):
    """What the saga will record, guarded by ``require_transition``."""

    def __init__(self):
        super().__init__()
        self.facts = StatusFacts(ordered=4)
        self.history = [derive_status(self.facts)]

    def _try(self, new: StatusFacts):
        before, after = derive_status(self.facts), derive_status(new)
        try:
            require_transition(before, after)
        except IllegalTransition:
            assert not can_move(before, after)
            return
        self.facts = new
        self.history.append(after)

    @rule()
    def confirm(self):
        self._try(replace(self.facts, confirmed=True))

    @precondition(lambda self: self.facts.confirmed)
    @rule()
    def start_picking(self):
        self._try(replace(self.facts, processing=True))

    @rule(n=st.integers(1, 4))
    def ship(self, n):
        f = self.facts
        self._try(replace(f, shipped=min(f.open, f.shipped + n)))

    @rule(n=st.integers(1, 4))
    def deliver(self, n):
        f = self.facts
        self._try(replace(f, delivered=min(f.shipped, f.delivered + n)))

    @rule(n=st.integers(1, 4))
    def return_units(self, n):
        f = self.facts
        self._try(replace(f, returned=min(f.delivered, f.returned + n)))

    @rule(n=st.integers(1, 2))
    def cancel_units(self, n):
        f = self.facts
        take = min(n, f.open - f.shipped - 1)  # a line cancellation keeps one unit open
        if take > 0:
            self._try(replace(f, cancelled_units=f.cancelled_units + take))

    @rule()
    def cancel_order(self):
        self._try(replace(self.facts, cancelled=True))

    @invariant()
    def every_recorded_move_is_in_the_table(self):
        for before, after in zip(self.history, self.history[1:], strict=False):
            assert can_move(before, after)
        for i, status in enumerate(self.history):
            if status in TERMINAL:
                assert set(self.history[i:]) == {status}

    @invariant()
    def units_are_consistent(self):
        f = self.facts
        assert 0 <= f.returned <= f.delivered <= f.shipped <= f.open <= f.ordered


TestOrderCommands = OrderCommands.TestCase
TestOrderCommands.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestStatusFacts = StatusFactsMachine.TestCase
TestStatusFacts.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
