"""Relay lag and consumer lag per partition in ``GET /projections``, ``/metrics`` and
``ecom relay status``; the dead-letter subcommands."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from types import SimpleNamespace

from api.metrics import ApiMetrics
from api.routes.operations import projections
from composition import kafka_cli
from eventstore.store import StreamAppend
from scaleout.consumer import KafkaProjector, consumer_lag
from scaleout.relay import Relay, relay_status
from tests.kafka.conftest import KtCounts, KtPinged, KtStray, meta, unique, write_pings
from tests.kafka.helpers import in_thread, table_rows, wait_until


def applied(pool, schema: str, sid: uuid.UUID) -> bool:
    return any(r[0] == sid for r in table_rows(pool, schema, "counts", "stream_id", "stream_id"))


def test_relay_and_consumer_lag_are_shown_by_the_api_the_metrics_and_the_cli(
    container, broker, kt_mapper, database_url, monkeypatch, capsys
):
    prefix, group = unique("ops-"), unique("g-ops-")
    start = container.store.head()
    write_pings(container.store, streams=10, per_stream=10)
    ops = SimpleNamespace(
        pool=container.pool,
        runner=container.runner,
        store=container.store,
        parking=container.parking,
        settings=dataclasses.replace(
            container.settings, kafka_bootstrap=broker.bootstrap, kafka_topic_prefix=prefix
        ),
    )
    before = {p.name: p for p in projections(ops)}
    assert before["kafka.relay"].lag == container.store.head()  # nothing acknowledged yet

    Relay(container.pool, broker.bootstrap, prefix=prefix, start_position=start).run(
        until_caught_up=True
    )
    sid = uuid.uuid4()
    container.store.append([StreamAppend(sid, 0, [KtStray(n=1)])], meta())
    container.store.append([StreamAppend(sid, 1, [KtPinged(n=2)])], meta())
    Relay(container.pool, broker.bootstrap, prefix=prefix).run(until_caught_up=True)
    projector = KafkaProjector(
        container.pool, kt_mapper, [KtCounts()], broker.bootstrap, group, prefix=prefix
    )
    projector.ensure_schemas()
    stop = threading.Event()
    t = in_thread(projector.run, until=stop.is_set)
    try:
        wait_until(
            lambda: (
                applied(container.pool, projector.schema("kt_counts"), sid)
                and all(r["lag"] == 0 for r in consumer_lag(container.pool, group))
            ),
            90,
            "the consumer to apply every ping",
        )
    finally:
        stop.set()
        t.join(30)

    after = {p.name: p for p in projections(ops)}
    assert after["kafka.relay"].lag == 0 and after["kafka.relay"].status == "live"
    mine = {n: p for n, p in after.items() if n.startswith(f"kafka.{group}.")}
    assert mine and all(p.lag == 0 for p in mine.values())
    text = ApiMetrics(ops).exposition().decode()
    assert f'ecom_kafka_relay_lag{{prefix="{prefix}"}} 0' in text
    assert f'ecom_kafka_consumer_lag{{group="{group}"' in text
    assert relay_status(container.pool, prefix).lag == 0

    monkeypatch.setenv("ECOM_DATABASE_URL", database_url)
    monkeypatch.setenv("ECOM_KAFKA_TOPIC_PREFIX", prefix)
    capsys.readouterr()
    assert kafka_cli.main(["relay", "status", "--group", group]) == 0
    out = capsys.readouterr().out
    assert "lag 0 (not yet acknowledged)" in out and group in out

    assert kafka_cli.main(["project", "--group", group, "dead-letters", "list"]) == 0
    listed = capsys.readouterr().out
    assert "unknown_event_type" in listed and str(sid) in listed
    dl_id = int(listed.splitlines()[1].split()[0])
    assert kafka_cli.main(["project", "--group", group, "dead-letters", "skip", str(dl_id)]) == 0
    assert kafka_cli.main(["project", "--group", group, "dead-letters", "skip", str(dl_id)]) == 1
    capsys.readouterr()
    assert kafka_cli.main(["project", "--group", group, "dead-letters", "list"]) == 0
    assert str(sid) not in capsys.readouterr().out
