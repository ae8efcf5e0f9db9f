"""The performance ratios and their goals, in one run: our API (``ecom serve`` as ``make run``
starts it, process managers and read models on, rate limits off) against the baseline of
``bench/baseline_app.py`` (FastAPI + pydantic + one jsonb row per order), each on a fresh
database of the PostgreSQL server at ``--url``, both under the same load (``wrk -t1`` with the
scripts in ``bench/wrk`` when ``wrk`` is on the PATH, else the Python load generator).

Figures, in this order: ``POST /orders`` req/s and p99; how long after that load stops until
every order it placed is confirmed and every view is at the head ("keeping up");
``GET /orders/{id}`` req/s and p99; placed → confirmed p50/p99 at half the measured POST rate,
from the events' own ``occurred_at``; CPU of our server's processes and of PostgreSQL's with no
traffic; ``--rounds`` consecutive POST rounds on one SKU, each against the first. Prints a
table (figure | ours | baseline | ratio | goal | met?). Exits 0 when goals are not met (it is a
report) and non-zero when something broke (an order lost, a server that did not start).

``--history N`` measures ours with N events already in its store (COPYed before it starts,
``bench.api_memory.fill``: a benchmark event type that every follower of ours ignores, so each
must move past them; then vacuumed and analyzed, as autovacuum would): the server starts on
them, and the figures are taken once the hash chain and every view are at the head. The
baseline's table stays empty, so the ratios are against the same baseline as without
history.

    python -m bench.ratios --seconds 15 --connections 32 --workers 1 --rounds 10
    python -m bench.ratios --history 10000000
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bench.api_memory import fill, memory
from bench.baseline_app import DATABASE_URL_ENV
from bench.common import (
    SERVER_ENV,
    bench_token,
    free_port,
    fresh_database,
    machine,
    parser,
    percentile,
    served,
)
from bench.paced_orders import place_paced
from bench.process_cpu import (
    cpu_percent,
    descendants_and_self,
    postgres_server_pid,
    serve_roles,
)
from bench.wrk_load import Load, get_path, post_orders, use_wrk
from projections.base import live_schema

SKU = "RATIO-HOT"
SETTLE_TIMEOUT_S = 300.0
HISTORY_TIMEOUT_S = 3_600.0  # the chainer's catch-up over a large history
IDLE_LEAD_IN_S = 1.0  # after the views caught up, before the idle window opens
ORDER_TOPICS = ["order.OrderPlaced", "order.OrderConfirmed", "order.OrderCancelled"]


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """A connection, waiting up to a minute for a free slot: the server's connections are
    shared with other work, and a benchmark should not fail on a moment when they are full."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return psycopg.connect(url, **kwargs)
        except psycopg.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class Broken(RuntimeError):
    """Something the report cannot stand on: an order lost, a view parked, a setup refused."""


# ---- our API over HTTP -------------------------------------------------------------------


@dataclass
class Api:
    port: int
    token: str

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            raise Broken(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from None


def set_up_shop(api: Api) -> None:
    """One warehouse and one active SKU with plenty of stock, through the API."""
    api.call("POST", "/locations", {"code": "RATIO-WH", "name": "Ratio WH", "type": "warehouse"})
    price = {"amount": "9.99", "currency": "USD"}
    product = api.call("POST", "/products", {"sku": SKU, "name": "Hot SKU", "price": price})
    for status in ("pending_approval", "active"):
        api.call("POST", f"/products/{product['id']}/lifecycle", {"status": status})
    api.call("POST", f"/inventory/{SKU}/receipts", {"location": "RATIO-WH", "quantity": 10**8})


# ---- settling: orders confirmed, views at the head ----------------------------------------


@dataclass
class Settled:
    seconds: float | None  # None: not settled within the timeout
    placed: int
    confirmed: int
    cancelled: int
    parked: int
    behind: list[str] = field(default_factory=list)


def head(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT coalesce(max(notification_id), 0) FROM stored_events").fetchone()[0]


def order_counts(conn: psycopg.Connection, after: int) -> tuple[int, int, int]:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE topic = 'order.OrderPlaced'), "
        "count(*) FILTER (WHERE topic = 'order.OrderConfirmed'), "
        "count(*) FILTER (WHERE topic = 'order.OrderCancelled') "
        "FROM stored_events WHERE topic = ANY(%s) AND notification_id > %s",
        (ORDER_TOPICS, after),
    ).fetchone()
    return row[0], row[1], row[2]


def lowest_view_position(conn: psycopg.Connection, views: list[str]) -> int:
    """The lowest tracking position among the views (each ``rm_<name>.tracking``)."""
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT position FROM {}.tracking").format(sql.Identifier(live_schema(v)))
        for v in views
    )
    query = sql.SQL("SELECT coalesce(min(position), 0) FROM ({}) AS t").format(union)
    return conn.execute(query).fetchone()[0]


def wait_settled(url: str, api: Api, after: int, timeout_s: float = SETTLE_TIMEOUT_S) -> Settled:
    """Seconds until every order placed after position ``after`` is confirmed or cancelled and
    every view is at the head as read after that. Polled every 50 ms with two small queries
    (the views' own tracking rows, named by ``GET /projections``, which confirms at the end:
    asking it each time would load the server being measured with two queries per view)."""
    began = time.monotonic()
    listed = api.call("GET", "/projections")
    with connect(url, autocommit=True) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
        views = [v["name"] for v in listed if live_schema(v["name"]) in schemas]
        while True:
            placed, confirmed, cancelled = order_counts(conn, after)
            elapsed = time.monotonic() - began
            if confirmed + cancelled >= placed:
                now_head = head(conn)
                if lowest_view_position(conn, views) >= now_head:
                    rows = api.call("GET", "/projections")
                    behind = [v["name"] for v in rows if v["position"] < now_head or v["lag"]]
                    parked = sum(v.get("parked", 0) for v in rows)
                    if not behind and not parked:
                        return Settled(elapsed, placed, confirmed, cancelled, parked)
                    if parked:
                        return Settled(None, placed, confirmed, cancelled, parked, behind)
            if elapsed > timeout_s:
                rows = api.call("GET", "/projections")
                behind = [v["name"] for v in rows if v["lag"]]
                parked = sum(v.get("parked", 0) for v in rows)
                return Settled(None, placed, confirmed, cancelled, parked, behind)
            time.sleep(0.05)


def placed_to_confirmed_ms(url: str, ids: list[str]) -> list[float]:
    """From each order's own events: ``occurred_at`` of its OrderConfirmed minus that of its
    OrderPlaced (both stamped by whoever decided the event), sorted."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM event_occurred_at(c.state) - event_occurred_at(p.state)) "
            "FROM stored_events p JOIN stored_events c ON c.originator_id = p.originator_id "
            "WHERE p.topic = 'order.OrderPlaced' AND c.topic = 'order.OrderConfirmed' "
            "AND p.originator_id = ANY(%s::uuid[])",
            (ids,),
        ).fetchall()
    return sorted(float(r[0]) * 1000 for r in rows)


def wait_chained(url: str, timeout_s: float) -> float:
    """Seconds until the hash chain reaches the log's head as read now (the chainer follows
    every event, the history's too)."""
    began = time.monotonic()
    with connect(url, autocommit=True) as conn:
        target = head(conn)
        while True:
            chained = conn.execute("SELECT coalesce(max(position), 0) FROM event_chain")
            if chained.fetchone()[0] >= target:
                return time.monotonic() - began
            if time.monotonic() - began > timeout_s:
                raise Broken(f"the hash chain did not reach {target:,} in {timeout_s:.0f} s")
            time.sleep(1.0)


def backends_of(server_url: str, url: str) -> set[int]:
    """The server processes serving the database of ``url`` (asked from another database,
    so the asking connection is not among them)."""
    dbname = conninfo_to_dict(url)["dbname"]
    with connect(server_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (dbname,)
        ).fetchall()
    return {r[0] for r in rows}


def one_confirmed_order(url: str, after: int) -> str:
    with connect(url) as conn:
        row = conn.execute(
            "SELECT originator_id FROM stored_events WHERE topic = 'order.OrderConfirmed' "
            "AND notification_id > %s ORDER BY notification_id LIMIT 1",
            (after,),
        ).fetchone()
    if row is None:
        raise Broken("no order was confirmed")
    return str(row[0])


# ---- the two servers -----------------------------------------------------------------------


def baseline_server(url: str, port: int, workers: int):
    command = ["-m", "uvicorn", "bench.baseline_app:create_app", "--factory"]
    command += ["--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    return served(command, {DATABASE_URL_ENV: url}, port)


def our_server(url: str, port: int, workers: int, data_dir: str):
    """``ecom serve`` (the command ``make run`` runs) with the rate limits off; its local mail
    in ``data_dir``; the benchmark's token secret."""
    env = {
        **SERVER_ENV,
        "ECOM_DATABASE_URL": url,
        "ECOM_RATE_PER_PRINCIPAL": "0",
        "ECOM_RATE_PER_CLIENT": "0",
        "ECOM_WORKERS": str(workers),
        "ECOM_DATA_DIR": data_dir,
    }
    command = ["-m", "composition.cli", "serve", "--port", str(port), "--log-level", "warning"]
    return served(command, env, port, timeout_s=180)


# ---- the run -------------------------------------------------------------------------------


def measure_baseline(url: str, args: Any) -> dict[str, Load]:
    port = free_port()
    with baseline_server(url, port, args.workers):
        post = post_orders(port, "", SKU, "", args.seconds, args.connections, args.load)
        print(f"baseline POST /orders: {post}", flush=True)
        with connect(url) as conn:
            order_id = conn.execute("SELECT id FROM orders LIMIT 1").fetchone()[0]
        get = get_path(port, f"/orders/{order_id}", "", args.seconds, args.connections, args.load)
        print(f"baseline GET /orders/{{id}}: {get}", flush=True)
    return {"post": post, "get": get}


def check_nothing_lost(url: str, what: str, acked: int, after: int, settled: Settled) -> None:
    """Every acknowledged order is in the store (cut-off requests may add a few unanswered
    ones: wrk closes its connections at the end) and in the orders view."""
    with connect(url) as conn:
        placed = order_counts(conn, after)[0]
        in_view = conn.execute(
            "SELECT count(*) FROM rm_order_summaries.order_summaries o JOIN stored_events e "
            "ON e.originator_id = o.id AND e.topic = 'order.OrderPlaced' "
            "WHERE e.notification_id > %s",
            (after,),
        ).fetchone()[0]
    print(
        f"{what}: {acked:,} acknowledged, {placed:,} placed, {in_view:,} in the orders view, "
        f"{settled.confirmed:,} confirmed, {settled.cancelled:,} cancelled",
        flush=True,
    )
    if placed < acked or (settled.seconds is not None and in_view != placed):
        raise Broken(f"orders lost in {what}: {acked} acknowledged, {placed} placed, {in_view}")
    if settled.parked:
        raise Broken(f"{settled.parked} events parked by the views after {what}")


def measure_ours(url: str, server_url: str, args: Any) -> dict[str, Any]:
    port, token = free_port(), bench_token()
    api = Api(port, token)
    out: dict[str, Any] = {}
    if args.history:
        filled = fill(url, args.history)
        print(f"history: {args.history:,} events COPYed in {filled:.0f} s", flush=True)
        with connect(url, autocommit=True) as conn:
            # what a server's autovacuum does after a bulk load (this one may run without it)
            conn.execute("VACUUM ANALYZE stored_events")
    with tempfile.TemporaryDirectory(prefix="ecom-ratios-") as data_dir:
        with our_server(url, port, args.workers, data_dir) as server:
            if args.history:
                out["history_catch_up_s"] = wait_chained(url, HISTORY_TIMEOUT_S)
                print(f"chained the history in {out['history_catch_up_s']:.0f} s", flush=True)
            set_up_shop(api)
            with connect(url) as conn:
                start = head(conn)
            wait_settled(url, api, start, HISTORY_TIMEOUT_S if args.history else SETTLE_TIMEOUT_S)

            post = post_orders(
                port, "/api/v1", SKU, token, args.seconds, args.connections, args.load
            )
            keep = wait_settled(url, api, start)
            print(f"ours POST /orders: {post}; settled: {keep}", flush=True)
            check_nothing_lost(url, "the POST load", post.ok, start, keep)
            out.update(post=post, keep_up=keep)

            order_path = f"/api/v1/orders/{one_confirmed_order(url, start)}"
            out["get"] = get_path(
                port, order_path, token, args.seconds, args.connections, args.load
            )
            print(f"ours GET /orders/{{id}}: {out['get']}", flush=True)

            rate = max(1.0, post.rps / 2)
            with connect(url) as conn:
                before = head(conn)
            paced = place_paced(port, token, SKU, rate, args.paced_seconds, args.connections)
            settled = wait_settled(url, api, before)
            check_nothing_lost(url, "the paced load", len(paced["ids"]), before, settled)
            latencies = placed_to_confirmed_ms(url, paced["ids"])
            out["paced"] = {**paced, "latencies": latencies, "ids": len(paced["ids"])}
            print(
                f"paced at {rate:.0f}/s: achieved {paced['achieved']:.0f}/s, "
                f"{paced['statuses']}, {len(latencies)} confirmed, "
                f"p50 {percentile(latencies, 0.5):.1f} ms, "
                f"p99 {percentile(latencies, 0.99):.1f} ms",
                flush=True,
            )

            time.sleep(IDLE_LEAD_IN_S)
            postmaster = postgres_server_pid(server_url)
            groups = {"ours": lambda: descendants_and_self(server.pid)}
            if postmaster is not None:
                groups["postgres"] = lambda: descendants_and_self(postmaster)
                groups["postgres_ours"] = lambda: backends_of(server_url, url)
            out["idle"] = cpu_percent(groups, args.idle_seconds)
            out["idle_processes"] = len(descendants_and_self(server.pid))
            print(f"idle CPU over {args.idle_seconds:.0f} s: {out['idle']}", flush=True)

            with connect(url) as conn:
                before = head(conn)
            rounds = []
            for _ in range(args.rounds):
                rounds.append(
                    post_orders(
                        port, "/api/v1", SKU, token, args.round_seconds, args.connections, args.load
                    )
                )
                print(f"hot SKU round {len(rounds)}: {rounds[-1]}", flush=True)
            settled = wait_settled(url, api, before)
            acked = sum(r.ok for r in rounds)
            check_nothing_lost(url, "the hot-SKU rounds", acked, before, settled)
            out.update(rounds=rounds, rounds_settled=settled)
            out["peak_rss_mb"] = peak_rss_mb(server.pid)
            print(f"peak RSS, MB: {out['peak_rss_mb']}", flush=True)
    return out


def peak_rss_mb(root: int) -> dict[str, float]:
    """The peak RSS (``VmHWM``) over the run of ``ecom serve``'s processes, in MB: the
    supervising process (the views and the chainer: the background), its child running the
    process managers and the largest of the others (the API's HTTP workers)."""
    roles = serve_roles(root)
    return {
        role: max((memory(pid).get("VmHWM", 0) for pid in roles[role]), default=0) / 1024
        for role in ("background", "managers", "api")
    }


# ---- the report ----------------------------------------------------------------------------


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def table(base: dict[str, Load], ours: dict[str, Any], args: Any) -> tuple[str, list[str]]:
    """The Markdown table, and the figure names (its first column)."""
    rows: list[tuple[str, str, str, str, str, bool | None]] = []
    bp, op = base["post"], ours["post"]
    post_ratio = op.rps / bp.rps if bp.rps else float("nan")
    rows.append(
        (
            "POST /orders req/s",
            f"{op.rps:,.0f}",
            f"{bp.rps:,.0f}",
            f"{post_ratio:.2f}",
            "ratio ≥ 0.5",
            post_ratio >= 0.5,
        )
    )
    rows.append(
        (
            "POST /orders p99 ms",
            f"{op.p99_ms:.1f}",
            f"{bp.p99_ms:.1f}",
            f"{op.p99_ms / bp.p99_ms:.2f}" if bp.p99_ms else "—",
            "≤ 50 ms",
            op.p99_ms <= 50,
        )
    )
    keep: Settled = ours["keep_up"]
    rows.append(
        (
            f"keeping up: all {keep.placed:,} confirmed, views at head, s after the load",
            f"{keep.seconds:.2f}" if keep.seconds is not None else f"> {SETTLE_TIMEOUT_S:.0f}",
            "—",
            "—",
            "≤ 5 s",
            keep.seconds is not None and keep.seconds <= 5,
        )
    )
    bg, og = base["get"], ours["get"]
    get_ratio = og.rps / bg.rps if bg.rps else float("nan")
    rows.append(
        (
            "GET /orders/{id} req/s",
            f"{og.rps:,.0f}",
            f"{bg.rps:,.0f}",
            f"{get_ratio:.2f}",
            "ratio ≥ 1.0",
            get_ratio >= 1.0,
        )
    )
    rows.append(
        (
            "GET /orders/{id} p99 ms",
            f"{og.p99_ms:.1f}",
            f"{bg.p99_ms:.1f}",
            f"{og.p99_ms / bg.p99_ms:.2f}" if bg.p99_ms else "—",
            "≤ 20 ms",
            og.p99_ms <= 20,
        )
    )
    paced = ours["paced"]
    lat = paced["latencies"]
    at = f"at {paced['offered']:.0f}/s (half the POST rate)"
    rows.append(
        (f"placed → confirmed p50 ms {at}", f"{percentile(lat, 0.5):.1f}", "—", "—", "—", None)
    )
    p99 = percentile(lat, 0.99)
    rows.append((f"placed → confirmed p99 ms {at}", f"{p99:.1f}", "—", "—", "≤ 100 ms", p99 <= 100))
    idle = ours["idle"]
    rows.append(
        (
            f"idle CPU, `ecom serve` ({ours['idle_processes']} processes), % of one core",
            f"{idle['ours']:.2f}",
            "—",
            "—",
            "< 2 %",
            idle["ours"] < 2,
        )
    )
    if "postgres" in idle:
        rows.append(
            (
                "idle CPU, PostgreSQL (all its processes, every database's), % of one core",
                f"{idle['postgres']:.2f}",
                "—",
                "—",
                "< 2 %",
                idle["postgres"] < 2,
            )
        )
        rows.append(
            (
                "idle CPU, PostgreSQL backends of our database (part of the above), % of one core",
                f"{idle['postgres_ours']:.2f}",
                "—",
                "—",
                "—",
                None,
            )
        )
    rss = ours["peak_rss_mb"]
    rows.append(
        (
            "peak RSS over the run, API process, MB",
            f"{rss['api']:.0f}",
            "—",
            "—",
            "< 300 MB",
            rss["api"] < 300,
        )
    )
    rows.append(
        (
            "peak RSS over the run, background process, MB",
            f"{rss['background']:.0f}",
            "—",
            "—",
            "—",
            None,
        )
    )
    rows.append(
        (
            "peak RSS over the run, process managers' process, MB",
            f"{rss.get('managers', 0):.0f}",
            "—",
            "—",
            "—",
            None,
        )
    )
    rounds: list[Load] = ours["rounds"]
    first = rounds[0].rps if rounds else 0.0
    for i, r in enumerate(rounds, 1):
        ratio = r.rps / first if first else float("nan")
        rows.append(
            (
                f"hot SKU, round {i} of {len(rounds)} ({args.round_seconds:.0f} s) req/s",
                f"{r.rps:,.0f}",
                "—",
                f"{ratio:.2f} of round 1",
                "within 10 %",
                abs(ratio - 1) <= 0.10,
            )
        )
    lines = [
        "| figure | ours | baseline | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} | {e} | {_met(f)} |" for a, b, c, d, e, f in rows),
    ]
    return "\n".join(lines), [r[0] for r in rows]


def notes(base: dict[str, Load], ours: dict[str, Any], args: Any) -> str:
    op, paced = ours["post"], ours["paced"]
    tool = "wrk -t1" if use_wrk(args.load) else "the Python load generator"
    return "\n".join(
        [
            f"Load: {tool}, {args.connections} keep-alive connections, {args.seconds:.0f} s per "
            f"figure; {args.workers} HTTP worker process(es) each; one SKU throughout.",
            *(
                [
                    f"History: {args.history:,} events in our store before it started (a type "
                    f"every follower ignores; chained in {ours['history_catch_up_s']:.0f} s); the "
                    "baseline's table empty."
                ]
                if args.history
                else []
            ),
            f"Answers: ours POST {op.non2xx} non-2xx, {op.errors} socket errors; baseline POST "
            f"{base['post'].non2xx} non-2xx; GET {ours['get'].non2xx} / {base['get'].non2xx} "
            "non-2xx.",
            f"Paced: {paced['sent']:,} orders offered at {paced['offered']:.0f}/s for "
            f"{args.paced_seconds:.0f} s (achieved {paced['achieved']:.0f}/s), "
            f"{len(paced['latencies']):,} confirmed; latency from the events' occurred_at.",
            f"Idle: {args.idle_seconds:.0f} s with no traffic, from {IDLE_LEAD_IN_S:.0f} s after "
            "every order was confirmed and the views caught up; "
            "PostgreSQL counts every process of the server, so other databases' backends "
            "count too.",
            "Nothing lost: every acknowledged order is in the store and in the orders view.",
        ]
    )


def run(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=15.0, help="seconds of load per figure")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--workers", type=int, default=1, help="HTTP worker processes, both servers")
    p.add_argument("--paced-seconds", type=float, default=15.0, help="the paced load's length")
    p.add_argument("--idle-seconds", type=float, default=20.0)
    p.add_argument("--rounds", type=int, default=10, help="hot-SKU POST rounds")
    p.add_argument("--round-seconds", type=float, default=20.0)
    p.add_argument("--load", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--history", type=int, default=0, help="events in our store before it starts")
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as base_url:
        where = machine(base_url)
        print(f"machine: {where}", flush=True)
        base = measure_baseline(base_url, args)
    with fresh_database(args.url, args.keep) as our_url:
        ours = measure_ours(our_url, args.url, args)
    text, figures = table(base, ours, args)
    print(f"\n{text}\n\n{notes(base, ours, args)}\nmachine: {where}", flush=True)
    return {"baseline": base, "ours": ours, "table": text, "figures": figures, "machine": where}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        run(argv)
    except Broken as exc:
        print(f"BROKEN: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
