"""Event exports for auditors (JSON lines or CSV) that anyone can check offline with the
standalone verifier (``audit/ecom_verify.py``, which defines the format and every check).

Each record is one event's Merkle leaf (``audit/leaf.py``, the exact bytes hashed, in base64),
its leaf hash and the fields an auditor reads, copied from that leaf: personal data stays
ciphertext, so every field shown is a field hashed. The file ends with a tree head signed by the
audit key for its last position, and the key's fingerprint (never the key: auditors pin it).

An export always covers the tree over positions 1..N: an export that starts later (by position
or time) carries, instead of the earlier events, the hashes of the complete subtrees over
positions before its first (a Merkle "compact range"), so its signed root is the log's root.
A position no event holds (a rolled-back insert used its number) has the gap leaf
``{"gap":true,"position":p}`` (``audit.leaf.gap_leaf``), so that leaf index = position - 1.
Rows are read in windows of positions; memory stays constant whatever the size.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg_pool import ConnectionPool

from audit import ecom_verify, tree_head
from audit.leaf import encode, leaf_record
from audit.merkle import leaf_hash

WINDOW = 5000


def position_range(
    pool: ConnectionPool, since: datetime | None, until: datetime | None
) -> tuple[int, int]:
    """The contiguous positions from the first event at or after ``since`` to the last one at
    or before ``until``."""
    occurred = "(convert_from(state, 'UTF8')::jsonb #>> '{m,occurred_at}')::timestamptz"
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT min(notification_id) FILTER (WHERE %(s)s::timestamptz IS NULL "
            f"OR {occurred} >= %(s)s), max(notification_id) FILTER (WHERE "
            f"%(u)s::timestamptz IS NULL OR {occurred} <= %(u)s) FROM stored_events",
            {"s": since, "u": until},
        ).fetchone()
    return (row[0] or 0), (row[1] or 0)


def gap_record(position: int) -> dict[str, Any]:
    """The leaf record of a position no event holds (``audit.leaf.gap_leaf``: an insert that
    rolled back still used its number); an export shows it with every view field but
    ``position`` null."""
    return {"gap": True, "position": position}


def _leaves(conn, last: int) -> Iterator[dict[str, Any]]:  # noqa: ANN001
    """The leaf records of positions 1..last in order (``last`` no later than the last event)."""
    expected, lo = 1, 0
    while lo < last:
        hi = min(last, lo + WINDOW)
        with conn.cursor(binary=True) as cur:
            cur.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state, "
                "recorded_at FROM stored_events WHERE notification_id > %s "
                "AND notification_id <= %s ORDER BY notification_id",
                (lo, hi),
            )
            for row in cur:
                for missing in range(expected, row[0]):
                    yield gap_record(missing)
                yield leaf_record(*row)
                expected = row[0] + 1
        lo = hi


def export_record(leaf: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """One event's export record (view, leaf, leaf_hash) and its leaf bytes."""
    raw = encode(leaf)
    record = {name: leaf.get(name) for name in ecom_verify.VIEW_FIELDS}
    record["leaf"] = base64.b64encode(raw).decode()
    record["leaf_hash"] = leaf_hash(raw).hex()
    return record, raw


def _marker_row(mark: str, doc: dict[str, Any]) -> list[str]:
    row = [""] * len(ecom_verify.COLUMNS)
    row[0], row[ecom_verify.COLUMNS.index("data")] = mark, ecom_verify.canonical(doc)
    return row


def export_events(
    pool: ConnectionPool,
    key: Ed25519PrivateKey,
    out: IO[bytes],
    *,
    from_position: int = 1,
    to_position: int | None = None,
    fmt: str = "jsonl",
    now_ms: int,
) -> int:
    """Write the export of the tree over ``1..to_position`` (default: the last event) with the
    events from ``from_position`` in full, signed by ``key`` at ``now_ms``; return how many
    events were written in full."""
    with pool.connection() as conn:
        newest = conn.execute(
            "SELECT coalesce(max(notification_id), 0) FROM stored_events"
        ).fetchone()[0]
        to_position = newest if to_position is None else min(to_position, newest)
        first = min(max(from_position, 1), to_position + 1)
        frontier = ecom_verify.Frontier()
        leaves = _leaves(conn, to_position)
        for _ in range(first - 1):
            frontier.append(leaf_hash(encode(next(leaves))))
        header = {
            "format": ecom_verify.FORMAT,
            "note": ecom_verify.NOTE,
            "first_position": first,
            "prefix": [h.hex() for h in frontier.hashes],
        }
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(ecom_verify.COLUMNS)
            writer.writerow(_marker_row(ecom_verify.CSV_HEADER_MARK, header))
        else:
            out.write(orjson.dumps({"export": header}) + b"\n")
        count = 0
        for leaf in leaves:
            record, raw = export_record(leaf)
            frontier.append(leaf_hash(raw))
            if writer is not None:
                writer.writerow([ecom_verify.cell(record[c]) for c in ecom_verify.COLUMNS])
            else:
                out.write(orjson.dumps(record) + b"\n")
            count += 1
        head = tree_head.sign(key, to_position, frontier.root(), now_ms)
        public = key.public_key()
        tail = {"tree_head": head, "public_key_fingerprint": ecom_verify.fingerprint(public)}
        if writer is not None:
            writer.writerow(_marker_row(ecom_verify.CSV_HEAD_MARK, tail))
        else:
            out.write(orjson.dumps(tail) + b"\n")
        text.detach()
    return count
