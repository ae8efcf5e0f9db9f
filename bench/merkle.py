"""Benchmark: the stored Merkle tree (``audit/tree_store.py``): proofs at a million leaves, and
what growing the tree costs the chainer.

1. Tree extension: N synthetic events (one ``INSERT ... SELECT``) chained by the chainer without
   the tree (the baseline), with the tree (chain and tree in one transaction per batch), and the
   tree backfilled alone over an existing chain; alternated twice, best of the two. Then the
   check ``GET /audit/verify`` adds (every leaf and node recomputed from the events) beside the
   chain walk.
2. Proofs: a tree of ``--leaves`` random leaf hashes, its nodes computed in memory and COPYed
   in (what the chainer would have written), then per request as the endpoints do: the signed
   head at the current size, the root at a random earlier size, an inclusion proof and a
   consistency proof for random positions and sizes; beside the cheapest read there is (one
   stored node by its primary key).

    .venv/bin/python -m bench.merkle [--leaves 1000000] [--events 100000]
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import psycopg

from audit.chainer import EventChainer
from audit.tree_store import grow
from audit.verify import verify
from bench.audit import fill
from bench.common import container_on, fresh_database, machine, parser


def _extension(c, url: str, events: int) -> dict:  # noqa: ANN001
    fill(url, events)
    mac_key, tree = c.chainer.mac_key, c.tree
    best: dict[str, float] = {}

    def reset() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE event_chain, merkle_nodes")

    def timed(name: str, chainer: EventChainer) -> None:
        t = time.perf_counter()
        assert chainer.catch_up() == events
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - t)

    for _ in range(2):
        reset()
        timed("chain_s", EventChainer(c.pool, mac_key=mac_key))
        timed("backfill_s", EventChainer(c.pool, mac_key=mac_key, tree=tree))
        reset()
        timed("chain_tree_s", EventChainer(c.pool, mac_key=mac_key, tree=tree))
    assert tree.size() == events
    t = time.perf_counter()
    assert verify(c.pool, mac_key=mac_key).events_checked == events
    best["walk_s"] = time.perf_counter() - t
    t = time.perf_counter()
    assert tree.first_mismatch(events) is None
    best["check_s"] = time.perf_counter() - t
    reset()
    return best


def _fill_tree(url: str, leaves: int) -> float:
    t = time.perf_counter()
    hashes = [os.urandom(32) for _ in range(leaves)]
    rows = grow(0, hashes, {})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE merkle_nodes SET UNLOGGED")  # a benchmark's own database
        with conn.cursor(binary=True) as cur:
            with cur.copy(
                "COPY merkle_nodes (level, index, hash) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int2", "int8", "bytea"])
                for row in rows:
                    copy.write_row(row)
        conn.execute("ANALYZE merkle_nodes")
    return time.perf_counter() - t


def _ms(call: Callable[[], object], repeat: int) -> dict:
    call()  # warm the plan and the pool
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p99": times[min(len(times) - 1, int(0.99 * repeat))]}


def _proofs(c, leaves: int, repeat: int) -> dict:  # noqa: ANN001
    tree, rng = c.tree, random.Random(1)

    def node() -> None:
        with c.pool.connection() as conn:
            conn.execute(
                "SELECT hash FROM merkle_nodes WHERE level = 0 AND index = %s",
                (rng.randrange(leaves),),
            ).fetchone()

    return {
        "baseline": _ms(node, repeat),
        "digest": _ms(lambda: tree.signed_head(), repeat),
        "root": _ms(lambda: tree.root(rng.randint(1, leaves)), repeat),
        "inclusion": _ms(lambda: tree.inclusion(rng.randint(1, leaves), leaves), repeat),
        "consistency": _ms(lambda: tree.consistency(rng.randint(1, leaves), leaves), repeat),
    }


def main(argv: Sequence[str] | None = None) -> dict:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--leaves", type=int, default=1_000_000, help="leaves of the proof tree")
    p.add_argument("--events", type=int, default=100_000, help="events chained per run")
    p.add_argument("--repeat", type=int, default=300, help="requests timed per proof kind")
    args = p.parse_args(argv)
    with fresh_database(args.url, args.keep) as url, container_on(url) as c:
        where = machine(url)
        ext = _extension(c, url, args.events)
        fill_s = _fill_tree(url, args.leaves)
        proofs = _proofs(c, args.leaves, args.repeat)
    return {"machine": where, "events": args.events, "leaves": args.leaves, "fill_s": fill_s,
            **ext, **proofs}  # fmt: skip


def report(r: dict) -> None:
    n = r["events"]
    print(f"### Merkle tree: extension ({n:,} events) and proofs ({r['leaves']:,} leaves)\n")
    print(f"Machine: {r['machine']}\n")
    print("| figure | ours | baseline (same run) |\n|---|---|---|")
    print(
        f"| chainer catch-up, chain + tree in one transaction | {n / r['chain_tree_s']:,.0f} "
        f"events/s | chain only: {n / r['chain_s']:,.0f} events/s |"
    )
    print(
        f"| tree backfill over an existing chain | {n / r['backfill_s']:,.0f} events/s | "
        f"chain only: {n / r['chain_s']:,.0f} events/s |"
    )
    print(
        f"| tree check against the events (every leaf and node recomputed) | "
        f"{n / r['check_s']:,.0f} events/s | chain walk (`verify`): {n / r['walk_s']:,.0f} "
        "events/s |"
    )
    base = r["baseline"]
    for key, what in (
        ("digest", "signed head at the current size (root + Ed25519)"),
        ("root", "root at a random earlier size"),
        ("inclusion", "inclusion proof, random position"),
        ("consistency", "consistency proof, random earlier size"),
    ):
        f = r[key]
        print(
            f"| {what}, {r['leaves']:,} leaves | p50 {f['p50']:.2f} ms, p99 {f['p99']:.2f} ms "
            f"| one node by primary key: p50 {base['p50']:.2f} ms, p99 {base['p99']:.2f} ms |"
        )
    print(f"\n(building the {r['leaves']:,}-leaf tree in memory + COPY: {r['fill_s']:.1f} s)")


if __name__ == "__main__":
    report(main())
    sys.exit(0)
