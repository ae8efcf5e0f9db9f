"""Sending deliveries: one sender (a thread) per live webhook in each process that runs the
dispatcher, so a slow or dead endpoint holds only its own webhook's deliveries.

A sender claims up to ``batch`` due stream heads (``commands/webhook_deliveries.py``), checks
the endpoint's address again (``commands/webhook_urls.py``), POSTs the bodies
(``commands/webhook_payloads.py``), ``concurrency`` at a time, each signed
(``commands/webhook_signature.py``) and bounded by ``timeout_s``, and settles the batch in one
statement: a 2xx is delivered; anything else (another status, a redirect, a timeout, a refused
connection) is tried again after ``backoff_s * 2^(attempts-1)`` (at most ``max_backoff_s``)
until ``max_attempts``, then dead-lettered. It sleeps until woken (the dispatcher queued
something for it) or its next delivery is due."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import httpx

from commands.webhook_deliveries import Claimed, DeliveryTable, Result
from commands.webhook_directory import Subscription, WebhookDirectory
from commands.webhook_payloads import PayloadBuilder
from commands.webhook_secrets import secret_of
from commands.webhook_signature import header
from commands.webhook_urls import check_endpoint
from domain.errors import InvalidCommand

log = logging.getLogger(__name__)
USER_AGENT = "ecom-webhooks/1"


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_s: float = 30.0
    max_backoff_s: float = 6 * 3600.0
    timeout_s: float = 10.0
    concurrency: int = 16  # requests in flight per webhook (distinct streams)
    run: int = 16  # consecutive deliveries of one stream claimed at once, sent in order
    poll_s: float = 1.0  # the longest a sender sleeps without a wake-up

    def delay(self, attempts: int) -> float:
        return min(self.max_backoff_s, self.backoff_s * 2 ** max(0, attempts - 1))

    @property
    def lease_s(self) -> float:
        """Long enough for a whole run of requests that all time out."""
        return self.run * self.timeout_s + 30.0


def secrets_for(sub: Subscription, key: bytes, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its grace."""
    out = [secret_of(key, sub.id, sub.generation)]
    if sub.generation > 0 and sub.previous_valid_until and now < sub.previous_valid_until:
        out.append(secret_of(key, sub.id, sub.generation - 1))
    return out


class WebhookSender:
    def __init__(
        self,
        webhook_id: UUID,
        directory: WebhookDirectory,
        table: DeliveryTable,
        payloads: PayloadBuilder,
        key: bytes,
        policy: DeliveryPolicy,
    ):
        self.webhook_id = webhook_id
        self.directory, self.table, self.payloads = directory, table, payloads
        self.key, self.policy = key, policy
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._client = httpx.Client(
            timeout=policy.timeout_s,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=policy.concurrency),
            headers={"User-Agent": USER_AGENT},
        )
        self._pool = ThreadPoolExecutor(policy.concurrency, thread_name_prefix="webhook-send")
        self._thread = threading.Thread(
            target=self._loop, name=f"webhook-{webhook_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self.wake.set()
        if wait:
            self._thread.join(timeout=self.policy.timeout_s + 5)

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                sent = self.run_once()
                backoff = 0.1
                if not sent:
                    self.wake.wait(self._idle_s())
                    self.wake.clear()
            except Exception:  # noqa: BLE001 - the database or a bug: back off, keep going
                log.exception("webhook sender %s failed; retrying", self.webhook_id)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def _idle_s(self) -> float:
        due = self.table.next_due(self.webhook_id)
        if due is None:
            return self.policy.poll_s
        wait = (due - datetime.now(UTC)).total_seconds()
        return min(self.policy.poll_s, max(0.005, wait))

    def run_once(self) -> int:
        """Claim, send and settle one batch (``concurrency`` streams, each a run of up to
        ``run`` deliveries sent in order); how many were claimed."""
        sub = self.directory.get(self.webhook_id)
        if sub is None or sub.deleted_at is not None:
            return 0
        p = self.policy
        claimed = self.table.claim(self.webhook_id, p.concurrency, p.run, p.lease_s)
        if not claimed:
            return 0
        runs: dict[UUID, list[Claimed]] = {}
        for c in claimed:  # in position order, so each run is in stream order
            runs.setdefault(c.stream_id, []).append(c)
        try:
            check_endpoint(sub.url)
            refusal = None
        except InvalidCommand as refused:
            refusal = str(refused)
        if refusal is not None:  # each run's first counts a failed attempt
            send_run: Callable[[list[Claimed]], list[Result]] = lambda run: [  # noqa: E731
                Result(run[0], None, refusal)
            ]
        else:
            bodies = self.payloads.bodies([c.position for c in claimed])
            secrets = secrets_for(sub, self.key, datetime.now(UTC))
            send_run = lambda run: self._send_run(sub.url, secrets, run, bodies)  # noqa: E731
        results = [r for done in self._pool.map(send_run, runs.values()) for r in done]
        attempted = {r.delivery.id for r in results}
        unsent = [c for c in claimed if c.id not in attempted]
        self.table.settle(results, p.max_attempts, p.delay, unsent)
        return len(claimed)

    def _send_run(
        self, url: str, secrets: list[str], run: list[Claimed], bodies: dict[int, bytes]
    ) -> list[Result]:
        """One stream's deliveries in order, up to the first that fails."""
        results = []
        for c in run:
            results.append(self._send(url, secrets, c, bodies))
            if not results[-1].ok:
                break
        return results

    def _send(self, url: str, secrets: list[str], c: Claimed, bodies: dict[int, bytes]) -> Result:
        body = bodies.get(c.position)
        if body is None:
            return Result(c, None, "the event is not in the log")
        headers = {
            "Content-Type": "application/json",
            "X-Ecom-Event-Id": f"{c.stream_id}@{c.stream_version}",
            "X-Ecom-Signature": header(secrets, int(time.time()), body),
        }
        try:
            answer = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Result(c, None, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= answer.status_code < 300:
            return Result(c, answer.status_code, None)
        return Result(c, answer.status_code, f"HTTP {answer.status_code}")
