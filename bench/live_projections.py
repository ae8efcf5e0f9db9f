"""Live projection cost under a steady write load: the runner's CPU time per event and its
statements (round trips) per pass, for the per-view pass (``run_each``: each of the views in
its own transaction, the loop before the one-transaction pass) against the one-transaction
pass (``run_pass``), on the program's real read models, in the same run.

Orders are placed through the command layer and the placement saga handles them, so the
events are the real ones of a live order (placed, reserved, authorized, confirmed, plans).

1. **small batches**: place an order, run the saga, then one runner pass (about 6 events a
   pass, what a live load looks like); the two kinds of pass alternate round by round, and
   only the pass itself is measured (this thread's CPU time and the statements it sent).
2. **steady rate**: another process places ``--rate`` orders per second (its saga in a
   thread) while the runner's own loop runs here, woken by LISTEN/NOTIFY as in the API
   process, and a reader waits for its writes ten times a second (``wait_for``); reported:
   the runner thread's CPU time per event applied, statements per pass and the reader's
   waits, for the per-view loop and for the one-transaction loop at each ``--periods``
   (``gather_s``: the least time between the starts of two passes under load).

    python -m bench.live_projections --rounds 100 --rate 20 --seconds 10 --periods 0,20,50
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from bench.common import container_on, fresh_database, machine, parser, percentile
from bench.saga import _place, _setup
from projections.runner import ProjectionRunner

# ---- counting the statements a thread sends -----------------------------------------------


class Statements:
    """Counts the statements (each a round trip) sent by one thread: cursor executes, each
    ``executemany`` once (psycopg pipelines it), and the BEGIN/COMMIT of transactions."""

    def __init__(self) -> None:
        self.count = 0
        self.thread: int | None = None

    def _hit(self) -> None:
        if threading.get_ident() == self.thread:
            self.count += 1

    @contextmanager
    def installed(self) -> Iterator[Statements]:
        counter = self
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany
        command = psycopg.Connection._exec_command

        def counted_execute(self, *args: Any, **kwargs: Any) -> Any:
            counter._hit()
            return execute(self, *args, **kwargs)

        def counted_executemany(self, *args: Any, **kwargs: Any) -> Any:
            counter._hit()
            return executemany(self, *args, **kwargs)

        def counted_command(self, *args: Any, **kwargs: Any) -> Any:
            counter._hit()
            return (yield from command(self, *args, **kwargs))

        psycopg.Cursor.execute = counted_execute
        psycopg.Cursor.executemany = counted_executemany
        psycopg.Connection._exec_command = counted_command
        try:
            yield self
        finally:
            psycopg.Cursor.execute = execute
            psycopg.Cursor.executemany = executemany
            psycopg.Connection._exec_command = command


# ---- the passes compared ------------------------------------------------------------------


class PerViewRunner(ProjectionRunner):
    """The live loop as it was: each view by one batch in its own transaction."""

    def live_pass(self) -> int:
        return self.run_each()


def passes(runner: ProjectionRunner) -> dict[str, Callable[[], int]]:
    return {"per-view": runner.run_each, "one-transaction": runner.run_pass}


# ---- 1. small batches, one pass after each order ------------------------------------------


def one_order(container, sku: str) -> None:  # noqa: ANN001
    _place(container, sku)
    for name in container.processes.managers:
        container.processes.run_once(name)


def small_batches(container, skus: list[str], rounds: int, orders: int = 1) -> dict:  # noqa: ANN001
    runner = container.runner
    kinds = passes(runner)
    totals = {k: {"cpu_s": 0.0, "statements": 0, "events": 0, "passes": 0} for k in kinds}
    counter = Statements()
    counter.thread = threading.get_ident()
    runner.catch_up()
    with counter.installed():
        for i in range(rounds * len(kinds)):
            kind = list(kinds)[i % len(kinds)]
            head = container.store.head()
            for k in range(orders):
                one_order(container, skus[(i + k) % len(skus)])
            events = container.store.head() - head
            before_statements = counter.count
            started = time.thread_time()
            kinds[kind]()
            cpu = time.thread_time() - started
            t = totals[kind]
            t["cpu_s"] += cpu
            t["statements"] += counter.count - before_statements
            t["events"] += events
            t["passes"] += 1
            runner.catch_up()  # both kinds start the next round from the head
    return totals


# ---- 2. steady rate, the runner's own loop ------------------------------------------------


def write_orders(url: str, skus: list[str], rate: float, seconds: float, ready, go) -> None:  # noqa: ANN001
    """In a process of its own (as the API's other work is, for the runner): orders placed at
    ``rate`` per second for ``seconds``, the process managers running in a thread."""
    with container_on(url, pool_size=4) as container:
        container.processes.start(poll_s=0.005)
        ready.set()
        go.wait()
        start, i = time.perf_counter(), 0
        while (due := start + i / rate) < start + seconds:
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            _place(container, skus[i % len(skus)])
            i += 1
        container.processes.catch_up()


def steady(container, skus: list[str], runner: ProjectionRunner, rate: float, seconds: float):  # noqa: ANN001
    """Orders at ``rate`` per second for ``seconds`` (from another process) while
    ``runner``'s loop runs, and a reader that waits for its view to reach the head ten times a
    second (read-your-writes); returns the runner thread's CPU seconds, statements, passes,
    events applied and the reader's waits (ms, sorted)."""
    runner.catch_up()
    counter = Statements()
    calls = {"passes": 0}
    inner = runner.live_pass

    def counted_pass() -> int:
        calls["passes"] += 1
        return inner()

    runner.live_pass = counted_pass  # type: ignore[method-assign]
    stop = threading.Event()
    waits: list[float] = []

    def reader() -> None:
        while not stop.wait(0.1):
            position, started = container.store.head(), time.perf_counter()
            if runner.wait_for("order_summaries", position):
                waits.append((time.perf_counter() - started) * 1000)

    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Event(), ctx.Event()
    writer = ctx.Process(
        target=write_orders, args=(container.url, skus, rate, seconds, ready, go), daemon=True
    )
    writer.start()
    with counter.installed():
        runner.start(container.url)
        counter.thread = runner._thread.ident  # type: ignore[union-attr]
        clock = time.pthread_getcpuclockid(counter.thread)
        watcher = threading.Thread(target=reader, daemon=True)
        ready.wait(120)
        head0, cpu0, statements0, passes0 = (
            container.store.head(),
            time.clock_gettime(clock),
            counter.count,
            calls["passes"],
        )
        go.set()
        watcher.start()
        writer.join()
        stop.set()
        watcher.join()
        # let the loop apply what was written, then read its clock
        target = container.store.head()
        while min(runner.position(n) for n in runner.projections) < target:
            time.sleep(0.01)
        cpu = time.clock_gettime(clock) - cpu0
        statements, n_passes = counter.count - statements0, calls["passes"] - passes0
        runner.stop()
    return {
        "cpu_s": cpu,
        "statements": statements,
        "passes": n_passes,
        "events": target - head0,
        "waits_ms": sorted(waits),
    }


# ---- running it ---------------------------------------------------------------------------


def report(title: str, totals: dict[str, dict[str, float]]) -> None:
    print(title)
    for kind, t in totals.items():
        if not t["passes"]:
            continue
        per_event = t["cpu_s"] / max(1, t["events"]) * 1e6
        print(
            f"  {kind:20} {t['passes']:6,} passes, {t['events']:7,} events: "
            f"CPU {t['cpu_s'] / max(1, t['passes']) * 1e3:6.2f} ms/pass, "
            f"{per_event:6.0f} µs/event; {t['statements'] / max(1, t['passes']):6.1f} "
            "statements/pass"
            + (
                f"; read-your-writes wait p50 {percentile(t['waits_ms'], 0.5):.1f} ms, "
                f"p99 {percentile(t['waits_ms'], 0.99):.1f} ms"
                if "waits_ms" in t
                else ""
            )
        )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=300, help="small-batch rounds per kind of pass")
    p.add_argument("--orders", type=int, default=1, help="orders placed before each pass")
    p.add_argument("--rate", type=float, default=20.0, help="orders per second, steady part")
    p.add_argument("--seconds", type=float, default=10.0, help="steady part, per kind of pass")
    p.add_argument(
        "--periods",
        default="0,20,50",
        help="gather periods (ms) of the one-transaction loop to compare, comma list",
    )
    args = p.parse_args(argv)
    out: dict[str, Any] = {}
    with fresh_database(args.url, args.keep) as url, container_on(url) as container:
        print(machine(url))
        skus = _setup(container)
        runner = container.runner
        print(f"{len(runner.projections)} read models: {', '.join(runner.projections)}")
        out["small"] = small_batches(container, skus, args.rounds, args.orders)
        report(f"small batches ({args.orders} order(s), then one pass):", out["small"])
        out["steady"] = {}
        views = list(runner.projections.values())
        variants = [("per-view", PerViewRunner, 0.0)] + [
            (f"one-tx, {ms:g} ms period", ProjectionRunner, ms / 1000)
            for ms in map(float, args.periods.split(","))
        ]
        for kind, cls, gather_s in variants:
            live = cls(container.pool, container.store.mapper, views, gather_s=gather_s)
            out["steady"][kind] = steady(container, skus, live, args.rate, args.seconds)
        report(f"steady rate ({args.rate:g} orders/s, the runner's loop):", out["steady"])
    return out


if __name__ == "__main__":
    main()
