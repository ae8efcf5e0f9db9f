"""The base class of every domain event, and how an event names itself in the store.

An event is a frozen pydantic model. Its stored name (``order.OrderPlaced``) is chosen once and
never derived from a Python import path, so modules can move without breaking history. Its
``schema_version`` grows when its shape changes; ``upcasters`` turns the stored data of each
older version into the next one, so old events load as the current class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

Upcaster = Callable[[dict], dict]


class DomainEvent(BaseModel):
    """A fact that happened to one aggregate. Subclasses set ``stream_type``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_type: ClassVar[str] = ""
    #: Overrides the class name in the stored name, for a class that was renamed.
    event_name: ClassVar[str | None] = None
    schema_version: ClassVar[int] = 1
    #: ``{from_version: function}``: turns data stored at ``from_version`` into the next version.
    upcasters: ClassVar[dict[int, Upcaster]] = {}

    @classmethod
    def stored_name(cls) -> str:
        return f"{cls.stream_type}.{cls.event_name or cls.__name__}"

    @classmethod
    def timeline_type(cls) -> str:
        """The snake_case name a timeline shows (``OrderPlaced`` -> ``order_placed``)."""
        name = cls.event_name or cls.__name__
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
