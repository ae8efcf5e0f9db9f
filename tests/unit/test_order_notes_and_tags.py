"""Notes, tags and custom timeline entries, given / when / then."""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.order import decide as decide
from domain.order.commands import AddNote, AddTag, AddTimelineEntry, DeleteNote, EditNote, RemoveTag
from domain.order.events import NoteAdded, NoteDeleted, NoteEdited, TagAdded, TagRemoved
from domain.order.state import OrderState
from tests.unit.test_order_placement import ORDER_ID, given, placed

NOTE = UUID("00000000-0000-4000-8000-0000000000a1")


def with_note(visible: bool = False) -> OrderState:
    return given(
        placed(),
        NoteAdded(note_id=NOTE, text="fragile", visible_to_customer=visible, author="ann"),
    )


# ---- notes -------------------------------------------------------------------------------


def test_adding_a_note_records_its_kind_and_visibility():
    [event] = decide.add_note(
        given(placed()),
        AddNote(order_id=ORDER_ID, text="hi", kind="agent"),
        note_id=NOTE,
        author="ann",
    )
    assert event == NoteAdded(
        note_id=NOTE, text="hi", kind="agent", visible_to_customer=False, author="ann"
    )


@pytest.mark.parametrize("text", ["", "   "])
def test_a_note_with_blank_text_is_refused(text):
    with pytest.raises(InvalidCommand) as err:
        decide.add_note(
            given(placed()), AddNote(order_id=ORDER_ID, text=text), note_id=NOTE, author="ann"
        )
    assert err.value.code == "invalid_note_text"


def test_a_note_id_used_twice_is_a_conflict():
    with pytest.raises(Conflict) as err:
        decide.add_note(
            with_note(), AddNote(order_id=ORDER_ID, text="again"), note_id=NOTE, author="ann"
        )
    assert err.value.code == "note_exists"


def test_a_note_on_an_unknown_order_is_not_found():
    with pytest.raises(NotFound) as err:
        decide.add_note(
            OrderState(), AddNote(order_id=ORDER_ID, text="hi"), note_id=NOTE, author="ann"
        )
    assert err.value.code == "order_not_found"


def test_editing_a_note_updates_text_and_visibility():
    [event] = decide.edit_note(
        with_note(),
        EditNote(order_id=ORDER_ID, note_id=NOTE, text="very fragile", visible_to_customer=True),
        editor="bo",
    )
    assert event == NoteEdited(
        note_id=NOTE, text="very fragile", visible_to_customer=True, edited_by="bo"
    )
    state = given(*[placed()], NoteAdded(note_id=NOTE, text="fragile", author="ann"), event)
    assert state.note(NOTE).text == "very fragile" and state.note(NOTE).visible_to_customer


def test_editing_a_note_to_what_it_already_says_writes_nothing():
    assert (
        decide.edit_note(
            with_note(), EditNote(order_id=ORDER_ID, note_id=NOTE, text="fragile"), editor="bo"
        )
        == []
    )


def test_editing_or_deleting_an_unknown_note_is_not_found():
    other = UUID("00000000-0000-4000-8000-0000000000a2")
    with pytest.raises(NotFound) as err:
        decide.edit_note(
            with_note(), EditNote(order_id=ORDER_ID, note_id=other, text="x"), editor="bo"
        )
    assert err.value.code == "note_not_found"
    with pytest.raises(NotFound) as err:
        decide.delete_note(with_note(), DeleteNote(order_id=ORDER_ID, note_id=other), actor="bo")
    assert err.value.code == "note_not_found"


def test_a_deleted_note_is_hidden_and_cannot_be_edited_or_deleted_again():
    [event] = decide.delete_note(
        with_note(), DeleteNote(order_id=ORDER_ID, note_id=NOTE), actor="bo"
    )
    assert event == NoteDeleted(note_id=NOTE, deleted_by="bo")
    state = given(placed(), NoteAdded(note_id=NOTE, text="t", author="a"), event)
    assert state.note(NOTE) is None and state.notes[0].deleted
    with pytest.raises(NotFound):
        decide.delete_note(state, DeleteNote(order_id=ORDER_ID, note_id=NOTE), actor="bo")


# ---- tags --------------------------------------------------------------------------------


def test_tagging_adds_the_tag_once_whatever_its_case():
    [event] = decide.add_tag(
        given(placed()), AddTag(order_id=ORDER_ID, tag=" priority "), actor="ann"
    )
    assert event == TagAdded(tag="priority", added_by="ann")
    state = given(placed(), event)
    assert decide.add_tag(state, AddTag(order_id=ORDER_ID, tag="priority"), actor="ann") == []
    assert decide.add_tag(state, AddTag(order_id=ORDER_ID, tag="PRIORITY"), actor="ann") == []


@pytest.mark.parametrize("tag", ["", "   "])
def test_a_blank_tag_is_refused(tag):
    with pytest.raises(InvalidCommand) as err:
        decide.add_tag(given(placed()), AddTag(order_id=ORDER_ID, tag=tag), actor="ann")
    assert err.value.code == "invalid_tag"


def test_untagging_removes_the_tag_in_any_case_and_an_absent_tag_writes_nothing():
    state = given(placed(), TagAdded(tag="VIP", added_by="ann"))
    [event] = decide.remove_tag(state, RemoveTag(order_id=ORDER_ID, tag="vip"), actor="bo")
    assert event == TagRemoved(tag="VIP", removed_by="bo")
    assert given(placed(), TagAdded(tag="VIP", added_by="ann"), event).tags == ()
    assert decide.remove_tag(state, RemoveTag(order_id=ORDER_ID, tag="other"), actor="bo") == []


def test_an_overlong_note_tag_or_timeline_entry_is_refused_by_the_command_itself():
    # Given the longest note, tag and entry the commands take
    AddNote(order_id=ORDER_ID, text="x" * 5000)
    AddTag(order_id=ORDER_ID, tag="t" * 100)
    AddTimelineEntry(order_id=ORDER_ID, type="t" * 64, description="d" * 2000)
    # When one character more is asked, Then the command itself refuses it
    with pytest.raises(ValidationError):
        AddNote(order_id=ORDER_ID, text="x" * 5001)
    with pytest.raises(ValidationError):
        AddTag(order_id=ORDER_ID, tag="t" * 101)
    with pytest.raises(ValidationError):
        AddTimelineEntry(order_id=ORDER_ID, type="t" * 65, description="d")
    with pytest.raises(ValidationError):
        AddTimelineEntry(order_id=ORDER_ID, type="t", description="d" * 2001)


# ---- timeline entries --------------------------------------------------------------------


def test_a_custom_timeline_entry_keeps_its_metadata():
    [event] = decide.add_timeline_entry(
        given(placed()),
        AddTimelineEntry(
            order_id=ORDER_ID,
            type="customer_called",
            description="Asked about delivery",
            metadata={"duration_s": 42, "topics": ["delivery"]},
        ),
        actor="ann",
    )
    assert event.entry_type == "customer_called"
    assert event.metadata == {"duration_s": 42, "topics": ["delivery"]}


@pytest.mark.parametrize(
    ("entry_type", "description", "code"),
    [
        ("Bad Type", "x", "invalid_timeline_type"),
        ("order_placed", "x", "reserved_timeline_type"),
        ("call", " ", "invalid_description"),
    ],
)
def test_bad_timeline_entries_are_refused(entry_type, description, code):
    with pytest.raises(InvalidCommand) as err:
        decide.add_timeline_entry(
            given(placed()),
            AddTimelineEntry(order_id=ORDER_ID, type=entry_type, description=description),
            actor="a",
        )
    assert err.value.code == code
