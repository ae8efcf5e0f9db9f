"""Admission of new orders under ``ecom serve`` (``api/admission.py``): while the placement
saga (or a view of every order) trails the orders placed by more than a second, a new order
waits at the door, and after ``ECOM_ADMISSION_WAIT_S`` it is turned away with ``503
overloaded`` and ``Retry-After``, with nothing written; once the saga moves again the orders
waiting are taken. The saga is made to trail by freezing the managers' process (SIGSTOP), as
a saga starved of CPU or stuck on its database would; a body that is not an order is refused
at once, door or not."""

from __future__ import annotations

import os
import signal
import threading
import time

import psycopg

from tests.e2e.conftest import assert_error, client_for, ecom_serve
from tests.e2e.test_order_saga import location, order_body, place, settled, stocked_sku
from tests.e2e.test_serve_managers_process import _managers

WAIT_S = 3.0


def _placed(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT count(*) FROM stored_events WHERE topic = 'order.OrderPlaced'"
        ).fetchone()[0]


def test_orders_wait_while_the_saga_trails_and_are_turned_away_after_the_wait(
    database_url, container
):
    env = {"ECOM_ADMISSION_WAIT_S": str(WAIT_S), "ECOM_ADMISSION_STALL_S": "120"}
    with ecom_serve(database_url, **env) as (proc, base), client_for(base, timeout=60) as api:
        sku = stocked_sku(container, api, (location(api, 1), 10))
        assert settled(api, place(api, sku)["id"])["status"] == "confirmed"  # the saga at the head
        (managers,) = _managers(proc.pid)
        os.kill(managers, signal.SIGSTOP)
        try:
            first = place(api, sku)["id"]  # nothing trails yet: taken at once
            time.sleep(1.3)  # the first order now trails by more than a second

            before = _placed(database_url)
            began = time.monotonic()
            turned_away = api.post("/orders", json=order_body(sku))
            waited = time.monotonic() - began
            body = assert_error(turned_away, 503, "overloaded")
            assert turned_away.headers["Retry-After"] == "1"
            assert body["details"]["backlog_s"] > 1.0
            assert waited >= WAIT_S - 0.1, waited
            assert _placed(database_url) == before  # nothing written

            began = time.monotonic()
            bad = api.post("/orders", json={**order_body(sku), "customer_id": "not an id"})
            assert_error(bad, 422)
            assert time.monotonic() - began < 1.0  # refused before the door

            answers: list = []
            waiting = threading.Thread(
                target=lambda: answers.append(api.post("/orders", json=order_body(sku)))
            )
            began = time.monotonic()
            waiting.start()
            time.sleep(0.5)
            assert not answers, "an order was taken while the saga trailed"
        finally:
            os.kill(managers, signal.SIGCONT)
        waiting.join(30)
        (held,) = answers
        assert held.status_code == 201, held.text
        assert time.monotonic() - began >= 0.5
        assert settled(api, first)["status"] == "confirmed"
        assert settled(api, held.json()["id"])["status"] == "confirmed"
