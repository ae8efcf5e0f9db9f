"""Statements per order, by process and thread: what each follower of the log sends the
database for an order, at a steady offered rate. ``ecom serve`` (as ``make run`` starts it,
rate limits off) runs on a fresh database with ``bench/statement_probe`` on its
``PYTHONPATH``, which counts every statement its processes send through psycopg, by thread;
orders are placed at ``--rate`` for ``--seconds`` (``bench/paced_orders.py``), and the counts
from the first order until every order is confirmed and every view is at the head are divided
by the orders placed. Prints the statements an order of each thread (the API's request
threads, the views' loop, each process manager's, the chainer) and the most frequent
statements.

Counts, not times: they are the same on a fast machine and a slow one, and a follower's pass
shows as the statements it costs whatever it carries.

    .venv/bin/python -m bench.statement_counts [--url URL] [--rate 40] [--seconds 10] [--top 30]
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import bench_token, free_port, fresh_database, machine, parser
from bench.paced_orders import place_paced
from bench.process_cpu import serve_roles
from bench.ratios import SKU, Api, connect, head, our_server, set_up_shop, wait_settled

PROBE = Path(__file__).resolve().parent / "statement_probe"


def _counts(folder: str) -> Counter:
    """(pid, "thread | statement") -> statements so far, of every probed process."""
    out: Counter = Counter()
    for path in glob.glob(os.path.join(folder, "counts.*.json")):
        pid = os.path.basename(path).split(".")[1]
        with open(path) as f:
            for key, n in json.load(f).items():
                out[(pid, key)] += n
    return out


def measure(url: str, rate: float, seconds: float) -> tuple[int, Counter, dict[str, str]]:
    """Orders placed, the statements counted over them, and the role of each process of ours
    by pid (``bench.process_cpu.serve_roles``: background, managers, api)."""
    folder = tempfile.mkdtemp(prefix="ecom-statements-")
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "ECOM_STATEMENT_PROBE_DIR")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROBE), saved["PYTHONPATH"]]))
    os.environ["ECOM_STATEMENT_PROBE_DIR"] = folder
    port, token = free_port(), bench_token()
    api = Api(port, token)
    connections = max(1, min(32, int(rate // 10)))  # (a keep-alive idle 5 s is closed)
    try:
        with tempfile.TemporaryDirectory(prefix="ecom-statements-") as data_dir:
            with our_server(url, port, 1, data_dir) as server:
                set_up_shop(api)
                with connect(url) as conn:
                    start = head(conn)
                wait_settled(url, api, start)
                place_paced(port, token, SKU, max(rate, 5.0), 2.0, connections=1)  # warm-up
                wait_settled(url, api, start)
                time.sleep(1.5)  # the counts written out
                with connect(url) as conn:
                    before = head(conn)
                first = _counts(folder)
                paced = place_paced(port, token, SKU, rate, seconds, connections=connections)
                wait_settled(url, api, before)
                time.sleep(1.5)
                counted = _counts(folder) - first
                roles = {
                    str(pid): role for role, pids in serve_roles(server.pid).items() for pid in pids
                }
                return len(paced["ids"]), counted, roles
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def report(orders: int, counted: Counter, roles: dict[str, str], top: int) -> str:
    def process(pid: str) -> str:
        return roles.get(pid, "api")  # a process gone by the end: a worker replaced

    threads: Counter = Counter()
    for (pid, key), n in counted.items():
        threads[(process(pid), key.split(" | ", 1)[0])] += n
    lines = [f"{orders:,} orders; statements an order, by process and thread:", ""]
    lines += ["| process | thread | statements an order |", "|---|---|---|"]
    for (proc, thread), n in threads.most_common():
        if n / orders >= 0.01:
            lines.append(f"| {proc} | {thread} | {n / orders:.2f} |")
    total = sum(counted.values()) / orders
    lines += [f"| **all** | | **{total:.1f}** |", "", f"the {top} most frequent statements:", ""]
    for (pid, key), n in counted.most_common(top):
        lines.append(f"{n / orders:7.2f}  {process(pid):10}  {key}")
    return "\n".join(lines)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--rate", type=float, default=40.0, help="orders offered per second")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--top", type=int, default=30, help="statements listed")
    args = p.parse_args()
    print(machine(args.url), flush=True)
    with fresh_database(args.url, keep=args.keep) as url:
        orders, counted, roles = measure(url, args.rate, args.seconds)
    print(f"at {args.rate:g} orders/s for {args.seconds:g} s: ", end="")
    print(report(orders, counted, roles, args.top))


if __name__ == "__main__":
    main()
