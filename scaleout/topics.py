"""Kafka naming and plumbing shared by the relay and the consumers: one topic per aggregate
type (``orders.events``), the JSON envelope and its headers, topic creation and log ends."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import orjson
from confluent_kafka import (
    KafkaError,
    KafkaException,
    TopicCollection,
)
from confluent_kafka.admin import AdminClient, NewTopic

PLURALS = {
    "order": "orders",
    "product": "products",
    "inventory": "inventory",
    "payment": "payments",
    "category": "categories",
    "category_slug": "category_slugs",
    "channel_order": "channel_orders",
    "sku": "skus",
}
#: librdkafka's own log lines go to Python logging (connection refused while a broker is down).
LIBRDKAFKA_LOG = logging.getLogger("ecom.librdkafka")
#: Header holding the relay epoch; it grows when the broker lost acknowledged messages.
EPOCH_HEADER = "ecom-epoch"


def topic_for(stream_type: str, prefix: str = "") -> str:
    plural = PLURALS.get(stream_type)
    if plural is None:
        plural = stream_type if stream_type.endswith("s") else f"{stream_type}s"
    return f"{prefix}{plural}.events"


def topics_for_event_types(event_types: Iterable[str], prefix: str = "") -> list[str]:
    """Topics carrying the given stored names (``location.LocationRegistered``)."""
    return sorted({topic_for(t.split(".", 1)[0], prefix) for t in event_types})


def envelope(row: dict[str, Any]) -> bytes:
    """The message value for one stored-event row, as stored: ``data`` at its stored schema
    version (readers upcast) and with personal leaves still encrypted (``{"$pd": …}``), never
    decrypted here; ``personal_data_subject`` names the customer whose key opens them (null when
    the event holds none), so readers decrypt with the key ring, or read the erased marker once
    the customer is forgotten (``scaleout.decode``)."""
    body = orjson.loads(row["state"])
    m = body["m"]
    return orjson.dumps(
        {
            "position": row["notification_id"],
            "stream_id": str(row["originator_id"]),
            "stream_type": row["topic"].split(".", 1)[0],
            "version": row["originator_version"],
            "type": row["topic"],
            "schema_version": body["v"],
            "occurred_at": m["occurred_at"],
            "data": body["d"],
            "personal_data_subject": body.get("p"),
            "metadata": m,
        }
    )


def headers(row: dict[str, Any], epoch: int, session_start: bytes) -> list[tuple[str, bytes]]:
    """Type and ids, the relay epoch, and the relay position the sending session started after
    (a resent copy always has a position above it)."""
    return [
        ("ecom-type", row["topic"].encode()),
        ("ecom-stream-id", str(row["originator_id"]).encode()),
        ("ecom-version", str(row["originator_version"]).encode()),
        ("ecom-position", str(row["notification_id"]).encode()),
        (EPOCH_HEADER, str(epoch).encode()),
        ("ecom-relay-from", session_start),
    ]


def header(msg: Any, name: str) -> str | None:
    for key, value in msg.headers() or ():
        if key == name:
            return value.decode() if value is not None else None
    return None


def ensure_topics(
    bootstrap: str,
    topics: Iterable[str],
    *,
    partitions: int,
    replication_factor: int,
    timeout_s: float = 10.0,
) -> list[str]:
    """Create the missing topics; return the names created."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": LIBRDKAFKA_LOG})
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [t for t in topics if t not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [
            NewTopic(t, num_partitions=partitions, replication_factor=replication_factor)
            for t in missing
        ],
        operation_timeout=timeout_s,
    )
    created = []
    for name, fut in futures.items():
        try:
            fut.result(timeout=timeout_s)
            created.append(name)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc) and "already exists" not in str(exc):
                raise
    _wait_for_metadata(admin, missing, timeout_s)
    return created


def _wait_for_metadata(admin: AdminClient, topics: list[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        md = admin.list_topics(timeout=timeout_s).topics
        if all(t in md and md[t].partitions and md[t].error is None for t in topics):
            return
        time.sleep(0.1)


def topic_ids(bootstrap: str, topics: Iterable[str], timeout_s: float = 10.0) -> dict[str, str]:
    """Topic name -> topic id, for the topics that exist (a missing one is left out)."""
    topics = list(topics)
    if not topics:
        return {}
    admin = AdminClient({"bootstrap.servers": bootstrap, "logger": LIBRDKAFKA_LOG})
    futures = admin.describe_topics(TopicCollection(topics), request_timeout=timeout_s)
    out = {}
    for name, fut in futures.items():
        try:
            out[name] = str(fut.result(timeout=timeout_s).topic_id)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise
    return out
