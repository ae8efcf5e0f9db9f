"""``ecom serve --workers 2`` as deployed: two uvicorn workers answer, the read models and the
placement saga run once (in the supervising process and in its managers' child), an order
placed on any worker is confirmed and readable, and SIGTERM stops every process with
status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.e2e.conftest import TEST_SERVER_ENV, _free_port, client_for, wait_until_healthy
from tests.e2e.test_order_saga import location, place, settled, stocked_sku


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_two_workers_serve_one_saga_and_stop_cleanly(database_url, container):
    port = _free_port()
    env = {**os.environ, **TEST_SERVER_ENV, "ECOM_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "composition.cli", "serve", "--workers", "2", "--port", str(port),
         "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(proc, base)
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
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    assert code == 0
    time.sleep(0.5)
    assert not [w for w in workers if _running(w)], "a worker outlived serve"


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child that its new parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\tZ" not in next(line for line in f if line.startswith("State:"))
    except FileNotFoundError:
        return False
