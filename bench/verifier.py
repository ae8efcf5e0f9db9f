"""Benchmark: the standalone verifier (``audit/ecom_verify.py``) on a synthetic export.

Writes an export of N events (leaves shaped like the store's: metadata, recorded_at, a data
object of about 250 bytes with an encrypted-looking personal field) with the exporter's own
record and head code, signs it with a fresh key, then times ``ecom-verify export`` on it
(in process, JSON lines and CSV), in wall-clock and in CPU seconds (the machine is shared).
No database: this measures the auditor's side alone.

    .venv/bin/python -m bench.verifier --events 100000
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path
from uuid import UUID

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import ecom_verify, tree_head
from audit.export import export_record
from audit.merkle import leaf_hash


def leaf(position: int) -> dict:
    return {
        "position": position,
        "stream_id": str(UUID(int=position // 10)),
        "stream_type": "order",
        "version": position % 10 + 1,
        "type": "order.OrderPlaced",
        "recorded_at": "2026-12-05T17:00:00.123456+00:00",
        "schema_version": 1,
        "subject": str(UUID(int=position // 10 + 7)),
        "occurred_at": "2026-12-05T17:00:00+00:00",
        "actor": "customer-7",
        "correlation_id": f"{position:032x}",
        "causation_id": f"{position + 1:032x}",
        "data": {
            "sku": f"SKU-{position % 977:04d}",
            "quantity": position % 5 + 1,
            "amount": "19.99",
            "shipping_address": {"name": "enc:v1:" + "Qk" * 30, "country": "FR"},
        },
    }


def write(path: Path, count: int, fmt: str, key: Ed25519PrivateKey) -> None:
    frontier = ecom_verify.Frontier()
    header = {
        "format": ecom_verify.FORMAT,
        "note": ecom_verify.NOTE,
        "first_position": 1,
        "prefix": [],
    }
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out) if fmt == "csv" else None
        if writer:
            writer.writerow(ecom_verify.COLUMNS)
            row = [""] * len(ecom_verify.COLUMNS)
            row[0], row[10] = ecom_verify.CSV_HEADER_MARK, ecom_verify.canonical(header)
            writer.writerow(row)
        else:
            out.write(orjson.dumps({"export": header}).decode() + "\n")
        for p in range(1, count + 1):
            record, raw = export_record(leaf(p))
            frontier.append(leaf_hash(raw))
            if writer:
                writer.writerow([ecom_verify.cell(record[c]) for c in ecom_verify.COLUMNS])
            else:
                out.write(orjson.dumps(record).decode() + "\n")
        head = tree_head.sign(key, count, frontier.root(), int(time.time() * 1000))
        tail = {
            "tree_head": head,
            "public_key_fingerprint": ecom_verify.fingerprint(key.public_key()),
        }
        if writer:
            row = [""] * len(ecom_verify.COLUMNS)
            row[0], row[10] = ecom_verify.CSV_HEAD_MARK, ecom_verify.canonical(tail)
            writer.writerow(row)
        else:
            out.write(orjson.dumps(tail).decode() + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000)
    args = p.parse_args()
    key = Ed25519PrivateKey.generate()
    print("| format | events | file MB | seconds | rate | CPU seconds | rate per CPU second |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in ("jsonl", "csv"):
            path = Path(folder) / f"export.{fmt}"
            write(path, args.events, fmt, key)
            t, cpu = time.monotonic(), time.process_time()
            report = ecom_verify.check_export_file(str(path), key.public_key())
            seconds, cpu = time.monotonic() - t, time.process_time() - cpu
            assert report.ok and report.events_checked == args.events, report
            size = path.stat().st_size / 1e6
            print(
                f"| {fmt} | {args.events:,} | {size:.0f} | {seconds:.1f} | "
                f"{args.events / seconds:,.0f}/s | {cpu:.1f} | {args.events / cpu:,.0f}/s |"
            )


if __name__ == "__main__":
    main()
