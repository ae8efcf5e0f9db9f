"""Projection rebuild throughput: ``ProjectionRunner.rebuild`` of a per-stream counter view
over N synthetic events, against the library's own ``eventsourcing.projection.ProjectionRunner``
running the same counter over the same events (one transaction per event, as the library's
projections are written), from the same event table, in the same run."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Mapper, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection as LibraryProjection
from eventsourcing.projection import ProjectionRunner as LibraryRunner
from psycopg import Cursor, sql
from psycopg.conninfo import conninfo_to_dict

from bench.common import container_on, fresh_database, machine, meta, parser, rate, tick
from eventstore.mapper import EventMapper
from eventstore.recorded import RecordedEvent
from eventstore.store import StreamAppend
from projections.base import Projection, live_schema
from projections.runner import ProjectionRunner

TOPIC = "bench.Ticked"


class CountsView(Projection):
    """Bench-only read model: events per stream."""

    name = "bench_counts"
    topics = (TOPIC,)
    ddl = """
    CREATE TABLE {schema}.counts (
        stream_id uuid PRIMARY KEY,
        events bigint NOT NULL,
        last_version bigint NOT NULL
    );
    """

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        # Fold the batch in memory first: one upsert per stream touched, not one per event.
        counts: dict = {}
        for e in events:
            seen = counts.get(e.stream_id)
            counts[e.stream_id] = (1, e.version) if seen is None else (seen[0] + 1, e.version)
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.counts AS c VALUES (%s, %s, %s) ON CONFLICT (stream_id) "
                "DO UPDATE SET events = c.events + excluded.events, "
                "last_version = excluded.last_version"
            ).format(sql.Identifier(schema)),
            [(sid, n, v) for sid, (n, v) in counts.items()],
        )


class NullView(CountsView):
    """The same events through the runner with nothing to write: fetch, decode, tracking."""

    name = "bench_null"
    ddl = "CREATE TABLE {schema}.nothing (x int);"

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        pass


def generate(store, events: int, streams: int = 2_000, batch: int = 5_000) -> float:
    """Append ``events`` events spread over ``streams`` streams, ``batch`` per transaction."""
    ids = [uuid.uuid4() for _ in range(streams)]
    versions = dict.fromkeys(ids, 0)
    per_stream = batch // 50
    started = time.perf_counter()
    written, i = 0, 0
    while written < events:
        appends = []
        in_batch = 0
        while in_batch < batch and written + in_batch < events:
            stream = ids[i % streams]
            n = min(per_stream, events - written - in_batch)
            ticks = [tick(written + in_batch + k) for k in range(n)]
            appends.append(StreamAppend(stream, versions[stream], ticks))
            versions[stream] += n
            in_batch += n
            i += 1
        store.append(appends, meta())
        written += in_batch
    return time.perf_counter() - started


# ---- the library's runner, wired to the same event table --------------------------------


class _RecordedEventMapper(Mapper):
    """The library's subscription hands each stored event to the application's mapper; ours
    decodes it the same way our runner does."""

    def __init__(self, ours: EventMapper):
        self.ours = ours

    def to_domain_event(self, stored_event: Any) -> Any:
        return self.ours.to_recorded(
            None,
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            stored_event.state,
        )


def library_source(ours: EventMapper) -> type[Application]:
    class Stored(Application):
        """Named so that the library's factory reads the table ``stored_events``."""

        name = "Stored"

        def construct_mapper(self) -> Mapper:
            return _RecordedEventMapper(ours)

    return Stored


class LibraryCountsView(PostgresTrackingRecorder):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS bench_library_counts (stream_id uuid PRIMARY KEY, "
                "events bigint NOT NULL, last_version bigint NOT NULL)"
            )
        )

    def count(self, stream_id: uuid.UUID, version: int, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO bench_library_counts AS c VALUES (%s, 1, %s) "
                "ON CONFLICT (stream_id) DO UPDATE SET events = c.events + 1, "
                "last_version = excluded.last_version",
                (stream_id, version),
            )
            self._insert_tracking(curs, tracking)


class LibraryCounts(LibraryProjection[LibraryCountsView]):
    name = "bench_library_counts"
    topics = (TOPIC,)

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.count(domain_event.stream_id, domain_event.version, tracking)


def library_env(url: str) -> dict[str, str]:
    p = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(p["dbname"]),
        "POSTGRES_HOST": str(p.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(p.get("port", "5432")),
        "POSTGRES_USER": str(p.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(p.get("password", "")),
    }


def run_library(url: str, ours: EventMapper, target: int) -> float:
    started = time.perf_counter()
    with LibraryRunner(
        application_class=library_source(ours),
        projection_class=LibraryCounts,
        view_class=LibraryCountsView,
        env=library_env(url),
    ) as runner:
        runner.wait(target, timeout=3600)
        return time.perf_counter() - started


# ---- measuring ---------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss(threading.Thread):
    """Samples this process's resident memory every 50 ms; ``peak`` is the highest seen."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.start_mb = self.peak = rss_mb()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> PeakRss:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()
        self.peak = max(self.peak, rss_mb())


def measure(url: str, events: int, library_events: int) -> dict[str, Any]:
    with container_on(url) as c:
        ours = ProjectionRunner(c.pool, c.store.mapper, [CountsView(), NullView()], batch_size=1000)
        ours.ensure_schemas()
        sample_head = 0
        if library_events < events:
            generate(c.store, library_events)
            sample_head = c.store.head()
        gen_s = generate(c.store, events - (sample_head and library_events))
        head = c.store.head()
        print(f"generated {events:,} events in {gen_s:.1f} s ({rate(events, gen_s)})", flush=True)

        with PeakRss() as memory:
            started = time.perf_counter()
            ours.rebuild(CountsView.name)
            ours_s = time.perf_counter() - started
        print(
            f"ours: rebuild of {events:,} events in {ours_s:.1f} s ({rate(events, ours_s)}); "
            f"RSS {memory.start_mb:.0f} MB before, peak {memory.peak:.0f} MB during"
        )
        with c.pool.connection() as conn:
            total = conn.execute(
                sql.SQL("SELECT sum(events) FROM {}.counts").format(
                    sql.Identifier(live_schema(CountsView.name))
                )
            ).fetchone()[0]
        assert total == events, (total, events)

        started = time.perf_counter()
        ours.rebuild(NullView.name)
        null_s = time.perf_counter() - started
        print(f"ours, view that writes nothing (runner alone): {rate(events, null_s)}")

        library_target = sample_head or head
        library_s = run_library(url, c.store.mapper, library_target)
        with c.pool.connection() as conn:
            total = conn.execute("SELECT sum(events) FROM bench_library_counts").fetchone()[0]
        assert total >= library_events, (total, library_events)
        print(
            f"library: ProjectionRunner over {library_events:,} events in {library_s:.1f} s "
            f"({rate(library_events, library_s)})"
        )
    return {
        "events": events,
        "ours_s": ours_s,
        "null_s": null_s,
        "library_events": library_events,
        "library_s": library_s,
        "generate_s": gen_s,
        "rss_before_mb": memory.start_mb,
        "rss_peak_mb": memory.peak,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument(
        "--library-events",
        type=int,
        default=None,
        help="events for the library's runner (default: all; it is far slower)",
    )
    args = p.parse_args(argv)
    library_events = min(args.library_events or args.events, args.events)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url))
        return measure(url, args.events, library_events)


if __name__ == "__main__":
    main()
