"""A table of a read model holding one row per stream of an aggregate type: the stream's state
folded by the aggregate's own ``evolve`` from its typed events (decoded once by the mapper),
its version, and a few columns to find it by.

Reading such a row answers exactly what folding the stream at request time answered, without
reading the log. Each row depends on its own stream's events only, applied in version order
(an event at or below the row's version changes nothing), so the rows are the same whatever
order the events of different streams arrive in.

The state is kept as JSON through a pydantic ``TypeAdapter`` of the state's type (as the
snapshots are), never pickle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from psycopg import Cursor, sql
from pydantic import TypeAdapter

from domain.aggregate import AggregateType
from eventstore.recorded import RecordedEvent
from projections.batch_writes import insert_values

S = TypeVar("S")


class FoldedStreams(Generic[S]):
    """Table ``table`` of a view: ``id, version, state`` and the ``columns`` (name -> value
    taken from a stream's state) of every stream of ``aggregate``."""

    def __init__(
        self,
        table: str,
        aggregate: AggregateType[S],
        columns: dict[str, Callable[[S], Any]],
    ):
        self.table = table
        self.aggregate = aggregate
        self.columns = columns
        self.adapter: TypeAdapter[S] = TypeAdapter(type(aggregate.initial()))
        self.topics = tuple(cls.stored_name() for cls in aggregate.events)

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        """Fold the events of this aggregate's streams among ``events`` into their rows."""
        mine = [e for e in events if e.stream_type == self.aggregate.stream_type]
        if not mine:
            return
        table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(self.table))
        cur.execute(
            sql.SQL("SELECT id, version, state::text AS state FROM {} WHERE id = ANY(%s)").format(
                table
            ),
            (list({e.stream_id for e in mine}),),
        )
        rows: dict[UUID, tuple[S, int]] = {
            r["id"]: (self.adapter.validate_json(r["state"]), r["version"]) for r in cur.fetchall()
        }
        changed: set[UUID] = set()
        for e in mine:
            state, version = rows.get(e.stream_id, (self.aggregate.initial(), 0))
            if e.version <= version:
                continue  # seen already (a redelivery)
            rows[e.stream_id] = (self.aggregate.evolve(state, e.to_domain()), e.version)
            changed.add(e.stream_id)
        names = ["id", "version", "state", *self.columns]
        insert_values(  # one statement for the batch's streams (each id once)
            cur,
            sql.SQL("INSERT INTO {} ({})").format(
                table, sql.SQL(", ").join(map(sql.Identifier, names))
            ),
            [
                (
                    i,
                    rows[i][1],
                    self.adapter.dump_json(rows[i][0]).decode(),
                    *(get(rows[i][0]) for get in self.columns.values()),
                )
                for i in sorted(changed)
            ],
            sql.SQL("ON CONFLICT (id) DO UPDATE SET {}").format(
                sql.SQL(", ").join(
                    sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in names[1:]
                )
            ),
            row="(%s, %s, %s::jsonb" + ", %s" * len(self.columns) + ")",
        )

    def decode(self, state: str) -> S:
        """A row's ``state::text`` back to the aggregate's state."""
        return self.adapter.validate_json(state)
