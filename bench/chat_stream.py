"""Live chat: how long a message takes from ``POST /chats/{id}/messages`` to an open
``GET /chats/{id}/stream`` (one stream, messages one after another), and how long one message
takes to reach every one of ``--streams`` streams open on the same chat. The real API
(``ecom serve``, process managers off) on a fresh database; clients in this process (httpx).

    python -m bench.chat_stream --messages 50 --streams 200
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

import httpx

from bench.common import (
    api_server,
    bench_token,
    free_port,
    fresh_database,
    machine,
    parser,
    percentile,
)


async def _chat(client: httpx.AsyncClient, customer: str) -> str:
    r = await client.post("/chats", json={"customer_id": customer})
    r.raise_for_status()
    return r.json()["id"]


async def _one_stream(base: str, messages: int) -> list[float]:
    customer = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {bench_token('customer', customer)}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        chat = await _chat(client, customer)
        sent: dict[str, float] = {}
        seen: list[float] = []
        opened = asyncio.Event()

        async def read() -> None:
            async with client.stream("GET", f"/chats/{chat}/stream") as r:
                opened.set()
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        seen.append(time.monotonic() - sent[json.loads(line[5:])["text"]])
                        if len(seen) == messages:
                            return

        reader = asyncio.create_task(read())
        await opened.wait()
        for i in range(messages):
            sent[f"m{i}"] = time.monotonic()
            (
                await client.post(f"/chats/{chat}/messages", json={"text": f"m{i}"})
            ).raise_for_status()
            await asyncio.sleep(0.05)
        await asyncio.wait_for(reader, 30)
        return sorted(seen)


async def _fan_out(base: str, streams: int) -> list[float]:
    customer = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {bench_token('customer', customer)}"}
    limits = httpx.Limits(max_connections=streams + 10)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as c:
        chat = await _chat(c, customer)
        opened, arrived = [0], []
        all_open = asyncio.Event()

        async def read() -> None:
            async with c.stream("GET", f"/chats/{chat}/stream") as r:
                opened[0] += 1
                if opened[0] == streams:
                    all_open.set()
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        arrived.append(time.monotonic())
                        return

        readers = [asyncio.create_task(read()) for _ in range(streams)]
        await asyncio.wait_for(all_open.wait(), 60)
        await asyncio.sleep(1)
        start = time.monotonic()
        (await c.post(f"/chats/{chat}/messages", json={"text": "to all"})).raise_for_status()
        await asyncio.wait_for(asyncio.gather(*readers), 60)
        return sorted(t - start for t in arrived)


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=50)
    p.add_argument("--streams", type=int, default=200)
    args = p.parse_args(argv)
    with fresh_database(args.url, keep=args.keep) as url:
        port = free_port()
        with api_server(url, port, ECOM_RATE_PER_PRINCIPAL="100000",
                        ECOM_BURST_PER_PRINCIPAL="100000"):  # fmt: skip
            base = f"http://127.0.0.1:{port}/api/v1"
            one = asyncio.run(_one_stream(base, args.messages))
            fan = asyncio.run(_fan_out(base, args.streams))
        print(machine(url))
    ms = [v * 1000 for v in one]
    print(f"post -> stream, {len(ms)} messages: p50 {percentile(ms, 0.5):.0f} ms, "
          f"p95 {percentile(ms, 0.95):.0f} ms, max {ms[-1]:.0f} ms")  # fmt: skip
    fan_ms = [v * 1000 for v in fan]
    print(f"one message to {len(fan_ms)} streams: first {fan_ms[0]:.0f} ms, "
          f"p50 {percentile(fan_ms, 0.5):.0f} ms, last {fan_ms[-1]:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
