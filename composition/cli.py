"""The ``ecom`` console command: serve the API, migrate, inspect and rebuild read models, tail
the event feed. Each subcommand builds the container through
``composition.bootstrap.build``; ``serve`` builds nothing itself and leaves that to the app's
lifespan in each worker."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import orjson

from composition.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.admission import DEFAULT_MAX_LAG_S
    from eventstore.database import embedded_database_url

    settings = Settings.from_env()
    if settings.database_url is None:
        # Started once here, in the parent, so every worker shares it and its files in
        # ./.data/pg outlive the process; it stops when this process exits.
        os.environ["ECOM_DATABASE_URL"] = embedded_database_url(settings.data_dir)
        print(f"embedded PostgreSQL in {settings.data_dir.resolve() / 'pg'}", file=sys.stderr)
        settings = Settings.from_env()
    workers = args.workers or settings.workers
    if workers < 1:
        raise SystemExit("ecom: ECOM_WORKERS must be at least 1")
    mail = _local_mail(settings)
    if mail is not None:
        settings = Settings.from_env()
    if settings.run_processes and settings.admission_max_lag_s is None:
        # the workers run no manager themselves (below), but orders wait on ours
        os.environ["ECOM_ADMISSION_MAX_LAG_S"] = str(DEFAULT_MAX_LAG_S)
    background = _background_in_parent(settings)
    managers = None
    if settings.run_processes and settings.managers_apart:
        try:
            managers = _managers_apart()
        except BaseException:
            background.close()
            raise
    # uvicorn re-raises SIGTERM after its graceful shutdown; the default action would kill us
    # before the exit hooks that stop the embedded PostgreSQL run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    os.environ["ECOM_LOG_LEVEL"] = args.log_level  # the workers' access log follows it
    config = uvicorn.Config(
        "composition.asgi:app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        log_level=args.log_level,
    )
    try:
        # Always the supervisor, one worker or many: the API's processes serve requests only.
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        if managers is not None:
            managers.close()
        background.close()
        if mail is not None:
            mail.stop()
    return 0


def _local_mail(settings: Settings):  # noqa: ANN202 - a LocalMailServer, imported lazily
    """With no ``ECOM_SMTP_URL``, a local SMTP server delivering to ``<data dir>/mail`` (a
    Maildir), started here so every worker sends to it; it stops when this process does."""
    if settings.smtp_url is not None:
        return None
    from composition.local_mail import LocalMailServer

    mail = LocalMailServer(settings.data_dir / "mail").start()
    os.environ["ECOM_SMTP_URL"] = mail.url
    os.environ.setdefault("ECOM_MAIL_DIR", str(settings.data_dir / "mail"))
    print(f"local SMTP server at {mail.url}, mail in {settings.data_dir / 'mail'}", file=sys.stderr)
    return mail


def _managers_apart():  # noqa: ANN202 - a ManagersProcess, imported lazily
    """The process managers in a child process of their own (``composition/managers_process``),
    started once the migrations ran."""
    from composition.managers_process import ManagersProcess

    return ManagersProcess().start()


def _background_in_parent(settings: Settings):  # noqa: ANN202 - a Container, imported lazily
    """The read models and the audit chainer (and, with ``ECOM_MANAGERS_APART=0``, the process
    managers and background services) run once, in this (supervising) process, and not in
    each worker: every worker would otherwise poll every view and manager for the advisory lock
    that lets only one of them advance it. Workers are spawned after this and inherit the
    environment that turns their own off."""
    from dataclasses import replace

    from api import heap
    from composition.bootstrap import build

    if settings.managers_apart:
        settings = replace(settings, run_processes=False)  # their own process runs them
    container = build(settings)
    try:
        container.migrate()
        container.start_background()
    except BaseException:
        container.close()
        raise
    heap.settle()  # the views' and managers' passes, like requests, stall while it collects
    os.environ["ECOM_RUN_PROJECTIONS"] = "0"
    os.environ["ECOM_RUN_PROCESSES"] = "0"
    return container


def _migrate(args: argparse.Namespace) -> int:
    from composition.bootstrap import build

    container = build()
    try:
        applied = container.migrate()
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    finally:
        container.close()
    return 0


def _projections_status(args: argparse.Namespace) -> int:
    from composition.bootstrap import build

    container = build()
    try:
        rows = [("NAME", "POSITION", "LAG", "STATUS", "PARKED")]
        rows += [
            (s.name, str(s.position), str(s.lag), s.status, str(s.parked))
            for s in container.runner.status()
        ]
        rows += [
            (s.name, str(s.position), str(s.lag), "process", str(s.parked))
            for s in container.processes.status()
        ]
    finally:
        container.close()
    _table(rows)
    return 0


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def _projections_parked(args: argparse.Namespace) -> int:
    from composition.bootstrap import build

    container = build()
    try:
        parked = container.parking.list(args.follower)
    finally:
        container.close()
    if args.json:
        for p in parked:
            sys.stdout.buffer.write(orjson.dumps(p.as_json()) + b"\n")
        return 0
    rows = [("ID", "FOLLOWER", "POSITION", "STREAM", "VERSION", "TYPE", "TRIES", "BEHIND", "ERROR")]
    rows += [
        (
            str(p.id),
            p.follower,
            str(p.position),
            str(p.stream_id),
            str(p.stream_version),
            p.event_type,
            str(p.attempts),
            "" if p.behind is None else str(p.behind),
            p.error.splitlines()[0][:80] if p.error else "",
        )
        for p in parked
    ]
    _table(rows)
    return 0


def _print_outcome(outcome) -> None:  # noqa: ANN001 - a RetryOutcome
    if outcome.requested:
        print(f"{outcome.follower} {outcome.stream_id}: retry requested ({outcome.still_parked})")
    else:
        print(
            f"{outcome.follower} {outcome.stream_id}: {outcome.applied} handled, "
            f"{outcome.still_parked} still parked"
        )


def _projections_retry(args: argparse.Namespace) -> int:
    from composition.bootstrap import build

    if (args.id is None) == (args.follower is None):
        print("ecom: give a parked event ID or --follower NAME", file=sys.stderr)
        return 2
    container = build()
    try:
        if args.id is not None:
            outcome = container.parking.retry(args.id)
            if outcome is None:
                print(f"ecom: no parked event {args.id}", file=sys.stderr)
                return 1
            outcomes = [outcome]
        else:
            outcomes = container.parking.retry_follower(args.follower)
    finally:
        container.close()
    for outcome in outcomes:
        _print_outcome(outcome)
    return 0 if all(o.still_parked == 0 or o.requested for o in outcomes) else 1


def _projections_skip(args: argparse.Namespace) -> int:
    from composition.bootstrap import build

    container = build()
    try:
        outcome = container.parking.skip(args.id, actor=f"cli:{os.environ.get('USER', '?')}")
    finally:
        container.close()
    if outcome is None:
        print(f"ecom: no parked event {args.id}", file=sys.stderr)
        return 1
    print(f"skipped {args.id}")
    _print_outcome(outcome)
    return 0


def _projections_rebuild(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from composition.bootstrap import build

    container = build()
    try:
        runner = container.runner
        if args.name not in runner.projections:
            known = ", ".join(sorted(runner.projections))
            print(f"ecom: no read model named {args.name!r} (known: {known})", file=sys.stderr)
            return 2
        with tqdm(total=0, unit="pos", desc=f"rebuild {args.name}") as bar:

            def progress(position: int, head: int) -> None:
                bar.total = head
                bar.n = position
                bar.refresh()

            started = time.monotonic()
            events = runner.rebuild(args.name, progress=progress)
            bar.n = bar.total
            bar.refresh()
        elapsed = time.monotonic() - started
        print(
            f"rebuilt {args.name}: {events} events in {elapsed:.1f} s, {events.parked} parked"
            + (" (ecom projections parked)" if events.parked else "")
        )
    finally:
        container.close()
    return 0


#: How many of the last events ``events tail`` starts with when given neither --after nor
#: --limit, and the most it reads per query.
BACKLOG = 100
PAGE = 500


def _events_tail(args: argparse.Namespace) -> int:
    """``--limit`` is the number of events printed in all, in every mode (with ``-f`` too:
    it stops once it has printed that many); without ``--after`` it starts at the last
    ``--limit`` events (default 100)."""
    from composition.bootstrap import build

    container = build()
    store = container.store
    try:
        left = args.limit  # None: no bound
        after = args.after if args.after is not None else store.start_of_last(left or BACKLOG)
        out = sys.stdout.buffer
        while left is None or left > 0:
            asked = PAGE if left is None else min(PAGE, left)
            page = store.read_all(after=after, limit=asked)
            for event in page:
                out.write(orjson.dumps(event.feed_item()) + b"\n")
            out.flush()
            if page:
                after = page[-1].position or after
                left = None if left is None else left - len(page)
                if len(page) == asked:
                    continue
            if not args.follow:
                break
            time.sleep(args.interval)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        container.close()


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecom", description="Serve the API, migrate, and look after read models and events."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API (migrates on start)")
    serve.add_argument("--host", help="default ECOM_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default ECOM_PORT or 8000")
    serve.add_argument(
        "--workers", type=_positive, help="uvicorn worker processes (default ECOM_WORKERS or 1)"
    )
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="create or update the event table and read models")
    migrate.set_defaults(func=_migrate)

    projections = sub.add_parser("projections", help="read models")
    psub = projections.add_subparsers(dest="action", required=True)
    psub.add_parser("status", help="position, lag and status of each view").set_defaults(
        func=_projections_status
    )
    rebuild = psub.add_parser("rebuild", help="rebuild one view beside the live one, then swap")
    rebuild.add_argument("name")
    rebuild.set_defaults(func=_projections_rebuild)
    parked = psub.add_parser("parked", help="events the followers of the log parked")
    parked.add_argument("--follower", help="only this follower's (a view, process:NAME, relay)")
    parked.add_argument("--json", action="store_true", help="one JSON object per line")
    parked.set_defaults(func=_projections_parked)
    retry = psub.add_parser("retry", help="handle a parked stream again, in order")
    retry.add_argument("id", nargs="?", type=int, help="a parked event's id (its whole stream)")
    retry.add_argument("--follower", help="every parked stream of this follower")
    retry.set_defaults(func=_projections_retry)
    skip = psub.add_parser("skip", help="drop one parked event and retry those behind it")
    skip.add_argument("id", type=int)
    skip.set_defaults(func=_projections_skip)

    events = sub.add_parser("events", help="the global event feed")
    esub = events.add_subparsers(dest="action", required=True)
    tail = esub.add_parser("tail", help="print events as JSON lines")
    tail.add_argument(
        "--after", type=int, help="start after this position (default: the last LIMIT events)"
    )
    tail.add_argument(
        "--limit",
        type=_positive,
        help=f"print this many events in all, then stop, also with -f (default: no bound; "
        f"without --after, the last {BACKLOG})",
    )
    tail.add_argument(
        "--follow", "-f", action="store_true", help="keep polling for new events (until LIMIT)"
    )
    tail.add_argument("--interval", type=float, default=0.5, help="poll interval in seconds")
    tail.set_defaults(func=_events_tail)

    from composition import kafka_cli  # relay, project --source kafka, dead letters

    kafka_cli.register(sub)
    from composition import audit_cli  # audit verify/checkpoint, events export, customers forget

    audit_cli.register(sub, events=esub)
    from composition import auth_cli  # token: mint a development bearer token

    auth_cli.register(sub)
    from composition import process_cli  # processes run: only the sagas (crash tests)

    process_cli.register(sub)
    from composition import db_cli  # db url [--read-only]: where the database is, for psql

    db_cli.register(sub)
    return parser


#: Commands that set a store up and may start one afresh in the data folder; every other one
#: needs the folder (and its database) to exist already (``composition/data_folder.py``).
SETS_UP = frozenset({"serve", "migrate", "processes", "relay", "project", "token"})


def _key_file_only(args: argparse.Namespace) -> bool:
    """``ecom audit public-key`` reads the key file and nothing else (no database): it needs
    the data folder only to find the key there, and refuses by itself when there is none."""
    return args.command == "audit" and getattr(args, "action", None) == "public-key"


def _needs_data_folder(args: argparse.Namespace) -> bool:
    if args.command == "audit" and getattr(args, "file", None):
        return False  # an export checked offline
    if _key_file_only(args) and (args.key or os.environ.get("ECOM_AUDIT_KEY_FILE")):
        return False  # the public key of a key file named outright
    if args.command == "token" and (os.environ.get("ECOM_JWT_SECRET") or args.private_key):
        return False
    return True


def _use_data_folder(args: argparse.Namespace) -> bool:
    """Point ``ECOM_DATA_DIR`` at the project's data folder (so every part of this process and
    its children agree), or say clearly why there is none."""
    from composition.data_folder import DataFolderMissing, find_data_folder

    if not _needs_data_folder(args):
        return True
    try:
        folder = find_data_folder(
            Path.cwd(), os.environ, may_create=args.command in SETS_UP or _key_file_only(args)
        )
    except DataFolderMissing as exc:
        print(f"ecom: {exc}", file=sys.stderr)
        return False
    os.environ["ECOM_DATA_DIR"] = str(folder)
    return True


def _stop_on_sigterm() -> None:
    """SIGTERM ends a command as Ctrl-C does: ``finally`` blocks and exit hooks run (the
    embedded PostgreSQL is stopped when this was its last user), and the status is 0. A
    command with its own way of stopping (``serve``, ``processes run``) sets its own."""

    def stop(*_: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop; let the cleanup run
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _no_event_store(exc: BaseException) -> bool:
    from psycopg.errors import UndefinedTable

    return isinstance(exc, UndefinedTable) or isinstance(exc.__cause__, UndefinedTable)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")  # embedded PostgreSQL's lock
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not _use_data_folder(args):
        return 2
    _stop_on_sigterm()
    try:
        return args.func(args)
    except Exception as exc:
        if not _no_event_store(exc):
            raise
        print("ecom: the database has no event store yet; run ecom migrate", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
