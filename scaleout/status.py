"""Kafka lag for operations: the relay's lag (positions written but not yet acknowledged by
the broker) and each consumer group's lag per partition (log end last seen minus the next
offset stored in PostgreSQL). Read from PostgreSQL only, so it never waits on a broker."""

from __future__ import annotations

from typing import Any

from scaleout.consumer import consumer_lag
from scaleout.relay import relay_status


def kafka_rows(container: Any) -> list[dict[str, Any]]:
    """Rows shaped like ``GET /projections`` items: ``kafka.relay`` and
    ``kafka.<group>.<topic>.<partition>``."""
    relay = relay_status(container.pool, container.settings.kafka_topic_prefix)
    rows = [
        {
            "name": "kafka.relay",
            "position": relay.position,
            "lag": relay.lag,
            "status": "live" if relay.lag == 0 else "catching_up",
            "parked": relay.parked,
        }
    ]
    for r in consumer_lag(container.pool):
        rows.append(
            {
                "name": f"kafka.{r['group']}.{r['topic']}.{r['partition']}",
                "position": r["offset"],
                "lag": r["lag"],
                "status": "live" if r["lag"] == 0 else "catching_up",
            }
        )
    return rows
