"""A process that runs process managers until they have caught up, and SIGKILLs itself right
after its Nth new commit: the fault injection of ``test_process_manager_crash_safety.py``.

A commit is an append to the event store (it has committed when ``append`` returns) or an
operation the payment gateway had not seen before (its answer just kept in
``gateway_idempotency``); an idempotent replay commits nothing and is not counted. Each commit
is printed as ``commit <n>: <what>`` before the kill, so the test knows where every kill fell.
Nothing else is changed: the managers are the composition root's own, given the same store
and gateway behind a counting wrapper.

Run as ``python -m tests.integration.crashing_processes`` with ``ECOM_DATABASE_URL``,
``CRASH_MANAGERS`` (comma-separated manager names) and ``CRASH_AFTER`` (0: never); exits 0
once every manager has seen everything written before it started."""

from __future__ import annotations

import os
import signal
import sys
import threading
from decimal import Decimal

from commands.payment_gateway import GatewayAnswer, PaymentGateway, SandboxGateway
from composition.bootstrap import build
from composition.settings import Settings
from eventstore.store import EventStore


class Crash:
    """Counts commits; SIGKILLs this process right after the ``after``-th (0: never).

    Commits may come from several threads at once (the placement saga asks its authorizations
    concurrently): each is counted, printed and killed for under one lock, so two never share a
    number or a line of output."""

    def __init__(self, after: int):
        self.after, self.count = after, 0
        self._lock = threading.Lock()

    def committed(self, what: str) -> None:
        with self._lock:
            self.count += 1
            print(f"commit {self.count}: {what}", flush=True)
            if self.count == self.after:
                os.kill(os.getpid(), signal.SIGKILL)


class CrashingStore(EventStore):
    """The container's store (same recorder, mapper and group committer), counting appends."""

    def __init__(self, store: EventStore, crash: Crash):  # noqa: D107 - shares the store's parts
        self.__dict__.update(vars(store))
        self.crash = crash

    def append(self, appends, meta, idempotency=None) -> int:  # noqa: ANN001
        position = super().append(appends, meta, idempotency)
        names = ", ".join(type(e).__name__ for a in appends for e in a.events)
        self.crash.committed(f"append {names}")
        return position


class CrashingGateway:
    """The sandbox gateway, counting the operations it had not answered before."""

    def __init__(self, gateway: SandboxGateway, crash: Crash):
        self.inner, self.crash, self.name = gateway, crash, gateway.name

    def _new(self, operation: str, key: str, call) -> GatewayAnswer:  # noqa: ANN001
        known = self.inner.memory.get(key)
        answer = call()
        if known is None:
            self.crash.committed(f"gateway {operation}")
        return answer

    def authorize(self, key: str, token: str, amount: Decimal, currency: str, timeout_s: float):  # noqa: ANN201
        return self._new(
            "authorize", key, lambda: self.inner.authorize(key, token, amount, currency, timeout_s)
        )

    def authorize_at_once(self, requests):  # noqa: ANN001, ANN201
        known = {r.key for r in requests if self.inner.memory.get(r.key) is not None}
        answers = self.inner.authorize_at_once(requests)
        for key in answers:
            if key not in known:
                self.crash.committed("gateway authorize")
        return answers

    def capture(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer:
        return self._new("capture", key, lambda: self.inner.capture(key, authorization_ref, amount))

    def void(self, key: str, authorization_ref: str) -> GatewayAnswer:
        return self._new("void", key, lambda: self.inner.void(key, authorization_ref))

    def refund(self, key: str, authorization_ref: str, amount: Decimal) -> GatewayAnswer:
        return self._new("refund", key, lambda: self.inner.refund(key, authorization_ref, amount))


def main() -> int:
    crash = Crash(int(os.environ.get("CRASH_AFTER", "0")))
    wanted = os.environ["CRASH_MANAGERS"].split(",")
    container = build(Settings.from_env())
    try:
        store = CrashingStore(container.store, crash)
        gateway: PaymentGateway = CrashingGateway(container.gateway, crash)
        runner = container.processes
        runner.managers = {name: runner.managers[name] for name in wanted}
        for manager in runner.managers.values():
            # every manager writes through its ``store`` (and pays through its ``gateway``)
            assert isinstance(getattr(manager, "store", None), EventStore), manager.name
            manager.store = store  # type: ignore[attr-defined]
            if hasattr(manager, "gateway"):
                manager.gateway = gateway  # type: ignore[attr-defined]
        runner.catch_up(timeout_s=30)
        print("caught up", flush=True)
    finally:
        container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
