"""``ecom audit verify|checkpoint|public-key``, ``ecom events export``, ``ecom customers forget``.

``register(sub, events=...)`` adds them to the ``ecom`` parser (``events`` is the existing
``events`` group's sub-parsers, which ``export`` joins beside ``tail``)."""

from __future__ import annotations

import argparse
import base64
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import orjson

from composition.settings import Settings


def key_file(explicit: str | None) -> Path:
    from audit.checkpoint import audit_key_path

    return Path(explicit) if explicit else audit_key_path(Settings.from_env().data_dir)


def _print(doc: dict) -> None:
    sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")


def _pinned(args: argparse.Namespace) -> str:
    """The pinned key a checkpoint must be signed by, as base64; CheckpointInvalid when none
    is given (a key written inside a checkpoint proves nothing) or with an export file."""
    from audit import ecom_verify
    from audit.checkpoint import CheckpointInvalid

    if args.file:
        raise CheckpointInvalid(
            "--checkpoint checks the stored chain; an export carries its own signed tree head, "
            "checked against --public-key"
        )
    if not args.public_key:
        raise CheckpointInvalid(
            "a checkpoint is only as good as the key that signed it: pass the pinned key, "
            "--public-key KEY (base64, or a file holding it; `ecom audit public-key`)"
        )
    try:
        raw = ecom_verify.raw_key(ecom_verify.load_public_key(args.public_key))
    except ecom_verify.Unusable as exc:
        raise CheckpointInvalid(str(exc)) from None
    return base64.b64encode(raw).decode()


def _verify_file(args: argparse.Namespace) -> int:
    """An export checked by the standalone verifier (``audit/ecom_verify.py``) against the
    pinned key, never a key read from the file or from the data folder."""
    from audit import ecom_verify

    if not args.public_key:
        print(
            "ecom: verifying an export needs the pinned public key: --public-key KEY (base64, "
            "or a file holding it; `ecom audit public-key`)",
            file=sys.stderr,
        )
        return 2
    try:
        key = ecom_verify.load_public_key(args.public_key)
        report = ecom_verify.check_export_file(args.file, key)
    except ecom_verify.Unusable as exc:
        print(f"ecom: {exc}", file=sys.stderr)
        return 2
    _print(report.as_json())
    return 0 if report.ok else 1


def _verify(args: argparse.Namespace) -> int:
    from audit.checkpoint import CheckpointInvalid, read_checkpoint

    try:
        cp = read_checkpoint(Path(args.checkpoint), _pinned(args)) if args.checkpoint else None
    except CheckpointInvalid as exc:
        print(f"ecom: {exc}", file=sys.stderr)
        return 2
    if args.file:
        return _verify_file(args)
    else:
        from audit.verify import verify, verify_to_head
        from composition.bootstrap import build

        container = build()
        try:
            if args.no_chain:
                report = verify(container.pool, checkpoint=cp, mac_key=container.chainer.mac_key)
            else:
                report = verify_to_head(
                    container.pool, container.chainer, wait_s=args.wait, checkpoint=cp
                )
        finally:
            container.close()
    _print(report.as_json())
    return 0 if report.ok else 1


def _checkpoint(args: argparse.Namespace) -> int:
    from audit.checkpoint import load_or_create_key, write_checkpoint
    from audit.verify import chain_hash_at
    from composition.bootstrap import build

    key = load_or_create_key(key_file(args.key))
    container = build()
    try:
        container.chainer.catch_up()
        position = container.chainer.status().position
        head_hash = chain_hash_at(container.pool, position)
    finally:
        container.close()
    doc = write_checkpoint(Path(args.out), position, head_hash, key, datetime.now(UTC))
    _print(doc)
    return 0


def _public_key(args: argparse.Namespace) -> int:
    """Print the base64 Ed25519 public key of the audit key file (never creates one)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.checkpoint import public_key_of

    path = key_file(args.key)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        print(f"ecom: no audit key at {path} ({exc})", file=sys.stderr)
        return 2
    if not isinstance(key, Ed25519PrivateKey):
        print(f"ecom: {path} does not hold an Ed25519 private key", file=sys.stderr)
        return 2
    if args.json:
        _print({"algorithm": "Ed25519", "public_key": public_key_of(key)})
    else:
        print(public_key_of(key))
    return 0


def _export(args: argparse.Namespace) -> int:
    from audit.checkpoint import load_or_create_key
    from audit.export import export_events, position_range
    from composition.bootstrap import build

    key = load_or_create_key(key_file(args.key))
    container = build()
    try:
        first, last = args.from_position, args.to_position
        if args.since or args.until:
            lo, hi = position_range(container.pool, args.since, args.until)
            first, last = max(first, lo), hi if last is None else min(last, hi)
            if lo == 0 or hi == 0:
                first, last = 1, 0  # nothing in that time range
        out = open(args.out, "wb") if args.out else sys.stdout.buffer  # noqa: SIM115
        try:
            count = export_events(
                container.pool,
                key,
                out,
                from_position=first,
                to_position=last,
                fmt=args.format,
                now_ms=int(time.time() * 1000),
            )
        finally:
            if args.out:
                out.close()
    finally:
        container.close()
    print(f"exported {count} events", file=sys.stderr)
    return 0


def _forget(args: argparse.Namespace) -> int:
    from commands.context import CommandContext
    from composition.bootstrap import build
    from domain.customer.commands import ForgetCustomer

    container = build()
    try:
        result = container.dispatcher.handle(
            ForgetCustomer(customer_id=args.customer_id, reason=args.reason),
            CommandContext.new(args.actor),
        )
        container.runner.catch_up(["privacy_erasure"])
    finally:
        container.close()
    _print({"customer_id": str(args.customer_id), "forgotten": True, "position": result.position})
    return 0


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def register(sub, *, events) -> None:  # noqa: ANN001 - argparse's private action types
    audit = sub.add_parser(
        "audit", help="tamper evidence: verify the hash chain, checkpoints, the public key"
    )
    asub = audit.add_subparsers(dest="action", required=True)
    verify = asub.add_parser("verify", help="walk the hash chain (or an export file)")
    verify.add_argument("--checkpoint", help="a signed checkpoint file to verify through")
    verify.add_argument("--public-key", help="the pinned key (base64, or a file holding it)")
    verify.add_argument("--file", help="verify an export (JSON lines or CSV) offline")
    verify.add_argument("--no-chain", action="store_true", help="do not extend the chain first")
    verify.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the chain to reach the head"
    )
    verify.set_defaults(func=_verify)
    public_key = asub.add_parser("public-key", help="print the public key that signs tree heads")
    public_key.add_argument("--key", help="Ed25519 key file (default ECOM_AUDIT_KEY_FILE)")
    public_key.add_argument("--json", action="store_true", help="{algorithm, public_key}")
    public_key.set_defaults(func=_public_key)
    checkpoint = asub.add_parser("checkpoint", help="write a signed checkpoint of the chain head")
    checkpoint.add_argument("--out", required=True, help="where to write the checkpoint")
    checkpoint.add_argument("--key", help="Ed25519 key file (default ECOM_AUDIT_KEY_FILE)")
    checkpoint.set_defaults(func=_checkpoint)

    export = events.add_parser("export", help="stream events to JSON lines or CSV")
    export.add_argument("--from-position", type=int, default=1)
    export.add_argument("--to-position", type=int)
    export.add_argument("--since", type=_instant, help="ISO instant (first event at or after)")
    export.add_argument("--until", type=_instant, help="ISO instant (last event at or before)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", help="file to write (default standard output)")
    export.add_argument("--key", help="Ed25519 key signing its tree head (ECOM_AUDIT_KEY_FILE)")
    export.set_defaults(func=_export)

    customers = sub.add_parser("customers", help="customers: the right to be forgotten")
    csub = customers.add_subparsers(dest="action", required=True)
    forget = csub.add_parser("forget", help="destroy a customer's data key")
    forget.add_argument("customer_id", type=UUID)
    forget.add_argument("--reason", default="customer_request")
    forget.add_argument("--actor", default="cli")
    forget.set_defaults(func=_forget)
