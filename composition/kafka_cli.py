"""The Kafka subcommands of ``ecom``: ``relay`` (and ``relay status``), ``project --source kafka``
and ``project dead-letters list|retry|skip``. ``register(subparsers)`` adds them to the main
parser; ``python -m composition.kafka_cli ...`` runs them alone."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from composition.settings import Settings


def _bootstrap(args: argparse.Namespace, settings: Settings) -> str:
    bootstrap = getattr(args, "bootstrap_servers", None) or settings.kafka_bootstrap
    if not bootstrap:
        print("ecom: set ECOM_KAFKA_BOOTSTRAP_SERVERS (or --bootstrap-servers)", file=sys.stderr)
        raise SystemExit(2)
    return bootstrap


def _prefix(args: argparse.Namespace, settings: Settings) -> str:
    prefix = getattr(args, "topic_prefix", None)
    return settings.kafka_topic_prefix if prefix is None else prefix


def _stop_on_signals(stop) -> None:  # noqa: ANN001
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop())


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def run_relay(args: argparse.Namespace) -> int:
    from composition.bootstrap import build
    from scaleout.relay import Relay

    settings = Settings.from_env()
    bootstrap = _bootstrap(args, settings)
    container = build(settings)
    try:
        container.migrate()
        relay = Relay(
            container.pool,
            bootstrap,
            prefix=_prefix(args, settings),
            partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
            start_position=args.from_position,
        )
        _stop_on_signals(relay.stop)
        relay.run(until_caught_up=args.once)
    finally:
        container.close()
    return 0


def run_relay_status(args: argparse.Namespace) -> int:
    from composition.bootstrap import build
    from scaleout.consumer import consumer_lag
    from scaleout.relay import relay_status

    settings = Settings.from_env()
    container = build(settings)
    try:
        s = relay_status(container.pool, _prefix(args, settings))
        lags = consumer_lag(container.pool, args.group)
    finally:
        container.close()
    print(f"relay {s.relay or '(no prefix)'}: position {s.position}, head {s.head}, ", end="")
    print(f"lag {s.lag} (not yet acknowledged), epoch {s.epoch}, parked {s.parked}")
    if lags:
        rows = [("GROUP", "TOPIC", "PARTITION", "OFFSET", "LOG END", "LAG")]
        rows += [
            (
                r["group"],
                r["topic"],
                str(r["partition"]),
                str(r["offset"]),
                str(r["high_water"]),
                str(r["lag"]),
            )
            for r in lags
        ]
        _print_table(rows)
    return 0


def _selected(names: Sequence[str] | None):  # noqa: ANN202
    from composition.bootstrap import CAPABILITIES
    from composition.capabilities import combine

    everything = {p.name: p for p in combine(CAPABILITIES).projections()}
    if not names:
        return list(everything.values())
    unknown = [n for n in names if n not in everything]
    if unknown:
        known = ", ".join(sorted(everything))
        print(f"ecom: no read model named {unknown[0]!r} (known: {known})", file=sys.stderr)
        raise SystemExit(2)
    return [everything[n] for n in names]


def run_project(args: argparse.Namespace) -> int:
    from composition.bootstrap import build
    from scaleout.consumer import KafkaProjector

    if args.source != "kafka":
        print("ecom: only --source kafka is supported here", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    bootstrap = _bootstrap(args, settings)
    projections = _selected(args.projection)
    container = build(settings)
    try:
        container.migrate()
        projector = KafkaProjector(
            container.pool,
            container.store.mapper,
            projections,
            bootstrap,
            args.group,
            prefix=_prefix(args, settings),
        )
        _stop_on_signals(projector.stop)
        projector.run()
    finally:
        container.close()
    return 0


def run_dead_letters_list(args: argparse.Namespace) -> int:
    from composition.bootstrap import build
    from scaleout.dead_letters import list_dead_letters

    container = build()
    try:
        status = None if args.status == "all" else args.status
        items = list_dead_letters(container.pool, args.group, status, args.limit)
    finally:
        container.close()
    rows = [("ID", "STATUS", "TYPE", "STREAM", "VERSION", "POSITION", "REASON")]
    rows += [
        (
            str(i["id"]),
            i["status"],
            i["type"] or "",
            str(i["stream_id"] or ""),
            str(i["version"] or ""),
            str(i["position"] or ""),
            i["reason"],
        )
        for i in items
    ]
    _print_table(rows)
    return 0


def run_dead_letters_retry(args: argparse.Namespace) -> int:
    from composition.bootstrap import build
    from scaleout.dead_letters import DeadLetterNotFound, retry

    container = build()
    try:
        applied, reason = retry(
            container.pool,
            container.store.mapper,
            _selected(args.projection),
            args.group,
            args.id,
        )
    except DeadLetterNotFound as exc:
        print(f"ecom: {exc}", file=sys.stderr)
        return 1
    finally:
        container.close()
    print(f"retried {args.id}" if applied else f"still parked {args.id}: {reason}")
    return 0 if applied else 1


def run_dead_letters_skip(args: argparse.Namespace) -> int:
    from composition.bootstrap import build
    from scaleout.dead_letters import DeadLetterNotFound, skip

    container = build()
    try:
        skip(container.pool, args.group, args.id)
    except DeadLetterNotFound as exc:
        print(f"ecom: {exc}", file=sys.stderr)
        return 1
    finally:
        container.close()
    print(f"skipped {args.id}")
    return 0


def _kafka_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap-servers", help="default ECOM_KAFKA_BOOTSTRAP_SERVERS")
    p.add_argument("--topic-prefix", help="default ECOM_KAFKA_TOPIC_PREFIX (empty)")


def register(subparsers) -> None:  # noqa: ANN001 - argparse's private _SubParsersAction
    relay = subparsers.add_parser("relay", help="relay stored events to Kafka")
    _kafka_options(relay)
    relay.add_argument("--once", action="store_true", help="stop once the head is acknowledged")
    relay.add_argument(
        "--from-position",
        type=int,
        default=0,
        help="where a relay with no stored position starts (default 0: the whole store)",
    )
    relay.set_defaults(func=run_relay)
    rsub = relay.add_subparsers(dest="action")
    status = rsub.add_parser("status", help="relay lag and consumer lag per partition")
    status.add_argument("--topic-prefix", help="default ECOM_KAFKA_TOPIC_PREFIX (empty)")
    status.add_argument("--group", help="only this consumer group")
    status.set_defaults(func=run_relay_status)

    project = subparsers.add_parser("project", help="run projections as a Kafka consumer")
    _kafka_options(project)
    project.add_argument("--source", choices=["kafka"], default="kafka")
    project.add_argument("--group", required=True, help="consumer group name")
    project.add_argument(
        "--projection", action="append", help="a read model to build (repeat; default all)"
    )
    project.set_defaults(func=run_project)
    psub = project.add_subparsers(dest="action")
    dl = psub.add_parser("dead-letters", help="parked poison events of the group")
    dsub = dl.add_subparsers(dest="dl_action", required=True)
    ls = dsub.add_parser("list", help="list parked events")
    ls.add_argument("--status", choices=["parked", "retried", "skipped", "all"], default="parked")
    ls.add_argument("--limit", type=int, default=100)
    ls.set_defaults(func=run_dead_letters_list)
    rt = dsub.add_parser("retry", help="apply a parked event again")
    rt.add_argument("id", type=int)
    rt.set_defaults(func=run_dead_letters_retry)
    sk = dsub.add_parser("skip", help="mark a parked event skipped")
    sk.add_argument("id", type=int)
    sk.set_defaults(func=run_dead_letters_skip)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecom", description="Kafka subcommands of ecom")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
