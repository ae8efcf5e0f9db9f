"""A lock the database does not grant in time is ``503 database_unavailable`` with
``Retry-After`` (never ``500``), writes nothing, and the same request with the same
``Idempotency-Key`` succeeds once the lock is free."""

from __future__ import annotations

from uuid import uuid4

import psycopg

from tests.e2e.conftest import assert_error, client_for, running_server
from tests.factories import active_product

ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


def test_an_event_table_lock_held_past_the_lock_timeout_answers_503(database_url, container):
    sku = active_product(container, price="3.00")[1]
    body = {"customer_id": str(uuid4()), "currency": "USD",
            "lines": [{"sku": sku, "quantity": 1}], "shipping_address": ADDRESS,
            "payment": {"method": "card", "token": "tok_visa"}}  # fmt: skip
    key = {"Idempotency-Key": f"lock-{uuid4()}"}
    with running_server(database_url, ECOM_LOCK_TIMEOUT_S="1", ECOM_RUN_PROCESSES="0") as base:
        with client_for(base) as api:
            head = api.get("/events", params={"limit": 1}).json()["head"]
            # given someone holds the event table's lock longer than the lock timeout
            with psycopg.connect(database_url) as holder:
                holder.execute("LOCK TABLE stored_events IN EXCLUSIVE MODE")
                # when an order is placed (its route's fast path) and a product created (a route)
                placed = api.post("/orders", json=body, headers=key)
                created = api.post("/products", json={
                    "sku": f"LK-{uuid4().hex[:8]}", "name": "Mug",
                    "price": {"amount": "1.00", "currency": "USD"}})  # fmt: skip
                holder.rollback()
            # then both are 503 with Retry-After, naming the lock, and nothing was written
            for r in (placed, created):
                error = assert_error(r, 503, "database_unavailable")
                assert error["details"] == {"reason": "lock_timeout"}
                assert "Idempotency-Key" in error["message"]
                assert int(r.headers["retry-after"]) >= 1
            assert api.get("/events", params={"limit": 1}).json()["head"] == head
            # and the retry under the same key places the order once
            again = api.post("/orders", json=body, headers=key)
            assert again.status_code == 201, again.text
            replay = api.post("/orders", json=body, headers=key)
            assert replay.json()["id"] == again.json()["id"]
