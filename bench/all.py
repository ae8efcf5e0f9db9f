"""``make bench``: every benchmark once, on one fresh database each, then a summary table.

Defaults keep it under a quarter of an hour on a small machine: 4,000 commands per append
configuration; a rebuild over 1,000,000 events (resident memory sampled), and the library's
runner (one transaction per event) over the first 5,000 of them; 10 s of load per HTTP figure
(POST /orders and its bare FastAPI baseline, then half that per round with and without an
automatic promotion, GET /orders/{id} and GET /health); the order saga
at 200 and 300 orders/s offered for 10 s each; the API's memory over 1,000,000 stored events;
an inventory command on a SKU with 5,000 reservations, with and without snapshots, and one
decision's cost to a SKU's state at 100,000 reservations (``bench/hot_sku_state.py``); the Merkle
tree's proofs at 1,000,000 leaves and the chainer's rate with it over 100,000 events; last, the
performance ratios against the baseline app (``bench/ratios.py``: 10 s per figure over 32
connections, wrk when it is on the PATH; 20 s idle; three hot-SKU rounds of 10 s, not the
ten of 20 s of the full check; about 3 minutes); and product search over 100,000 products
(``bench/search.py``: cold, warm and while stock moves, 10 s each over 32 connections, beside
the baseline app's GET; about 4 minutes). The audit and Kafka benchmarks run alone
(``python -m bench.audit``, ``python -m bench.kafka_relay``: the latter needs a broker)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from bench import (
    api_memory,
    append,
    hot_sku_state,
    http_orders,
    http_reads,
    merkle,
    order_cost,
    priced_orders,
    ratios,
    rebuild,
    saga,
    search,
    snapshots,
)
from bench.common import DEFAULT_SERVER, fresh_database, machine, parser

SEARCH_ROWS = {
    "cold": "cold (each search once)",
    "search": "warm",
    "moving": "warm, 100 reservations/s",
}


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--commands", type=int, default=4_000)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--library-events", type=int, default=5_000)
    p.add_argument("--http-seconds", type=float, default=10.0, help="measured seconds per run")
    p.add_argument("--connections", type=int, default=16, help="HTTP keep-alive connections")
    p.add_argument("--workers", type=int, default=1, help="uvicorn workers for the HTTP runs")
    p.add_argument("--saga-rates", default="200,300", help="offered orders/s, comma list")
    p.add_argument("--saga-seconds", type=float, default=10.0)
    p.add_argument("--memory-events", type=int, default=1_000_000)
    p.add_argument("--reservations", type=int, default=5_000, help="for the snapshot run")
    p.add_argument("--merkle-leaves", type=int, default=1_000_000, help="for the proof run")
    p.add_argument("--ratio-seconds", type=float, default=10.0, help="per ratio figure")
    p.add_argument("--ratio-rounds", type=int, default=3, help="hot-SKU rounds")
    p.add_argument("--ratio-round-seconds", type=float, default=10.0)
    p.add_argument("--idle-seconds", type=float, default=20.0)
    p.add_argument("--search-products", type=int, default=100_000)
    p.add_argument("--search-seconds", type=float, default=10.0, help="per search figure")
    args = p.parse_args(argv)
    url = ["--url", args.url or DEFAULT_SERVER]
    http = [
        "--seconds",
        str(args.http_seconds),
        "--connections",
        str(args.connections),
        "--workers",
        str(args.workers),
    ]
    started = time.perf_counter()
    with fresh_database(args.url) as db:
        where = machine(db)
    print(f"== {where}", flush=True)
    print("== append", flush=True)
    appends = append.main([*url, "--commands", str(args.commands)])
    print("== rebuild", flush=True)
    rb = rebuild.main(
        [*url, "--events", str(args.events), "--library-events", str(args.library_events)]
    )
    print("== POST /orders over HTTP", flush=True)
    po = http_orders.main([*url, *http])
    print("== POST /orders with three pricing rules and an automatic promotion", flush=True)
    pr = priced_orders.main([*url, "--seconds", str(args.http_seconds / 2), "--rounds", "2"])
    print("== GET /orders/{id} over HTTP", flush=True)
    gr = http_reads.main([*url, *http])
    print("== order saga", flush=True)
    sg = saga.main([*url, "--rates", args.saga_rates, "--seconds", str(args.saga_seconds)])
    print("== API memory", flush=True)
    mem = api_memory.main([*url, "--events", str(args.memory_events)])
    print("== snapshots", flush=True)
    sn = snapshots.main([*url, "--reservations", str(args.reservations), "--rounds", "10"])
    print("== a hot SKU's state", flush=True)
    hs = hot_sku_state.main([])
    print("== Merkle tree", flush=True)
    mk = merkle.main([*url, "--leaves", str(args.merkle_leaves)])
    print("== performance ratios against the baseline app", flush=True)
    ratio_seconds = str(args.ratio_seconds)
    rt = ratios.run(
        [
            *url,
            *("--seconds", ratio_seconds, "--paced-seconds", ratio_seconds),
            *("--idle-seconds", str(args.idle_seconds), "--workers", str(args.workers)),
            *("--rounds", str(args.ratio_rounds)),
            *("--round-seconds", str(args.ratio_round_seconds)),
        ]
    )
    print("== CPU per order at steady rates", flush=True)
    oc_ours, oc_base = order_cost.run([*url, "--rates", "40,80", "--seconds", "10"])
    print("== product search", flush=True)
    se = search.main(
        [
            *url,
            *("--products", str(args.search_products), "--seconds", str(args.search_seconds)),
            *("--connections", "32", "--writes", "100"),
        ]
    )

    print("\n| benchmark | ours | baseline (same run) |\n|---|---|---|")
    for r in appends:
        print(
            f"| append, {r['threads']} writer thread(s), 1 event per command "
            f"| {r['commands'] / r['ours_s']:,.0f} commands/s "
            f"| raw INSERT: {r['commands'] / r['raw_s']:,.0f} rows/s |"
        )
    print(
        f"| projection rebuild, {rb['events']:,} events "
        f"| {rb['events'] / rb['ours_s']:,.0f} events/s, RSS peak {rb['rss_peak_mb']:,.0f} MB "
        f"| library ProjectionRunner ({rb['library_events']:,} events): "
        f"{rb['library_events'] / rb['library_s']:,.0f} events/s |"
    )
    print(
        f"| projection rebuild, {rb['events']:,} events, view that writes nothing "
        f"| {rb['events'] / rb['null_s']:,.0f} events/s | (the runner alone) |"
    )
    o, b = po["ours"], po["bare"]
    print(
        f"| POST /api/v1/orders, {po['connections']} connections, {po['workers']} worker(s) "
        f"| {o['rate']:,.0f} orders/s, p50 {o['p50']:.1f} ms, p99 {o['p99']:.1f} ms "
        f"| bare FastAPI, same body: {b['rate']:,.0f} req/s, p50 {b['p50']:.1f} ms, "
        f"p99 {b['p99']:.1f} ms |"
    )
    with_, without = pr["median_rate"]["priced"], pr["median_rate"]["none"]
    print(
        f"| POST /api/v1/orders, {pr['what']} active | {with_:,.0f} orders/s "
        f"({pr['ratio']:.2f} of the rate without) | none active: {without:,.0f} orders/s |"
    )
    o, h = gr["order"], gr["health"]
    print(
        f"| GET /api/v1/orders/{{id}}, {gr['connections']} connections "
        f"| {o['rate']:,.0f} req/s, p50 {o['p50']:.1f} ms, p99 {o['p99']:.1f} ms "
        f"| GET /health: {h['rate']:,.0f} req/s, p50 {h['p50']:.1f} ms, p99 {h['p99']:.1f} ms |"
    )
    full, empty = mem["full"]["after_requests"], mem["empty"]["after_requests"]
    print(
        f"| API process RSS, {mem['events']:,} events stored "
        f"| {full['VmRSS'] / 1024:,.0f} MiB (peak {full['VmHWM'] / 1024:,.0f} MiB) "
        f"| empty store: {empty['VmRSS'] / 1024:,.0f} MiB |"
    )
    for r in sg or []:
        print(
            f"| order saga, {r['offered']:.0f} orders/s offered "
            f"| {r['confirmed_per_s']:,.0f} confirmed/s, OrderPlaced → OrderConfirmed "
            f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms | — |"
        )
    print(
        f"| inventory `reserve` on a SKU with {sn['reservations']:,} reservations "
        f"| {sn['snap_reserve_ms']:.1f} ms from the snapshot "
        f"| whole stream folded: {sn['base_reserve_ms']:.1f} ms |"
    )
    print(
        f"| one decision on a SKU with 100,000 reservations, 300 kept as a batch keeps them "
        f"| {hs['ours_ms']:.3f} ms, {hs['ours_mb']:.1f} MB "
        f"| the maps as dicts, copied: {hs['base_ms']:.1f} ms, {hs['base_mb']:,.0f} MB |"
    )
    print(
        f"| chainer, chain + Merkle tree, {mk['events']:,} events "
        f"| {mk['events'] / mk['chain_tree_s']:,.0f} events/s "
        f"| chain only: {mk['events'] / mk['chain_s']:,.0f} events/s |"
    )
    for key in ("digest", "inclusion", "consistency"):
        print(
            f"| `{key}` at {mk['leaves']:,} leaves | p50 {mk[key]['p50']:.2f} ms, "
            f"p99 {mk[key]['p99']:.2f} ms | one stored node by key: p50 "
            f"{mk['baseline']['p50']:.2f} ms |"
        )
    for o, b in zip(oc_ours, oc_base, strict=True):
        print(
            f"| CPU per order at {o['rate']:.0f} orders/s, every process and PostgreSQL "
            f"| {sum(o['ms'].values()):.1f} ms (until confirmed and in every view) "
            f"| baseline app: {sum(b['ms'].values()):.1f} ms |"
        )
    base = se["baseline"]
    for name in ("cold", "search", "moving"):
        f = se[name]
        print(
            f"| search, {se['products']:,} products, 32 connections, {SEARCH_ROWS[name]} "
            f"| {f['rate']:,.0f} req/s, p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms (goal "
            f"p99 <= 50 ms) | baseline app GET /orders/{{id}}: {base['rate']:,.0f} req/s, p99 "
            f"{base['p99']:.1f} ms |"
        )
    print(
        f"| search view projection | {se['rates']['product_search']:,.0f} events/s "
        f"({1e6 / se['rates']['product_search']:.0f} µs per event) "
        f"| product catalog view: {se['rates']['product_catalog']:,.0f} events/s |"
    )
    print(f"\nperformance ratios, each against its goal (`bench/ratios.py`):\n\n{rt['table']}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
