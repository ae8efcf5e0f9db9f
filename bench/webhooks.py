"""Webhook deliveries: throughput to a local sink and latency from an event to its delivery.

The sink is a keep-alive HTTP/1.1 server in its own process answering ``204`` at once. The
dispatcher (``commands/webhook_dispatcher.py``) runs in this process, as in the server.

- **Throughput**: ``--backlog`` events (``bench.Ticked``, spread over ``--streams`` streams)
  are written while the dispatcher is stopped, then it is started and we time until every
  delivery is ``delivered``: deliveries per second, one webhook, ``--concurrency`` in flight.
- **Latency**: the dispatcher running, events are written at ``--rate`` per second for
  ``--seconds``; latency is ``delivered_at - recorded_at`` of each delivery (both the
  database's clock: the event's insert to the recording of the sink's 2xx), p50 and p99.

    python -m bench.webhooks --backlog 5000 --rate 200 --seconds 10
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import container_on, fresh_database, machine, meta, parser, tick
from commands.context import CommandContext
from commands.webhook_dispatcher import WebhookDispatcher
from commands.webhook_sender import DeliveryPolicy
from commands.webhook_urls import ALLOW_PRIVATE_ENV
from domain.webhook.commands import RegisterWebhook
from eventstore.store import StreamAppend


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

    def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def _serve(port_out) -> None:  # noqa: ANN001
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


def _write(store, streams: list[uuid.UUID], versions: dict, n: int) -> None:  # noqa: ANN001
    stream = streams[n % len(streams)]
    store.append([StreamAppend(stream, versions[stream], [tick(n)])], meta())
    versions[stream] += 1


def _pending(container, webhook_id: uuid.UUID) -> int:  # noqa: ANN001
    with container.pool.connection() as conn:
        return conn.execute(
            "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = %s "
            "AND status <> 'delivered'",
            (webhook_id,),
        ).fetchone()[0]


def _latencies(container, webhook_id: uuid.UUID) -> tuple[int, float, float]:  # noqa: ANN001
    with container.pool.connection() as conn:
        return conn.execute(
            "SELECT count(*), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.delivered_at - "
            "e.recorded_at)) * 1000, "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM d.delivered_at - "
            "e.recorded_at)) * 1000 "
            "FROM webhook_deliveries d JOIN stored_events e ON e.notification_id = d.position "
            "WHERE d.webhook_id = %s AND d.status = 'delivered'",
            (webhook_id,),
        ).fetchone()


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--backlog", type=int, default=5_000)
    p.add_argument("--streams", type=int, default=500)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rate", type=int, default=200, help="events/s offered for the latency run")
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args(argv)
    os.environ[ALLOW_PRIVATE_ENV] = "1"  # the sink is on this machine
    ours, theirs = multiprocessing.Pipe()
    sink = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
    sink.start()
    url = f"http://127.0.0.1:{ours.recv()}/sink"
    policy = DeliveryPolicy(concurrency=args.concurrency, timeout_s=5.0)
    try:
        with fresh_database(args.url, args.keep) as db, container_on(db) as container:
            print(f"== {machine(db)}", flush=True)
            ctx = CommandContext.new("bench")
            for phase in ("throughput", "latency"):
                webhook_id = container.dispatcher.handle(
                    RegisterWebhook(url=f"{url}/{phase}", event_types=["bench.Ticked"]), ctx
                ).stream_id
                streams = [uuid.uuid4() for _ in range(args.streams)]
                versions = dict.fromkeys(streams, 0)
                dispatcher = WebhookDispatcher(
                    container.store, container.pool, bytes(32), policy, listen_url=db
                )
                if phase == "throughput":
                    for n in range(args.backlog):
                        _write(container.store, streams, versions, n)
                    started = time.perf_counter()
                    dispatcher.start()
                    while _pending(container, webhook_id) or dispatcher.queue_once():
                        time.sleep(0.01)
                    took = time.perf_counter() - started
                    print(
                        f"throughput: {args.backlog:,} deliveries over {args.streams} streams "
                        f"in {took:.2f} s = {args.backlog / took:,.0f}/s "
                        f"(concurrency {args.concurrency})",
                        flush=True,
                    )
                else:
                    dispatcher.start()
                    total = int(args.rate * args.seconds)
                    started = time.perf_counter()
                    for n in range(total):
                        delay = started + n / args.rate - time.perf_counter()
                        if delay > 0:
                            time.sleep(delay)
                        _write(container.store, streams, versions, n)
                    deadline = time.monotonic() + 60
                    while _latencies(container, webhook_id)[0] < total:
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.05)
                    count, p50, p99 = _latencies(container, webhook_id)
                    print(
                        f"latency at {args.rate}/s offered for {args.seconds:.0f} s: "
                        f"{count:,} delivered, event → delivery p50 {p50:.1f} ms, "
                        f"p99 {p99:.1f} ms",
                        flush=True,
                    )
                dispatcher.stop()
    finally:
        sink.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
