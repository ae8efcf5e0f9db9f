"""The mapper: stable stored names, the stored JSON envelope, and upcasting on read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar
from uuid import uuid4

import orjson
import pytest

from composition.bootstrap import ALL_EVENTS
from domain.events import DomainEvent
from eventstore.mapper import EventMapper, EventRegistry, UnknownEventType
from eventstore.recorded import EventMeta

META = EventMeta(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "alice", "corr", "cause")


class WidgetMade(DomainEvent):
    stream_type: ClassVar[str] = "widget"
    size: int


class WidgetRenamed(DomainEvent):
    """Renamed class: the stored name stays what it always was."""

    stream_type: ClassVar[str] = "widget"
    event_name: ClassVar[str | None] = "WidgetRetitled"
    title: str


class WidgetPriced(DomainEvent):
    """Version 3: ``cents`` (v1) became ``amount`` (v2), then gained ``currency`` (v3)."""

    stream_type: ClassVar[str] = "widget"
    schema_version: ClassVar[int] = 3
    upcasters: ClassVar = {
        1: lambda d: {"amount": str(d["cents"] / 100)},
        2: lambda d: {**d, "currency": "USD"},
    }
    amount: str
    currency: str


def mapper() -> EventMapper:
    return EventMapper(EventRegistry([WidgetMade, WidgetRenamed, WidgetPriced]))


def test_the_stored_name_is_stream_type_and_class_name_not_an_import_path():
    stored = mapper().to_stored(uuid4(), 1, WidgetMade(size=3), META)
    assert stored.topic == "widget.WidgetMade"
    assert __name__ not in stored.topic and ":" not in stored.topic


def test_a_renamed_class_keeps_its_stored_name():
    assert WidgetRenamed.stored_name() == "widget.WidgetRetitled"


def test_every_domain_event_has_a_unique_stored_name_of_two_parts():
    names = [cls.stored_name() for cls in ALL_EVENTS]
    assert len(names) == len(set(names))
    for name in names:
        stream_type, event = name.split(".")
        assert stream_type and event[0].isupper()
        assert not name.startswith(("domain.", "ecom."))


def test_the_stored_state_is_one_json_object_with_version_meta_and_data():
    stored = mapper().to_stored(uuid4(), 7, WidgetMade(size=3), META)
    body = orjson.loads(stored.state)
    assert body == {"v": 1, "m": META.as_json(), "d": {"size": 3}}
    assert stored.originator_version == 7


def test_an_event_round_trips_through_the_mapper():
    m = mapper()
    stream = uuid4()
    stored = m.to_stored(stream, 1, WidgetMade(size=3), META)
    recorded = m.to_recorded(42, stream, 1, stored.topic, stored.state)
    assert recorded.to_domain() == WidgetMade(size=3)
    assert (recorded.position, recorded.stream_id, recorded.version) == (42, stream, 1)
    assert (recorded.stream_type, recorded.name, recorded.meta) == ("widget", "WidgetMade", META)


def test_old_data_is_upcast_step_by_step_to_the_current_version():
    state = orjson.dumps({"v": 1, "m": META.as_json(), "d": {"cents": 250}})
    recorded = mapper().to_recorded(1, uuid4(), 1, "widget.WidgetPriced", state)
    assert recorded.schema_version == 3
    assert recorded.to_domain() == WidgetPriced(amount="2.5", currency="USD")


def test_a_missing_upcaster_is_a_clear_error():
    class Bare(DomainEvent):
        stream_type: ClassVar[str] = "widget"
        schema_version: ClassVar[int] = 2
        x: int

    state = orjson.dumps({"v": 1, "m": META.as_json(), "d": {"x": 1}})
    with pytest.raises(UnknownEventType, match="no upcaster from schema version 1"):
        EventMapper(EventRegistry([Bare])).to_recorded(1, uuid4(), 1, "widget.Bare", state)


def test_an_unregistered_type_still_reads_as_raw_data():
    state = orjson.dumps({"v": 1, "m": META.as_json(), "d": {"k": "v"}})
    recorded = mapper().to_recorded(1, uuid4(), 1, "gone.Removed", state)
    assert recorded.data == {"k": "v"} and recorded.event_class is None
    with pytest.raises(LookupError):
        recorded.to_domain()


def test_the_registry_refuses_two_classes_under_one_stored_name():
    class WidgetMade(DomainEvent):  # the same name on purpose
        stream_type: ClassVar[str] = "widget"

    registry = EventRegistry([globals()["WidgetMade"]])
    with pytest.raises(ValueError, match="widget.WidgetMade"):
        registry.register(WidgetMade)


def test_the_registry_refuses_an_event_without_a_stream_type():
    class Orphan(DomainEvent):
        pass

    with pytest.raises(ValueError, match="no stream_type"):
        EventRegistry([Orphan])
