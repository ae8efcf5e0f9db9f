"""``GET /metrics`` through ``prometheus-client``: what the gateway measures and what the store
and its followers report, in the library's exposition format.

Measured per request by the gateway (``api.gateway``):

- ``ecom_http_request_duration_seconds{method, route}``: a histogram of the time to answer,
  labelled by the route *template* (``/api/v1/orders/{order_id}``; ``unmatched`` for a path no
  route serves), so the label set stays bounded;
- ``ecom_http_responses_total{status_class}``: responses by class (``2xx``, ``4xx``, ...).

Read when scraped (``StoreCollector``): ``ecom_event_store_head``, per view
``ecom_projection_position``, ``ecom_projection_lag``, ``ecom_parked_events`` (per follower of
the log: views, process managers, the relay; ``eventstore/parking.py``), and for Kafka
``ecom_kafka_relay_lag``, ``ecom_kafka_relay_position`` and ``ecom_kafka_consumer_lag``; and
this process's door of ``POST /orders`` (``api/admission.py``): ``ecom_orders_held_total``,
``ecom_orders_refused_total`` and ``ecom_order_backlog_seconds``; and this process's
product search answer cache (``projections/search_answers.py``):
``ecom_search_answers`` kept, ``ecom_search_answers_patched_total`` and
``ecom_search_answers_evicted_total`` by moves of the products (stock flips, edits), labelled
with why (``search_answers.REASONS``), and ``ecom_search_answers_move_seconds``, how long
each move of the cache to the views' new generations took.

Each app has its own registry (no global state; two apps in one process do not collide).
Counters and histograms are per process: with several uvicorn workers each worker answers with
its own, as Prometheus expects of a multi-process target scraped per instance."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest

from projections.product_search_query import cache_figures
from projections.search_answers import MOVE_BUCKETS, REASONS
from scaleout.consumer import consumer_lag
from scaleout.relay import relay_status

UNMATCHED = "unmatched"


class StoreCollector:
    """The event store's head and every follower's position and lag, read at scrape time from
    ``container`` (``store``, ``runner``, ``pool``)."""

    def __init__(self, container: Any):
        self.container = container

    def collect(self) -> Iterator[Metric]:
        c = self.container
        head = GaugeMetricFamily("ecom_event_store_head", "Highest position in the event store.")
        head.add_metric([], c.store.head())
        yield head
        statuses = c.runner.status()
        position = GaugeMetricFamily(
            "ecom_projection_position", "Last position a read model processed.", labels=["name"]
        )
        lag = GaugeMetricFamily(
            "ecom_projection_lag", "Events a read model is behind.", labels=["name"]
        )
        parked = GaugeMetricFamily(
            "ecom_parked_events",
            "Events a follower of the log parked (views, process managers, relay).",
            labels=["follower"],
        )
        for s in statuses:
            position.add_metric([s.name], s.position)
            lag.add_metric([s.name], s.lag)
        counts = {s.name: 0 for s in statuses} | c.parking.counts()
        for follower, count in sorted(counts.items()):
            parked.add_metric([follower], count)
        yield position
        yield lag
        yield parked
        yield from self._kafka()
        yield from self._search()

    def _search(self) -> Iterator[Metric]:
        kept, patched, evicted, moves, moves_s = cache_figures(self.container.pool)
        answers = GaugeMetricFamily(
            "ecom_search_answers", "Product search answers this process keeps."
        )
        answers.add_metric([], kept)
        yield answers
        yield CounterMetricFamily(
            "ecom_search_answers_patched",
            "Cached search answers a product change brought up to date without searching again.",
            value=patched,
        )
        dropped = CounterMetricFamily(
            "ecom_search_answers_evicted",
            "Cached search answers a product change dropped, to be searched again, by why.",
            labels=["reason"],
        )
        for reason in REASONS:
            dropped.add_metric([reason], evicted.get(reason, 0))
        yield dropped
        bounds = [*(str(b) for b in MOVE_BUCKETS), "+Inf"]
        yield HistogramMetricFamily(
            "ecom_search_answers_move_seconds",
            "Moves of the cached answers to the views' new generations (reading what moved, "
            "patching); a search of the new generations waits for its move.",
            buckets=list(zip(bounds, accumulate(moves), strict=True)),
            sum_value=moves_s,
        )

    def _kafka(self) -> Iterator[Metric]:
        pool = self.container.pool
        with pool.connection() as conn:
            relays = conn.execute("SELECT relay FROM kafka_relay ORDER BY relay").fetchall()
        if relays:
            lag = GaugeMetricFamily(
                "ecom_kafka_relay_lag",
                "Positions written but not yet acknowledged by Kafka.",
                labels=["prefix"],
            )
            position = GaugeMetricFamily(
                "ecom_kafka_relay_position",
                "Last position Kafka acknowledged.",
                labels=["prefix"],
            )
            for (prefix,) in relays:
                s = relay_status(pool, prefix)
                lag.add_metric([prefix], s.lag)
                position.add_metric([prefix], s.position)
            yield lag
            yield position
        lags = consumer_lag(pool)
        if lags:
            consumer = GaugeMetricFamily(
                "ecom_kafka_consumer_lag",
                "Messages a consumer group has not yet applied.",
                labels=["group", "topic", "partition"],
            )
            for r in lags:
                consumer.add_metric([r["group"], r["topic"], str(r["partition"])], r["lag"])
            yield consumer


class AdmissionCollector:
    """The door of ``POST /orders`` in this process (``api/admission.py``): the orders that
    waited at it, those turned away, and the backlog as last read."""

    def __init__(self, admission: Any):
        self.admission = admission

    def collect(self) -> Iterator[Metric]:
        a = self.admission
        held = CounterMetricFamily("ecom_orders_held", "Orders that waited at the door.")
        held.add_metric([], a.held)
        refused = CounterMetricFamily(
            "ecom_orders_refused", "Orders turned away with 503 overloaded."
        )
        refused.add_metric([], a.refused)
        backlog = GaugeMetricFamily(
            "ecom_order_backlog_seconds",
            "Age of the oldest order the saga or a view had not taken, as last read.",
        )
        backlog.add_metric([], a.backlog_s)
        yield from (held, refused, backlog)


class ApiMetrics:
    """One app's registry: the request metrics the gateway records, the store's figures and
    the door of ``POST /orders``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, container: Any, admission: Any = None):
        self.registry = CollectorRegistry(auto_describe=False)
        self.durations = Histogram(
            "ecom_http_request_duration_seconds",
            "Time to answer a request, by route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.responses = Counter(
            "ecom_http_responses",
            "Responses by status class.",
            ["status_class"],
            registry=self.registry,
        )
        self._observers: dict[tuple[str, str], Any] = {}
        self._classes = {n: self.responses.labels(f"{n}xx") for n in range(1, 6)}
        self.registry.register(StoreCollector(container))
        if admission is not None:
            self.registry.register(AdmissionCollector(admission))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        observer = self._observers.get(key)
        if observer is None:
            observer = self._observers[key] = self.durations.labels(method, route)
        observer.observe(seconds)
        counter = self._classes.get(status // 100)
        if counter is not None:
            counter.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
