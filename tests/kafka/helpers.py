"""Reading a topic back, comparing read models, running the relay and projectors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from psycopg import sql

from scaleout import topics as kt


def read_topic(bootstrap: str, topic: str, idle_s: float = 3.0, timeout_s: float = 120):
    """Every message of every partition of ``topic`` (assign, no group), read until nothing
    arrives for ``idle_s`` (tansu reports high-water marks per record batch, so they cannot
    tell where a log ends): list of (partition, offset, key, headers dict, value bytes)."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "reader",
            "enable.auto.commit": False,
            "logger": kt.LIBRDKAFKA_LOG,
        }
    )
    try:
        md = c.list_topics(topic, timeout=10).topics[topic]
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(md.partitions)])
        out = []
        deadline = time.monotonic() + timeout_s
        last = time.monotonic()
        while time.monotonic() - last < idle_s and time.monotonic() < deadline:
            for m in c.consume(10000, timeout=0.5):
                if m.error():
                    continue
                last = time.monotonic()
                out.append((m.partition(), m.offset(), m.key(), dict(m.headers() or ()), m.value()))
        return out
    finally:
        c.close()


def in_thread(target: Callable, *args, **kwargs) -> threading.Thread:
    t = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
    t.start()
    return t


def table_rows(pool, schema: str, table: str, order_by: str, columns: str = "*") -> list:
    with pool.connection() as conn:
        return conn.execute(
            sql.SQL("SELECT {} FROM {}.{} ORDER BY ").format(
                sql.SQL(columns), sql.Identifier(schema), sql.Identifier(table)
            )
            + sql.SQL(order_by)
        ).fetchall()


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def topic(prefix: str, stream_type: str) -> str:
    return kt.topic_for(stream_type, prefix)


def spawn_cli(args: list[str], env: dict[str, str]):
    """``python -m composition.kafka_cli ARGS`` in a new process (its output kept for failures)."""
    import os
    import subprocess
    import sys
    import tempfile

    log = tempfile.NamedTemporaryFile(prefix="ecom-kafka-", suffix=".log", delete=False)
    return subprocess.Popen(
        [sys.executable, "-m", "composition.kafka_cli", *args],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
