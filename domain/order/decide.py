"""Decisions on an existing order: modifications, notes, tags and custom timeline entries.

Each takes the state and the command (``commands.py``), with what the command does not carry
(the clock, the actor, an id its handler made), and returns the events to append; an empty
list means "nothing changed, write nothing". Confirm and cancel are the sagas'."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.errors import Conflict, InvalidCommand, NotFound
from domain.events import DomainEvent
from domain.order.commands import (
    AddNote,
    AddTag,
    AddTimelineEntry,
    CancelOrder,
    ConfirmOrder,
    DeleteNote,
    EditNote,
    ModifyOrder,
    RemoveTag,
)
from domain.order.events import (
    ORDER_STREAM_EVENTS,
    NoteAdded,
    NoteDeleted,
    NoteEdited,
    OrderCancelled,
    OrderConfirmed,
    OrderModified,
    TagAdded,
    TagRemoved,
    TimelineEntryAdded,
)
from domain.order.state import OrderState
from domain.order.status import require_transition
from domain.order.values import Address, GiftOptions, ModificationType

MAX_NOTE = 5000
MAX_TAG = 100
TIMELINE_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RESERVED_TIMELINE_TYPES = frozenset(e.timeline_type() for e in ORDER_STREAM_EVENTS)

#: Fields ModifyOrder may change, their modification type, and whether dispatch freezes them.
MODIFIABLE: dict[str, tuple[ModificationType, bool]] = {
    "shipping_address": ("address_change", True),
    "priority": ("priority_change", False),
    "gift": ("gift_options_change", True),
    "scheduled_delivery": ("delivery_date_change", True),
}


def require_order(state: OrderState, order_id: UUID) -> OrderState:
    if not state.exists:
        raise NotFound(f"Order {order_id} does not exist.", code="order_not_found")
    return state


def _as_json(value: Any) -> Any:
    if isinstance(value, Address | GiftOptions):
        return value.model_dump(mode="json")
    if isinstance(value, date):
        return value.isoformat()
    return value


def modify_order(
    state: OrderState, c: ModifyOrder, now: datetime, *, actor: str
) -> list[DomainEvent]:
    """One ``OrderModified`` per field whose value differs from the current one. A split
    parent is frozen: its children carry the order on."""
    require_order(state, c.order_id)
    if state.split:
        raise Conflict("This order was split; modify its children.", code="order_frozen")
    requested = {field: getattr(c, field) for field in MODIFIABLE}
    requested = {k: v for k, v in requested.items() if v is not None}
    if not requested:
        raise InvalidCommand("Name at least one field to change.", code="nothing_to_modify")
    reason = c.reason or ""
    if not reason.strip():
        raise InvalidCommand("A modification needs a reason.", code="reason_required")
    if state.cancelled:
        raise Conflict("A cancelled order cannot be modified.", code="order_cancelled")
    if c.scheduled_delivery is not None and c.scheduled_delivery < now.date():
        raise InvalidCommand("The delivery date is in the past.", code="delivery_date_in_past")
    dispatched = state.facts().shipped > 0
    events: list[DomainEvent] = []
    for field, new in requested.items():
        modification_type, frozen_by_dispatch = MODIFIABLE[field]
        old_json, new_json = _as_json(getattr(state, field)), _as_json(new)
        if old_json == new_json:
            continue
        if frozen_by_dispatch and dispatched:
            raise Conflict(
                f"'{field}' cannot change after the first dispatch.",
                code="order_already_dispatched",
            )
        events.append(
            OrderModified(
                field=field,
                modification_type=modification_type,
                old_value=old_json,
                new_value=new_json,
                reason=reason,
                actor=actor,
            )
        )
    return events


def _note_text(text: str) -> str:
    if not text.strip() or len(text) > MAX_NOTE:
        raise InvalidCommand(f"A note has 1 to {MAX_NOTE} characters.", code="invalid_note_text")
    return text


def add_note(state: OrderState, c: AddNote, *, note_id: UUID, author: str) -> list[DomainEvent]:
    """``c``'s note, under ``note_id`` (the handler makes it up)."""
    require_order(state, c.order_id)
    if any(n.note_id == note_id for n in state.notes):
        raise Conflict(f"Note {note_id} already exists.", code="note_exists")
    return [
        NoteAdded(
            note_id=note_id,
            text=_note_text(c.text),
            kind=c.kind,
            visible_to_customer=c.visible_to_customer,
            author=author,
        )
    ]


def _require_note(state: OrderState, order_id: UUID, note_id: UUID):
    require_order(state, order_id)
    note = state.note(note_id)
    if note is None:
        raise NotFound(f"Note {note_id} does not exist on this order.", code="note_not_found")
    return note


def edit_note(state: OrderState, c: EditNote, *, editor: str) -> list[DomainEvent]:
    note = _require_note(state, c.order_id, c.note_id)
    if c.text is None and c.visible_to_customer is None:
        raise InvalidCommand("Give a new text or visibility.", code="nothing_to_modify")
    new_text = note.text if c.text is None else _note_text(c.text)
    visible = note.visible_to_customer if c.visible_to_customer is None else c.visible_to_customer
    if (new_text, visible) == (note.text, note.visible_to_customer):
        return []
    return [
        NoteEdited(note_id=c.note_id, text=new_text, visible_to_customer=visible, edited_by=editor)
    ]


def delete_note(state: OrderState, c: DeleteNote, *, actor: str) -> list[DomainEvent]:
    _require_note(state, c.order_id, c.note_id)
    return [NoteDeleted(note_id=c.note_id, deleted_by=actor)]


def normalize_tag(tag: str) -> str:
    cleaned = tag.strip()
    if not 1 <= len(cleaned) <= MAX_TAG:
        raise InvalidCommand(f"A tag has 1 to {MAX_TAG} characters.", code="invalid_tag")
    return cleaned


def add_tag(state: OrderState, c: AddTag, *, actor: str) -> list[DomainEvent]:
    require_order(state, c.order_id)
    cleaned = normalize_tag(c.tag)
    if state.has_tag(cleaned):
        return []
    return [TagAdded(tag=cleaned, added_by=actor)]


def remove_tag(state: OrderState, c: RemoveTag, *, actor: str) -> list[DomainEvent]:
    require_order(state, c.order_id)
    cleaned = normalize_tag(c.tag)
    current = next((t for t in state.tags if t.casefold() == cleaned.casefold()), None)
    if current is None:
        return []
    return [TagRemoved(tag=current, removed_by=actor)]


def add_timeline_entry(state: OrderState, c: AddTimelineEntry, *, actor: str) -> list[DomainEvent]:
    require_order(state, c.order_id)
    entry_type, description = c.type, c.description
    if not TIMELINE_TYPE.match(entry_type):
        raise InvalidCommand(
            "A timeline entry type is snake_case, 1 to 64 characters.",
            code="invalid_timeline_type",
        )
    if entry_type in RESERVED_TIMELINE_TYPES:
        raise InvalidCommand(
            f"'{entry_type}' is recorded by the order itself.", code="reserved_timeline_type"
        )
    if not description.strip() or len(description) > 2000:
        raise InvalidCommand("A description has 1 to 2000 characters.", code="invalid_description")
    return [
        TimelineEntryAdded(
            entry_type=entry_type,
            description=description,
            metadata=c.metadata or {},
            added_by=actor,
        )
    ]


def confirm_order(state: OrderState, c: ConfirmOrder, now: datetime) -> list[DomainEvent]:
    """The saga's confirmation; a repeat on a confirmed order writes nothing."""
    require_order(state, c.order_id)
    if state.confirmed and not state.cancelled:
        return []
    require_transition(state.status, "confirmed")
    return [OrderConfirmed(allocations=c.allocations, confirmed_at=now)]


def cancel_order(
    state: OrderState, c: CancelOrder, now: datetime, *, actor: str
) -> list[DomainEvent]:
    """Cancel the whole order, by ``actor``; a repeat on a cancelled order writes nothing."""
    require_order(state, c.order_id)
    if state.cancelled:
        return []
    require_transition(state.status, "cancelled")
    return [OrderCancelled(reason=c.reason, cancelled_at=now, cancelled_by=actor)]
