"""Product search over HTTP at scale, and what its view costs the projection runner.

A catalog of ``--products`` products (100,000 by default) over a category tree is appended as
events (``bench/search_catalog.py``); the product catalog view and then the search view catch
up over it (events/s of each: what the search view costs per product event, beside the view
the catalog had before it); the search view is then vacuumed and checkpointed (``settle``).
Then the real API (``ecom serve``, projections and process
managers off: the views it reads are brought to the head by this process, so no other view
catching up on the catalog competes for the machine) answers ``GET /api/v1/search/products`` for
``--connections`` keep-alive clients, cycling through a mix of searches with filters, facets
always computed: a word or a typo, a category (with descendants), a price range, an
attribute, in stock, each sort. Three measurements of the mix:

- **cold**: each of the 400 searches sent once (a fresh API process: every distinct search a
  miss of its answer cache), the window from the first request to the last answer;
- **warm**: the mix cycled for ``--seconds`` (answers from the cache);
- **warm, stock moving, prices edited**: the same while this process reserves ``--writes``
  units a second (one unit of a SKU drawn in proportion to its available units, as orders
  would), changes ``--edits`` products' prices a second (up or down by a tenth) and moves the
  search view and the ratings view (the search joins its ratings) over them every 50 ms, as
  the live runner would (every pass moves every view's position to the head): only a
  reservation that takes a product's last unit changes an answer, and only the cached answers
  showing that product or filtered on stock change; a price change, only the answers whose
  set the product is in (before or after) or whose page shows it (the view's product
  generation): patched where the change is certain, else read again
  (``projections/search_answers.py``; the API's ``/metrics`` counts both, printed beside the
  figures).

The baselines in the same run, on the same server and connections: ``GET /orders/{id}`` of the
baseline app (``bench/baseline_app.py``: one SELECT of a jsonb row, on a database of its own),
and our own ``GET /api/v1/orders/{id}`` (the read of ``bench/http_reads.py``). Prints req/s
and p50/p99 for each.

    python -m bench.search --products 100000 --seconds 15 --connections 32 --writes 100 --edits 2
"""

from __future__ import annotations

import gc
import itertools
import json
import random
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import psycopg
from psycopg.conninfo import make_conninfo

from bench.common import (
    api_server,
    bench_token,
    container_on,
    free_port,
    fresh_database,
    load_summary,
    machine,
    parser,
)
from bench.http_orders import order_load, setup_catalog
from bench.http_reads import read_load, wait_for_details
from bench.ratios import baseline_server
from bench.search_catalog import COLORS, SIZES, generate, reservation
from domain.ids import inventory_stream
from domain.money import Money
from domain.product.events import PriceChanged
from eventstore.recorded import EventMeta
from eventstore.store import StreamAppend

WORDS = ["shoes", "sheos", "tshirt", "jacket", "wool", "boots", "cozy", "hoodie", "jeans"]
WORDS += ["winter boots", "running shoes", "backpack", "scarf", "sandals", "umbrela"]
#: The views a search reads: the search view, and the ratings view it joins.
SEARCHED = ["product_search", "reviews"]


def search_paths(categories: list[str], n: int = 400, seed: int = 5) -> list[str]:
    """A reproducible mix of searches: text in most, one or two filters each, every sort."""
    rnd = random.Random(seed)
    paths = []
    for _ in range(n):
        params: dict[str, Any] = {"limit": 20}
        if rnd.random() < 0.85:
            params["q"] = rnd.choice(WORDS)
        if rnd.random() < 0.4:
            params["category_id"] = rnd.choice(categories)
        if rnd.random() < 0.3:
            low = rnd.choice([0, 10, 50, 100])
            params["price_min"], params["price_max"] = low, low + rnd.choice([20, 100, 300])
        if rnd.random() < 0.3:
            params[rnd.choice(["attr.color", "attr.size"])] = rnd.choice(COLORS + SIZES)
        if rnd.random() < 0.3:
            params["in_stock"] = "true"
        params["sort"] = rnd.choice(["relevance", "relevance", "price_asc", "price_desc", "newest"])
        paths.append("/api/v1/search/products?" + urlencode(params))
    return paths


def project(url: str, products: int) -> dict[str, Any]:
    """Append the catalog; catch the catalog view, then the search view, up over it."""
    with container_on(url, pool_size=4) as c:
        t0 = time.perf_counter()
        catalog = generate(c.store, products, batch=2_000)
        appended = time.perf_counter() - t0
        events = c.store.head()
        print(f"{products:,} products, {events:,} events appended in {appended:.0f} s", flush=True)
        rates = {}
        for view in ("product_catalog", "product_search"):
            t0 = time.perf_counter()
            c.runner.catch_up([view], timeout_s=3600)
            rates[view] = events / (time.perf_counter() - t0)
            print(f"{view}: {rates[view]:,.0f} events/s", flush=True)
        with c.pool.connection() as conn:
            size = conn.execute(
                "SELECT pg_total_relation_size('rm_product_search.products') + "
                "pg_total_relation_size('rm_product_search.lexicon')"
            ).fetchone()[0]
        settle(url)
    return {
        "events": events,
        "rates": rates,
        "categories": [str(k) for k in catalog.parents],
        "view_mb": size / 2**20,
        "prices": {p.id: p.price for p in catalog.products if p.status == "active"},
        "stock": {
            (p.sku, location): units
            for p in catalog.products
            if p.status == "active"
            for location, units in p.available.items()
            if units > 0
        },
    }


def settle(url: str) -> None:
    """What a server running for a while has done by itself, done now, so the catalog's build
    (half a million events and their views in two minutes, far beyond a day's writes) does not
    spill into the measured windows: vacuum the search view (visibility and hint bits; this
    server may run without autovacuum) and write its pages out (``CHECKPOINT``)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) rm_product_search.products")
        conn.execute("CHECKPOINT")


def _generation(c) -> int:  # noqa: ANN001 - a Container
    """The search view's product generation (batches that changed some product's row)."""
    with c.pool.connection() as conn:
        return conn.execute("SELECT products FROM rm_product_search.generation").fetchone()[0]


def with_stock_moving(
    url: str,
    stock: dict[tuple[str, str], int],
    per_s: float,
    load,  # noqa: ANN001
    prices: dict[uuid.UUID, Decimal] | None = None,
    edits_per_s: float = 0.0,
):
    """Run ``load()`` while reserving ``per_s`` units a second, changing ``edits_per_s``
    products' ``prices`` a second, and moving the search view over them every 50 ms; return
    its result with the reservations made, the edits made and the generation moves."""
    # the catalog's objects, built by this process, are not walked by its collector while the
    # server is measured (this process's work beside it is the writes, not its own garbage)
    gc.collect()
    gc.freeze()
    stop = threading.Event()
    rnd = random.Random(7)
    made = [0]
    edited = [0]
    passes: list[float] = []
    with container_on(url, pool_size=3) as c:
        before = _generation(c)

        def reserve() -> None:
            step = 1.0 / per_s
            due = time.perf_counter()
            keys = list(stock)
            cumulative = list(itertools.accumulate(stock[k] for k in keys))
            left = sum(stock.values())
            while not stop.is_set() and left:
                sku, location = rnd.choices(keys, cum_weights=cumulative)[0]
                if not stock[(sku, location)]:
                    continue  # taken already: drawn in proportion to the units it had
                stream = inventory_stream(sku)
                event = reservation(sku, location, 1)
                meta = EventMeta(datetime.now(UTC), "bench", str(uuid.uuid4()), "bench")
                c.store.append(
                    [StreamAppend(stream, c.store.stream_version(stream), [event])], meta
                )
                made[0] += 1
                stock[(sku, location)] -= 1
                left -= 1
                due += step
                stop.wait(max(0.0, due - time.perf_counter()))

        def edit() -> None:
            ids = sorted(prices or {})
            step = 1.0 / edits_per_s
            due = time.perf_counter()
            while not stop.is_set():
                product = rnd.choice(ids)
                old = prices[product]
                new = (old * rnd.choice([Decimal("0.9"), Decimal("1.1")])).quantize(Decimal("0.01"))
                event = PriceChanged(
                    old=Money(amount=old, currency="USD"),
                    new=Money(amount=new, currency="USD"),
                    reason="bench",
                )
                meta = EventMeta(datetime.now(UTC), "bench", str(uuid.uuid4()), "bench")
                c.store.append(
                    [StreamAppend(product, c.store.stream_version(product), [event])], meta
                )
                prices[product] = new
                edited[0] += 1
                due += step
                stop.wait(max(0.0, due - time.perf_counter()))

        def project() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                c.runner.run_pass(SEARCHED)
                passes.append(time.perf_counter() - t0)
                stop.wait(0.05)

        work = (reserve, project, edit) if prices and edits_per_s > 0 else (reserve, project)
        threads = [threading.Thread(target=f, daemon=True) for f in work]
        for t in threads:
            t.start()
        try:
            result = load()
        finally:
            stop.set()
            for t in threads:
                t.join()
        c.runner.catch_up(SEARCHED)
        moved = _generation(c) - before
    passes.sort()
    if passes:
        print(
            f"search view passes while stock moved: {len(passes)}, p50 "
            f"{1000 * passes[len(passes) // 2]:.1f} ms, max {1000 * passes[-1]:.1f} ms",
            flush=True,
        )
    return result, made[0], edited[0], moved


def cache_figures(port: int) -> tuple[int, Counter[str], Counter[str]]:
    """The API's search answers patched so far, those evicted by why, and its moves to new
    generations so far by duration (cumulative: at most each bound; its ``/metrics``)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/metrics",
        headers={"Authorization": f"Bearer {bench_token()}"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        text = r.read().decode()
    figures = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("ecom_search_")
    )

    def by_label(series: str) -> Counter[str]:
        """``series``' values by their one label's value."""
        prefix = series + "{"
        return Counter(
            {
                name.split('"')[1]: int(float(n))
                for name, n in figures.items()
                if name.startswith(prefix)
            }
        )

    moves = by_label("ecom_search_answers_move_seconds_bucket")
    return (
        int(float(figures["ecom_search_answers_patched_total"])),
        by_label("ecom_search_answers_evicted_total"),
        Counter({f"≤{bound} s": n for bound, n in moves.items()}),
    )


def baseline_reads(url: str, connections: int, seconds: float) -> dict[str, Any]:
    """``GET /orders/{id}`` of the baseline app (``bench/baseline_app.py``: one SELECT of a
    jsonb row) on a database of its own on the same server, with the same clients."""
    server = make_conninfo(url, dbname="postgres")
    with fresh_database(server) as base_url:
        port = free_port()
        with baseline_server(base_url, port, 1):
            body = {
                "customer_id": str(uuid.uuid4()),
                "currency": "USD",
                "lines": [{"sku": "BENCH-1", "quantity": 1}],
                "shipping_address": {
                    "name": "Ann",
                    "line1": "1 Main St",
                    "city": "Springfield",
                    "postal_code": "12345",
                    "country": "US",
                },
                "payment": {"method": "card", "token": "tok_visa"},
            }
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/orders",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as r:
                order_id = json.loads(r.read())["id"]
            paths = [f"/orders/{order_id}"]
            return load_summary(read_load(port, paths, connections, seconds, token=False))


def measure(
    url: str, products: int, seconds: float, connections: int, writes: float, edits: float
) -> dict[str, Any]:
    built = project(url, products)
    setup_catalog(url)
    with container_on(url, pool_size=2) as c:
        # the order load's products, in the search view before anything is measured: a change
        # of the catalog empties the answers' cache, which would land in the first phase after
        c.runner.catch_up([*SEARCHED, "product_catalog"], timeout_s=600)
    port = free_port()
    with api_server(url, port, 1, ECOM_RUN_PROJECTIONS="0"):
        placed = order_load(port, 8, 2.0, 0.0)["ids"]
        with container_on(url, pool_size=2) as c:  # only the view the baseline reads
            c.runner.catch_up(["order_detail"], timeout_s=600)
        wait_for_details(url, placed)
        paths = search_paths(built["categories"])
        cold = load_summary(read_load(port, paths, connections, seconds, token=True, once=True))
        print(f"GET /api/v1/search/products, cold: {cold}", flush=True)
        search = load_summary(read_load(port, paths, connections, seconds, token=True))
        print(f"GET /api/v1/search/products, warm: {search}", flush=True)
        before = cache_figures(port)
        moving, reserved, edited, generations = with_stock_moving(
            url,
            built["stock"],
            writes,
            lambda: load_summary(read_load(port, paths, connections, seconds, token=True)),
            built["prices"],
            edits,
        )
        after = cache_figures(port)
        patched, why = after[0] - before[0], after[1] - before[1]
        moves = {bound: n - before[2][bound] for bound, n in after[2].items()}
        evicted = sum(why.values())
        print(
            f"GET /api/v1/search/products, warm, {reserved:,} reservations and {edited:,} "
            f"price changes, the view's product generation moved {generations} times, "
            f"{patched} answers patched, {evicted} read again ({dict(why)}), "
            f"the cache's moves by duration {moves}: {moving}",
            flush=True,
        )
        order_paths = [f"/api/v1/orders/{i}" for i in placed]
        order = load_summary(read_load(port, order_paths, connections, seconds, token=True))
        print(f"GET /api/v1/orders/{{id}}: {order}", flush=True)
    baseline = baseline_reads(url, connections, seconds)
    print(f"baseline app GET /orders/{{id}}: {baseline}", flush=True)
    built = {k: v for k, v in built.items() if k not in ("stock", "prices")}
    return {
        **built,
        "products": products,
        "cold": cold,
        "search": search,
        "moving": moving,
        "reserved": reserved,
        "edited": edited,
        "generations": generations,
        "patched": patched,
        "evicted": evicted,
        "evicted_why": dict(why),
        "moves": moves,
        "order": order,
        "baseline": baseline,
        "connections": connections,
        "seconds": seconds,
    }


def table(r: dict[str, Any]) -> str:
    rows = [
        f"\n{r['products']:,} products ({r['events']:,} events), {r['connections']} keep-alive "
        f"connections, {r['seconds']:.0f} s each, 1 uvicorn worker\n",
        "| request | req/s | p50 ms | p99 ms | answers |",
        "|---|---|---|---|---|",
    ]
    for name, s in (
        ("GET /api/v1/search/products (mix), cold: each search once", r["cold"]),
        ("GET /api/v1/search/products (mix), warm", r["search"]),
        (
            f"GET /api/v1/search/products (mix), warm, {r['reserved']:,} reservations and "
            f"{r['edited']:,} price changes, {r['generations']} product generations "
            f"({r['patched']} answers patched, {r['evicted']} read again"
            + "".join(f", {n} {why}" for why, n in sorted(r["evicted_why"].items()))
            + ")",
            r["moving"],
        ),
        ("ours: GET /api/v1/orders/{id}", r["order"]),
        ("baseline app (`bench/baseline_app.py`): GET /orders/{id}", r["baseline"]),
    ):
        rows.append(
            f"| {name} | {s['rate']:,.0f} | {s['p50']:.1f} | {s['p99']:.1f} | {s['statuses']} |"
        )
    ratio = r["search"]["rate"] / r["baseline"]["rate"] if r["baseline"]["rate"] else float("nan")
    rates = r["rates"]
    rows.append(
        f"\nsearch (warm) / baseline app GET rate {ratio:.2f}; search p99 goal <= 50 ms\n"
        f"projection: product_catalog {rates['product_catalog']:,.0f} events/s, "
        f"product_search {rates['product_search']:,.0f} events/s "
        f"({1e6 / rates['product_search']:.0f} µs per event); "
        f"search view {r['view_mb']:.0f} MiB"
    )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--products", type=int, default=100_000)
    p.add_argument("--seconds", type=float, default=15.0, help="measured seconds per request")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--writes", type=float, default=100.0, help="reservations a second")
    p.add_argument("--edits", type=float, default=2.0, help="price changes a second")
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url:
        print(machine(url), flush=True)
        r = measure(url, args.products, args.seconds, args.connections, args.writes, args.edits)
    print(table(r), flush=True)
    return r


if __name__ == "__main__":
    main()
    sys.exit(0)
