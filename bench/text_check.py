"""The cost of the edge's text check (``api.text_hygiene``) per request: a typical
``POST /orders`` body (and its URL) checked the way the gateway checks it, against the same
request not checked, and against the alternative of parsing every body and looking at each
string. No database: the check is CPU only.

    python -m bench.text_check [--repeat 200000]"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import uuid4

from api import text_hygiene

ORDER = {
    "customer_id": str(uuid4()),
    "currency": "USD",
    "lines": [{"sku": "TEE-RED-M", "quantity": 2}, {"sku": "MUG-BLUE", "quantity": 1}],
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "1 Main St",
        "line2": "Apt 4",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    },
    "payment": {"method": "card", "token": "tok_visa"},
    "channel": "web",
    "priority": "standard",
    "gift": {"message": "Happy birthday!\nLove, Bea", "wrap": True},
}
PATH = "/api/v1/orders"


def _check(body: bytes, query: bytes) -> None:
    text_hygiene.check_query(query)
    text_hygiene.check_path(PATH, {})
    text_hygiene.check_body(body)


def _parse_and_walk(body: bytes, query: bytes) -> None:
    """The alternative: parse every body, look at every string."""
    text_hygiene.check_query(query)
    text_hygiene.check_path(PATH, {})
    text_hygiene._walk(json.loads(body), [], "")


def _nothing(body: bytes, query: bytes) -> None:
    return None


def per_call_ns(fn: Callable[[bytes, bytes], None], body: bytes, query: bytes, n: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter_ns()
        for _ in range(n):
            fn(body, query)
        best = min(best, (time.perf_counter_ns() - started) / n)
    return best


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200_000)
    args = parser.parse_args(argv)
    plain = json.dumps(ORDER, ensure_ascii=False).encode()
    escaped = json.dumps({**ORDER, "shipping_address": {**ORDER["shipping_address"],
                          "name": "Zoë Ørsted 😀"}}).encode()  # fmt: skip
    n = args.repeat
    rows = {
        "no check (baseline)": per_call_ns(_nothing, plain, b"", n),
        "check, typical body": per_call_ns(_check, plain, b"", n),
        "check, body with \\u escapes (é, emoji)": per_call_ns(_check, escaped, b"", n // 4),
        "check, typical body + query ?a=1&b=x%20y": per_call_ns(_check, plain, b"a=1&b=x%20y", n),
        "parse and walk every body instead": per_call_ns(_parse_and_walk, plain, b"", n // 4),
    }
    print(
        f"POST /orders body: {len(plain)} bytes ({len(escaped)} escaped); "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, nproc {os.cpu_count()}, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    for name, ns in rows.items():
        print(f"  {name:45s} {ns:8.0f} ns")
    return rows


if __name__ == "__main__":
    main()
