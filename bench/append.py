"""Append throughput: one event per command through ``EventStore.append`` (mapper, the
library's recorder, its table lock, one transaction each) with 1 and 8 writer threads, against
raw psycopg INSERTs of the same rows into a plain table of the same shape, in the same run."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from bench.common import container_on, fresh_database, machine, meta, parser, rate, tick
from eventstore.store import EventStore, StreamAppend

STREAMS_PER_WRITER = 50
PLAIN_TABLE = """
CREATE TABLE bench_plain_events (
    notification_id bigserial PRIMARY KEY,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL
)
"""


def in_threads(threads: int, work: Callable[[int], None]) -> float:
    """Run ``work(i)`` in ``threads`` threads started together; return the wall time."""
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def through_store(store: EventStore, threads: int, per_thread: int) -> float:
    def work(_: int) -> None:
        streams = [uuid.uuid4() for _ in range(STREAMS_PER_WRITER)]
        versions = dict.fromkeys(streams, 0)
        for n in range(per_thread):
            stream = streams[n % STREAMS_PER_WRITER]
            store.append([StreamAppend(stream, versions[stream], [tick(n)])], meta())
            versions[stream] += 1

    return in_threads(threads, work)


def raw_inserts(url: str, store: EventStore, threads: int, per_thread: int) -> float:
    rows = [
        [store.mapper.to_stored(uuid.uuid4(), n + 1, tick(n), meta()) for n in range(per_thread)]
        for _ in range(threads)
    ]
    connections = [psycopg.connect(url, autocommit=True) for _ in range(threads)]

    def work(i: int) -> None:
        conn = connections[i]
        for r in rows[i]:
            conn.execute(
                "INSERT INTO bench_plain_events "
                "(originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                (r.originator_id, r.originator_version, r.topic, r.state),
            )

    try:
        return in_threads(threads, work)
    finally:
        for conn in connections:
            conn.close()


def measure(url: str, commands: int) -> list[dict[str, Any]]:
    results = []
    with container_on(url, pool_size=8) as c:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(PLAIN_TABLE)
        through_store(c.store, 1, 50)  # warm up pools and plans
        raw_inserts(url, c.store, 1, 50)
        committer = c.store.committer
        for threads in (1, 8):
            per_thread = commands // threads
            total = per_thread * threads
            batches, appends = committer.batches, committer.appends
            ours = through_store(c.store, threads, per_thread)
            batch = (committer.appends - appends) / max(1, committer.batches - batches)
            raw = raw_inserts(url, c.store, threads, per_thread)
            print(
                f"{threads} writer(s), {total:,} commands: EventStore.append {rate(total, ours)}"
                f" | raw INSERT into a plain table {rate(total, raw)}"
                f" | ours/raw {raw / ours:.2f} | mean batch {batch:.1f} appends",
                flush=True,
            )
            results.append(
                {
                    "threads": threads,
                    "commands": total,
                    "ours_s": ours,
                    "raw_s": raw,
                    "mean_batch": batch,
                }
            )
    return results


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--commands", type=int, default=4_000, help="commands per configuration")
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url))
        return measure(url, args.commands)


if __name__ == "__main__":
    main()
