"""``ecom serve --workers 2`` as deployed: two uvicorn workers answer, the read models and the
placement saga run once (in the supervising process and in its managers' child), an order
placed on any worker is confirmed and readable, and SIGTERM stops every process with
status 0."""

from __future__ import annotations

import subprocess
import time

from tests.e2e.conftest import client_for, ecom_serve, running
from tests.e2e.test_order_saga import location, place, settled, stocked_sku


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_two_workers_serve_one_saga_and_stop_cleanly(database_url, container):
    with ecom_serve(database_url, "--workers", "2") as (proc, base):
        workers = _children(proc.pid)
        assert len(workers) >= 2, workers  # the workers (and uvicorn's resource tracker)
        with client_for(base, timeout=60) as api:
            wh = location(api, 1)
            sku = stocked_sku(container, api, (wh, 5))
            orders = [place(api, sku, 1)["id"] for _ in range(6)]  # 6 orders, 5 units
            decided = [settled(api, order_id) for order_id in orders]
            assert sorted(d["status"] for d in decided) == ["cancelled"] + ["confirmed"] * 5
            inv = api.get(f"/inventory/{sku}").json()
            assert (inv["reserved"], inv["available"]) == (5, 0)
        events = container.store.read_all(after=0, limit=100_000, topics=["order.OrderConfirmed"])
        confirmed = [e.stream_id for e in events if str(e.stream_id) in orders]
        assert len(confirmed) == len(set(confirmed)) == 5  # 5 units: one cancelled, none twice
    assert proc.returncode == 0
    time.sleep(0.5)
    assert not [w for w in workers if running(w)], "a worker outlived serve"
