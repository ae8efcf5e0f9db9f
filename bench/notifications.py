"""Notifications: how fast the sender empties a backlog into local sinks (the local SMTP
server writing a Maildir, the SMS sandbox writing files), and the latency from the source event
(an ``OrderConfirmed`` appended) to ``NotificationDelivered``, through the notification manager
(queuing) and the sender, both running in threads of this process, at a steady offered rate.

    python -m bench.notifications --backlog 2000 --rate 50 --seconds 10
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

from bench.common import container_on, fresh_database, machine, parser
from commands import notifications as handle
from commands.context import CommandContext
from commands.email_channel import EmailChannel
from commands.notification_queuer import NotificationQueuer
from commands.notification_sender import NotificationSender
from commands.process_manager import ProcessRunner
from commands.sms_channel import SandboxSms
from commands.unsubscribe_tokens import UnsubscribeTokens
from composition.local_mail import LocalMailServer
from domain.money import Money
from domain.notification.commands import QueueNotification
from domain.notification.ids import message_key, notification_stream
from domain.order.events import OrderConfirmed, OrderPlaced
from domain.order.values import Address, PaymentRef
from eventstore.store import StreamAppend

ADDRESS = Address(name="Ann", line1="1 Main St", city="Springfield", postal_code="1", country="US")


def _sender(container, folder: Path, smtp_url: str) -> NotificationSender:  # noqa: ANN001
    return NotificationSender(
        container.store,
        EmailChannel(smtp_url, "bench@localhost", folder / "mail"),
        SandboxSms(folder / "sms"),
        UnsubscribeTokens(b"bench"),
        "http://127.0.0.1:8000",
        url=container.url,
    )


def backlog(container, folder: Path, smtp_url: str, count: int) -> float:  # noqa: ANN001
    """Messages per second delivered from a backlog of ``count`` (half email, half SMS)."""
    ctx = CommandContext.new("bench")
    for i in range(count):
        channel = "email" if i % 2 == 0 else "sms"
        source = f"{uuid4()}@1"
        nid = notification_stream(source, channel)
        to = f"b{i}@example.com" if channel == "email" else f"+49170{i:07d}"
        handle.queue(container.store, QueueNotification(
            notification_id=nid, channel=channel, template="order_confirmed", to=to,
            subject=f"Order {i} confirmed", text=f"Your order {i} is confirmed.\n" * 5,
            html="<p>Your order is confirmed.</p>", customer_id=uuid4(), order_id=uuid4(),
            source_event_id=source, source_position=i + 1, message_key=message_key(nid),
        ), ctx)  # fmt: skip
    sender = _sender(container, folder, smtp_url)
    started = time.perf_counter()
    sender.run_until_idle(timeout_s=600)
    elapsed = time.perf_counter() - started
    sender.stop()
    return count / elapsed


def _order(container, customer: UUID) -> UUID:  # noqa: ANN001
    order_id, now, zero = uuid4(), datetime.now(UTC), Money.of(Decimal("0"), "USD")
    placed = OrderPlaced(
        order_number=container.store.next_order_number(), customer_id=customer, currency="USD",
        lines=[], shipping_address=ADDRESS, payment=PaymentRef(token="tok_visa"),
        subtotal=zero, tax=zero, shipping=zero, discount=zero,
        total=Money.of(Decimal("19.90"), "USD"), placed_at=now, placed_by="bench",
        contact_email=f"{order_id.hex[:12]}@example.com",
    )  # fmt: skip
    meta = CommandContext.new("bench").meta()
    container.store.append([StreamAppend(order_id, 0, [placed])], meta)
    return order_id


def latency(container, folder: Path, smtp_url: str, rate: float, seconds: float):  # noqa: ANN001, ANN201
    """Orders confirmed at ``rate`` per second for ``seconds``: each confirmation's time to its
    email's ``NotificationDelivered`` (guests with a contact email: one message each)."""
    orders = [_order(container, uuid4()) for _ in range(int(rate * seconds))]
    runner = ProcessRunner(
        container.store, [NotificationQueuer(container.store, UnsubscribeTokens(b"b"), "http://x")]
    )
    sender = _sender(container, folder, smtp_url)
    runner.catch_up()  # nothing to queue yet: the placements are not news
    runner.start(poll_s=0.01)
    sender.start(container.url, idle_s=0.01)
    confirmed_at: dict[UUID, float] = {}
    delivered_at: dict[UUID, float] = {}
    done = threading.Event()

    def watch() -> None:
        after = container.store.head()
        while not done.is_set():
            for e in container.store.read_all(
                after=after, limit=1000, topics=("notification.NotificationDelivered",)
            ):
                after = e.position
                delivered_at.setdefault(e.stream_id, time.perf_counter())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    ids: dict[UUID, UUID] = {}
    for i, order_id in enumerate(orders):
        time.sleep(max(0.0, started + i / rate - time.perf_counter()))
        confirmed = OrderConfirmed(allocations=[], confirmed_at=datetime.now(UTC))
        meta = CommandContext.new("bench").meta()
        container.store.append([StreamAppend(order_id, 1, [confirmed])], meta)
        confirmed_at[order_id] = time.perf_counter()
        ids[order_id] = notification_stream(f"{order_id}@2", "email")
    deadline = time.monotonic() + 60
    while len([o for o in ids.values() if o in delivered_at]) < len(ids):
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
    done.set()
    sender.stop()
    runner.stop()
    waits = sorted(
        (delivered_at[n] - confirmed_at[o]) * 1000 for o, n in ids.items() if n in delivered_at
    )
    return len(waits), len(ids), waits


def main() -> int:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--backlog", type=int, default=2000)
    p.add_argument("--rate", type=float, default=50.0)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    with (
        fresh_database(args.url, args.keep) as url,
        container_on(url) as container,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        mail = LocalMailServer(folder / "mail").start()
        try:
            print(machine(url))
            rate = backlog(container, folder, mail.url, args.backlog)
            print(f"backlog of {args.backlog} (half email, half SMS): {rate:,.0f} messages/s")
            got, wanted, waits = latency(container, folder, mail.url, args.rate, args.seconds)
            q = statistics.quantiles(waits, n=100) if len(waits) > 1 else waits * 99
            print(
                f"OrderConfirmed -> NotificationDelivered at {args.rate:g}/s for "
                f"{args.seconds:g} s: {got}/{wanted} delivered, p50 {q[49]:.1f} ms, "
                f"p99 {q[98]:.1f} ms, max {waits[-1]:.1f} ms"
            )
        finally:
            mail.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
