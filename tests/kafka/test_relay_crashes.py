"""The relay killed with SIGKILL at random moments while events are written: nothing is lost,
and only events it had not recorded as acknowledged are sent again."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import defaultdict
from uuid import UUID

import orjson

from eventstore.database import make_pool
from scaleout.relay import Relay, relay_status
from tests.kafka.conftest import unique, write_pings
from tests.kafka.helpers import in_thread, read_topic, topic


def relay_process(url: str, bootstrap: str, prefix: str, start: int) -> None:
    """A relay in a forked process, with its own connections; it runs until killed."""
    Relay(make_pool(url, max_size=3), bootstrap, prefix=prefix, start_position=start).run()


def settled_positions(pool, prefix: str) -> set[int]:  # noqa: ANN001
    """Every stored position seen until it holds still for 0.2 s: a COMMIT the killed relay
    had already sent still lands on the server after the process is gone."""
    seen = [relay_status(pool, prefix).position]
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < 0.2:
        time.sleep(0.02)
        now = relay_status(pool, prefix).position
        if now != seen[-1]:
            seen.append(now)
            stable_since = time.monotonic()
    return set(seen)


def test_relay_killed_20_times_while_50000_events_are_written_loses_nothing(
    container, broker, kt_mapper, database_url
):
    store = container.store
    prefix = unique("kill-")
    rng = random.Random(5)
    ids: list[UUID] = []

    def writer() -> None:
        for _ in range(25):  # 25 x 2,000 = 50,000 events, spread over the kills
            ids.extend(write_pings(store, streams=100, per_stream=20, per_txn=500))
            time.sleep(0.4)

    writing = in_thread(writer)
    start = store.head()
    starts = {start}
    fork = multiprocessing.get_context("fork")  # starts in milliseconds: kills land mid-relay
    for _ in range(20):
        starts.add(relay_status(container.pool, prefix).position)
        proc = fork.Process(
            target=relay_process, args=(database_url, broker.bootstrap, prefix, start)
        )
        proc.start()
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        starts.update(settled_positions(container.pool, prefix))
    writing.join(120)
    assert not writing.is_alive()
    starts.update(settled_positions(container.pool, prefix))
    Relay(container.pool, broker.bootstrap, prefix=prefix).run(until_caught_up=True)
    assert relay_status(container.pool, prefix).lag == 0

    copies: dict[tuple[UUID, int], int] = defaultdict(int)
    mine = set(ids)
    sessions = set()
    for _p, _o, _key, headers, value in read_topic(broker.bootstrap, topic(prefix, "kt")):
        env_ = orjson.loads(value)
        start = int(headers["ecom-relay-from"])
        sessions.add(start)
        # Never resent: everything at or below a session's start had been acknowledged.
        assert env_["position"] > start
        sid = UUID(env_["stream_id"])
        if sid in mine:
            copies[(sid, env_["version"])] += 1
    assert len(mine) == 2500 and len(copies) == 50_000  # none lost
    assert len(sessions) >= 5  # the killed relays did send
    assert sessions <= starts  # each session began at a stored (acknowledged) position
