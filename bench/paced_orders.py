"""Orders placed at a steady offered rate (open loop) over HTTP, for the placed → confirmed
latency in ``bench/ratios.py``: the i-th order is sent at ``start + i / rate`` on the first of
``connections`` keep-alive connections that is free (late only when all are busy). Returns the
ids of the orders acknowledged (201) and what the load achieved; the latency itself is read
afterwards from the events' own times."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson

from bench.wrk_load import order_body


def place_paced(
    port: int,
    token: str,
    sku: str,
    rate: float,
    seconds: float,
    connections: int = 32,
    prefix: str = "/api/v1",
) -> dict:
    return asyncio.run(_paced(port, token, sku, rate, seconds, connections, prefix))


async def _paced(
    port: int, token: str, sku: str, rate: float, seconds: float, connections: int, prefix: str
) -> dict:
    count = max(1, int(rate * seconds))
    head = (
        b"POST " + prefix.encode() + b"/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
    )
    statuses: dict[int, int] = {}
    ids: list[str] = []
    late: list[float] = []
    next_index = iter(range(count))
    start = time.perf_counter() + 0.05

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in next_index:
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    late.append(-delay)
                body = orjson.dumps(order_body(sku, str(uuid.uuid4())))
                writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
                response_head = await reader.readuntil(b"\r\n\r\n")
                status = int(response_head[9:12])
                lower = response_head.lower()
                at = lower.find(b"content-length:")
                length = int(lower[at + 15 : lower.find(b"\r\n", at)])
                content = await reader.readexactly(length)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    ids.append(orjson.loads(content)["id"])
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return {
        "offered": rate,
        "sent": count,
        "achieved": count / elapsed,
        "statuses": statuses,
        "ids": ids,
        "late_over_10ms": sum(1 for s in late if s > 0.010),
    }
