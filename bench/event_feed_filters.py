"""The event feed's filters on a big log: N synthetic events (by default 100,000) COPYed into a
fresh database, with metadata spread like a real log's (200 actors, a correlation id shared
by about five events, business times over 100 days, one event in a hundred of a rare type);
then the first page (50) of ``GET /events`` under each filter, through the query the route
runs (``eventstore.feed_query.read_matching``), median and p95 of 30 rounds; and the same
with the filter indexes of migration 015 dropped, to show what they buy.

    python -m bench.event_feed_filters --events 100000
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import psycopg

from bench.common import container_on, fresh_database, machine, parser, percentile, tick
from domain.events import DomainEvent
from eventstore.feed_query import EventFilter, read_matching
from eventstore.recorded import EventMeta

INDEXES = ("stored_events_meta_correlation_idx", "stored_events_meta_actor_idx",
           "stored_events_meta_occurred_at_idx")  # fmt: skip
START = datetime(2026, 1, 1, tzinfo=UTC)


class Rare(DomainEvent):
    """A benchmark event type one event in a hundred has."""

    stream_type: ClassVar[str] = "bench"
    n: int


def fill(container, url: str, events: int, rng: random.Random) -> dict:  # noqa: ANN001
    """COPY the log; return values to filter on (an actor, a correlation id, a stream)."""
    mapper = container.store.mapper
    picked: dict = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY stored_events (originator_id, originator_version, topic, state) FROM STDIN"
        ) as copy:
            stream, version = uuid.uuid4(), 0
            for n in range(events):
                version += 1
                if version > 20:
                    stream, version = uuid.uuid4(), 1
                at = START + timedelta(seconds=n * 86_400 * 100 / events)
                meta = EventMeta(at, f"actor-{rng.randrange(200)}", f"corr-{n // 5}", "c")
                event = Rare(n=n) if rng.random() < 0.01 else tick(n)
                stored = mapper.to_stored(stream, version, event, meta)
                copy.write_row((stream, version, stored.topic, stored.state))
                if n == events // 2:
                    picked = {"actor": meta.actor, "correlation_id": meta.correlation_id,
                              "stream_id": stream}  # fmt: skip
        cur.execute("ANALYZE stored_events")
    return picked


def cases(picked: dict) -> list[tuple[str, EventFilter]]:
    day = START + timedelta(days=50)
    return [
        ("no filter", EventFilter()),
        ("type (1% of events)", EventFilter(types=["bench.Rare"])),
        ("stream_type", EventFilter(stream_types=["bench"])),
        ("stream_id", EventFilter(stream_id=picked["stream_id"])),
        ("correlation_id", EventFilter(correlation_id=picked["correlation_id"])),
        ("actor (0.5%)", EventFilter(actor=picked["actor"])),
        ("from/to (one day)", EventFilter(occurred_from=day, occurred_to=day + timedelta(1))),
        ("type + actor", EventFilter(types=["bench.Rare"], actor=picked["actor"])),
    ]


def timed_ms(container, flt: EventFilter, rounds: int) -> tuple[float, float, int]:  # noqa: ANN001
    runs, found = [], 0
    for _ in range(rounds + 2):
        started = time.perf_counter()
        found = len(read_matching(container.store, flt, after=0, limit=50))
        runs.append((time.perf_counter() - started) * 1000)
    ordered = sorted(runs[2:])
    return percentile(ordered, 0.5), percentile(ordered, 0.95), found


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=30)
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url, container_on(url) as c:
        c.store.mapper.registry.register(Rare)
        print(f"== {machine(url)}; {args.events:,} events")
        picked = fill(c, url, args.events, random.Random(1))
        medians = {}
        print(f"{'filter (first page of 50)':28} {'indexed ms':>18} {'no index ms':>18} found")
        indexed = {name: timed_ms(c, flt, args.rounds) for name, flt in cases(picked)}
        with psycopg.connect(url, autocommit=True) as conn:
            for index in INDEXES:
                conn.execute(f"DROP INDEX {index}")
        for name, flt in cases(picked):
            med, p95, found = indexed[name]
            bare_med, bare_p95, _ = timed_ms(c, flt, max(3, args.rounds // 10))
            medians[name] = med
            print(f"{name:28} {med:8.2f} (p95 {p95:6.2f}) {bare_med:8.2f} (p95 {bare_p95:6.2f})"
                  f" {found}")  # fmt: skip
    return medians


if __name__ == "__main__":
    main()
