"""The console's time to first render in a headless Chromium (the system's, as the browser
tests use it), with ``--orders`` orders in the store (default 10,000) and one order whose
timeline holds ``--timeline`` events (default 200: placed, then notes and tags).

For each page, ``--runs`` fresh navigations (after one warm-up), read from the browser's own
clocks: ``html`` = the shell's response end (navigation timing), ``fcp`` = first contentful
paint, ``data`` = the page's ``ecom:loaded`` mark (its data fetched with the token and drawn:
the list's first page of 50; the order with its whole timeline and the state replayed at its
last event). All milliseconds since the navigation started; median and p95 printed.

    python -m bench.console --orders 10000 --timeline 200 --runs 10
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from decimal import Decimal

import httpx

from bench.common import (
    api_server,
    bench_token,
    container_on,
    free_port,
    fresh_database,
    machine,
    parser,
    percentile,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADDRESS = {"name": "N", "line1": "L", "city": "C", "postal_code": "P", "country": "US"}


def seed(url: str, orders: int, timeline: int) -> str:
    """``orders`` orders placed through the command layer, the last with ``timeline`` events;
    returns its id."""
    from commands.context import CommandContext
    from domain.money import Money
    from domain.order.commands import AddNote, AddTag, PlaceOrder, RequestedLine
    from domain.order.values import Address, PaymentRef
    from domain.product.commands import ChangeLifecycle, CreateProduct

    with container_on(url) as c:
        ctx, send = CommandContext.new("bench"), c.dispatcher.handle
        sku = "CONSOLE-1"
        pid = send(
            CreateProduct(sku=sku, name=sku, price=Money.of(Decimal("10.00"), "USD")), ctx
        ).stream_id
        send(ChangeLifecycle(product_id=pid, status="pending_approval"), ctx)
        send(ChangeLifecycle(product_id=pid, status="active"), ctx)
        place = PlaceOrder(
            customer_id=uuid.uuid4(),
            currency="USD",
            lines=[RequestedLine(sku=sku, quantity=1)],
            shipping_address=Address(**ADDRESS),
            payment=PaymentRef(token="tok"),
        )
        last = None
        for _ in range(orders):
            last = send(place.model_copy(update={"customer_id": uuid.uuid4()}), ctx).stream_id
        for i in range(timeline - 1):
            if i % 2:
                send(AddTag(order_id=last, tag=f"t{i}"), ctx)
            else:
                send(AddNote(order_id=last, text=f"note {i}"), ctx)
        return str(last)


def caught_up(base: str, timeout_s: float = 600) -> None:
    headers = {"Authorization": f"Bearer {bench_token()}"}
    deadline = time.monotonic() + timeout_s
    while True:
        rows = httpx.get(f"{base}/api/v1/projections", headers=headers, timeout=30).json()
        if all(r["lag"] == 0 for r in rows):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"read models still lag: {rows}")
        time.sleep(0.5)


TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const data = performance.getEntriesByName('ecom:loaded')[0];
  return {html: nav.responseEnd, fcp: fcp ? fcp.startTime : null, data: data.startTime};
}"""


def measure(page, url: str, loaded: str, runs: int) -> dict[str, list[float]]:  # noqa: ANN001
    out: dict[str, list[float]] = {"html": [], "fcp": [], "data": []}
    for i in range(runs + 1):
        page.goto(url)
        page.wait_for_selector(f"body[data-loaded='{loaded}']", state="attached", timeout=60_000)
        t = page.evaluate(TIMINGS)
        if i:  # the first is a warm-up
            for k in out:
                out[k].append(t[k])
    return out


def summary(name: str, t: dict[str, list[float]]) -> str:
    parts = []
    for k, values in t.items():
        s = sorted(v for v in values if v is not None)
        parts.append(f"{k} {statistics.median(s):7.0f} / {percentile(s, 0.95):7.0f}")
    return f"{name:<32} " + "   ".join(parts) + "   (ms, median / p95)"


def main(argv: Sequence[str] | None = None) -> dict:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=10_000)
    p.add_argument("--timeline", type=int, default=200)
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with fresh_database(args.url, keep=args.keep) as db:
        print(machine(db), flush=True)
        started = time.perf_counter()
        order_id = seed(db, args.orders, args.timeline)
        print(f"seeded {args.orders} orders in {time.perf_counter() - started:.0f} s", flush=True)
        port = free_port()
        with api_server(db, port):
            base = f"http://127.0.0.1:{port}"
            caught_up(base)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(base + "/console")
                page.evaluate(f"sessionStorage.setItem('ecom.console.token', '{bench_token()}')")
                results = {
                    f"order list (50 of {args.orders:,})": measure(
                        page, base + "/console/orders", "orders", args.runs
                    ),
                    f"order, {args.timeline}-event timeline": measure(
                        page, f"{base}/console/orders/{order_id}", "order", args.runs
                    ),
                }
                rows = page.locator("#timeline tbody tr").count()
                browser.close()
    assert rows == args.timeline, rows
    print(f"{args.orders} orders; the order's timeline: {rows} events", flush=True)
    for name, t in results.items():
        print(summary(name, t), flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
