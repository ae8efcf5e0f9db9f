"""The shape of a read model, and the naming of its schema.

Each read model lives in its own PostgreSQL schema (``rm_<name>``) holding its tables and a
one-row ``tracking`` table with the last position it has processed. A rebuild fills
``rm_<name>__next`` from position 0 and swaps the schemas by renaming them in one transaction,
so the tracking position moves with the rows and readers never see a half-built view.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

from psycopg import Cursor

from eventstore.recorded import RecordedEvent

#: A view schema's bookkeeping, not its rows: ``tracking`` (the runner's position), and the
#: search view's ``generation`` and ``product_changes`` (counts of batches that changed an answer,
#: which depend on how the log was cut into batches). Two builds of a view over the same
#: events agree on every other table.
BOOKKEEPING_TABLES = ("tracking", "generation", "product_changes")


def live_schema(name: str) -> str:
    return f"rm_{name}"


def next_schema(name: str) -> str:
    return f"rm_{name}__next"


def old_schema(name: str) -> str:
    return f"rm_{name}__old"


class Projection(ABC):
    """A read model. ``apply`` must be idempotent per position range and write only with ``cur``."""

    #: The view's name: a URL segment and part of its schema name.
    name: str
    #: Stored names of the event types this view reads; the runner fetches only these.
    topics: tuple[str, ...]
    #: DDL for the view's tables; ``{schema}`` is replaced by the schema to create them in.
    ddl: str
    #: What each table (``"table"``) and column (``"table.column"``) holds, written as the
    #: database's COMMENTs (``projections/table_comments.py``); every one must be described.
    comments: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        """Apply a batch of events, in position order."""

    def compare_key(self) -> dict[str, str]:
        """Table name -> ORDER BY clause, to compare a rebuilt view with the live one."""
        return {}

    def upgrade(self, cur: Cursor, schema: str) -> None:
        """Bring an existing schema of this view, created by an older version of ``ddl``, up
        to this one (deploy time, under the schema lock; must be idempotent). Most views
        change only by a rebuild; one that gained a table it can fill from its others does
        it here."""
        return None
