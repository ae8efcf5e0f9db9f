"""Reading a few topics after a position (``eventstore/topic_ranges.py``) on a log whose
statistics say one topic is nearly everything: a topic with few events is read from its own
range of the (topic, position) index, not by walking the log (as the planner did when it
could not see which topic was asked), and the reads return what a scan of the log would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from bench.api_memory import fill
from bench.common import container_on, fresh_database
from domain.pricing.events import PricingRuleDeactivated
from eventstore.recorded import EventMeta
from eventstore.store import StreamAppend
from eventstore.topic_ranges import topic_ranges

HISTORY = 200_000
COLUMNS = "notification_id, originator_id, originator_version, topic, state, recorded_at"


@pytest.fixture(scope="module")
def skewed(database_url):
    """A log of ``HISTORY`` events of one benchmark type, a few rare ones among them, and
    its statistics up to date."""
    admin = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with fresh_database(admin) as url, container_on(url, pool_size=2) as c:
        rare = []
        for _ in range(2):
            fill(url, HISTORY // 2)
            rule = uuid.uuid4()
            meta = EventMeta(datetime.now(UTC), "test", str(uuid.uuid4()), str(uuid.uuid4()))
            rare.append(c.store.append([StreamAppend(rule, 0, [PricingRuleDeactivated()])], meta))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE stored_events")
        yield c, url, rare


def _buffers(url: str, statement, params) -> int:  # noqa: ANN001
    """Shared buffers (hit or read) the statement's plan touched."""
    with psycopg.connect(url) as conn:
        text = statement.as_string(conn) if hasattr(statement, "as_string") else statement
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + text, params).fetchone()[0]
    top = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]
    return top["Shared Hit Blocks"] + top["Shared Read Blocks"]


def test_a_rare_topic_is_read_from_its_index_range_not_by_walking_the_log(skewed):
    c, url, _ = skewed
    topics = ["pricing_rule.PricingRuleDeactivated", "webhook.WebhookDeleted"]
    ranges = topic_ranges(c.store.table, COLUMNS, topics)
    touched = _buffers(url, ranges, [0, 100, 0, 100, 100])
    assert touched < 50, touched
    # what the reads replaced: the topic taken from an array, unknown to the planner
    unnested = (
        f"SELECT e.* FROM unnest(%s::text[]) AS t(topic) CROSS JOIN LATERAL (SELECT {COLUMNS} "
        f"FROM {c.store.table} s WHERE s.topic = t.topic AND s.notification_id > %s "
        "ORDER BY s.notification_id LIMIT %s) e ORDER BY e.notification_id LIMIT %s"
    )
    assert _buffers(url, unnested, [topics, 0, 100, 100]) > 10 * touched


def test_the_reads_return_each_topics_events_after_its_position_in_position_order(skewed):
    c, _, rare = skewed
    found = c.store.read_all(after=0, limit=10, topics=["pricing_rule.PricingRuleDeactivated"])
    assert [e.position for e in found] == rare
    after_first = c.store.read_topics({"pricing_rule.PricingRuleDeactivated": rare[0], "x.Y": 0})
    assert [e.position for e in after_first] == rare[1:]
    one = c.store.read_all(after=0, limit=1, topics=["pricing_rule.PricingRuleDeactivated", "x.Y"])
    assert [e.position for e in one] == rare[:1]
