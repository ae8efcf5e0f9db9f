"""``ecom processes run``: run only the process managers (the placement saga, the fulfillment
manager and the others) and the background services (webhook deliveries, notifications), with
no HTTP and no read models. ``ecom serve`` starts it as a child process (``--listen``: woken by
the store's commits), so the managers never wait for the views' turn at the GIL; the
crash-safety test SIGKILLs it and starts it again: each manager resumes from its stored
position and every step it repeats is an idempotent replay."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from composition.settings import Settings


def register(subparsers) -> None:  # noqa: ANN001 - argparse's private _SubParsersAction
    processes = subparsers.add_parser("processes", help="process managers (sagas)")
    psub = processes.add_subparsers(dest="action", required=True)
    run = psub.add_parser("run", help="run only the process managers until stopped")
    run.add_argument("--poll", type=float, default=0.02, help="idle poll interval in seconds")
    run.add_argument(
        "--only", action="append", help="run only this manager (repeatable; default all)"
    )
    run.add_argument(
        "--listen",
        action="store_true",
        help="wake on the store's commits (LISTEN) rather than polling every --poll seconds",
    )
    run.add_argument(
        "--supervised",
        action="store_true",
        help="started by ecom serve: stop on SIGTERM or when standard input closes (the "
        "supervisor is gone), not on the terminal's SIGINT (the supervisor stops it)",
    )
    run.add_argument(
        "--migrate", action="store_true", help="apply migrations first (default: assume done)"
    )
    run.set_defaults(func=run_processes)


def run_processes(args: argparse.Namespace) -> int:
    from api import heap
    from composition.bootstrap import build

    container = build(Settings.from_env())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.supervised:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_until_stdin_closes, args=(stop,), daemon=True).start()
    else:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        if args.migrate:
            container.migrate()
        runner = container.processes
        if args.only:
            runner.managers = {k: v for k, v in runner.managers.items() if k in args.only}
        runner.start(container.url if args.listen else None, poll_s=args.poll)
        services = [] if args.only else container.services  # webhooks, notifications
        for service in services:
            service.start()
        heap.settle()  # a manager's batch, like a request, stalls while the collector runs
        names = [*runner.managers, *(type(s).__name__ for s in services)]
        print("processes running:", ", ".join(names), flush=True)
        stop.wait()
    finally:
        container.close()
    return 0


def _until_stdin_closes(stop: threading.Event) -> None:
    """Set ``stop`` once standard input reaches its end: the supervisor holding its other end
    exited, however it exited (even SIGKILLed), so this process does not outlive it. Read from
    the descriptor itself: a thread blocked in ``sys.stdin``'s buffered reader holds its lock,
    and the interpreter, closing that reader as it exits, aborts ("could not acquire lock")."""
    while os.read(0, 4096):
        pass
    stop.set()
