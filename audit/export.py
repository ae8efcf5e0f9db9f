"""Event exports for auditors (JSON lines or CSV), streamed in windows of positions so memory
stays constant for any size, and their offline verification.

Each record carries the decoded event (personal data decrypted, or erased once forgotten), the
stored ``state`` exactly as the store holds it (personal leaves as ciphertext) and the event's
chain ``hash``; JSON lines start with a header giving the chain hash before the first record
(CSV repeats it per row as ``previous_hash``). ``verify_export`` recomputes the chain from the
file alone and, with a signed checkpoint inside the exported range, checks it there.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from uuid import UUID

import orjson
from psycopg_pool import ConnectionPool

from audit.chain import GENESIS, ChainRow, walk
from audit.checkpoint import Checkpoint
from audit.verify import VerifyReport
from eventstore.mapper import EventMapper

WINDOW = 5000
CSV_COLUMNS = (
    "position",
    "stream_id",
    "stream_type",
    "version",
    "type",
    "schema_version",
    "occurred_at",
    "actor",
    "correlation_id",
    "causation_id",
    "data",
    "state",
    "hash",
    "previous_hash",
    "recorded_at",
)


def position_range(
    pool: ConnectionPool, since: datetime | None, until: datetime | None
) -> tuple[int, int]:
    """The contiguous positions from the first event at or after ``since`` to the last one at
    or before ``until`` (a contiguous range, so that the export still verifies as a chain)."""
    occurred = "(convert_from(state, 'UTF8')::jsonb #>> '{m,occurred_at}')::timestamptz"
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT min(notification_id) FILTER (WHERE %(s)s::timestamptz IS NULL "
            f"OR {occurred} >= %(s)s), max(notification_id) FILTER (WHERE "
            f"%(u)s::timestamptz IS NULL OR {occurred} <= %(u)s) FROM stored_events",
            {"s": since, "u": until},
        ).fetchone()
    return (row[0] or 0), (row[1] or 0)


def _chain_before(conn, position: int) -> bytes:  # noqa: ANN001
    row = conn.execute(
        "SELECT hash FROM event_chain WHERE position < %s ORDER BY position DESC LIMIT 1",
        (position,),
    ).fetchone()
    return GENESIS if row is None else bytes(row[0])


def _rows(conn, first: int, last: int) -> Iterator[tuple]:  # noqa: ANN001
    lo = first - 1
    while lo < last:
        hi = min(last, lo + WINDOW)
        with conn.cursor(binary=True) as cur:
            cur.execute(
                "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
                "e.state, c.hash, e.recorded_at FROM stored_events e LEFT JOIN event_chain c "
                "ON c.position = e.notification_id WHERE e.notification_id > %s "
                "AND e.notification_id <= %s ORDER BY e.notification_id",
                (lo, hi),
            )
            yield from cur
        lo = hi


def export_events(
    pool: ConnectionPool,
    mapper: EventMapper,
    out: IO[bytes],
    *,
    from_position: int = 1,
    to_position: int | None = None,
    fmt: str = "jsonl",
) -> int:
    """Write the events of ``[from_position, to_position]`` to ``out``; return how many."""
    with pool.connection() as conn:
        if to_position is None:
            to_position = conn.execute(
                "SELECT coalesce(max(notification_id), 0) FROM stored_events"
            ).fetchone()[0]
        previous = _chain_before(conn, from_position)
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text) if fmt == "csv" else None
        if writer is not None:
            writer.writerow(CSV_COLUMNS)
        else:
            header = {"from_position": from_position, "to_position": to_position}
            out.write(orjson.dumps({"export": header, "previous_hash": previous.hex()}) + b"\n")
        count = 0
        for pos, stream_id, version, topic, state, chain_hash, recorded_at in _rows(
            conn, from_position, to_position
        ):
            event = mapper.to_recorded(pos, stream_id, version, topic, state)
            item = event._replace(recorded_at=recorded_at).feed_item()
            item["state"] = bytes(state).decode()
            item["hash"] = None if chain_hash is None else bytes(chain_hash).hex()
            if writer is not None:
                item["data"] = orjson.dumps(item["data"]).decode()
                item["previous_hash"] = previous.hex()
                writer.writerow([item[c] for c in CSV_COLUMNS])
            else:
                out.write(orjson.dumps(item) + b"\n")
            if chain_hash is not None:
                previous = bytes(chain_hash)
            count += 1
        text.detach()
    return count


def _read_records(path) -> tuple[bytes, Iterator[dict[str, Any]]]:  # noqa: ANN001
    handle = open(path, "rb")  # noqa: SIM115 - closed by the generator
    first = handle.readline()
    if first.startswith(b"{"):
        previous = bytes.fromhex(orjson.loads(first)["previous_hash"])

        def lines() -> Iterator[dict[str, Any]]:
            with handle:
                for line in handle:
                    if line.strip():
                        yield orjson.loads(line)

        return previous, lines()
    handle.seek(0)
    reader = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8", newline=""))
    rows = iter(reader)
    head = next(rows, None)
    if head is None:
        return GENESIS, iter(())
    previous = bytes.fromhex(head["previous_hash"])

    def records() -> Iterator[dict[str, Any]]:
        with handle:
            yield head
            yield from rows

    return previous, records()


def verify_export(path, checkpoint: Checkpoint | None = None) -> VerifyReport:  # noqa: ANN001
    """Recompute the chain over an export file (constant memory) and check the checkpoint."""
    previous, records = _read_records(path)
    seen: dict[str, Any] = {"at_checkpoint": None, "last": 0, "unchained": 0}

    def rows() -> Iterator[ChainRow]:
        for r in records:
            position = int(r["position"])
            seen["last"] = position
            if not r.get("hash"):
                seen["unchained"] += 1
                return
            yield ChainRow(
                position,
                UUID(str(r["stream_id"])),
                int(r["version"]),
                r["type"],
                r["state"].encode(),
                bytes.fromhex(r["hash"]),
            )

    def watched() -> Iterator[ChainRow]:
        for row in rows():
            yield row
            if checkpoint is not None and row.position == checkpoint.position:
                seen["at_checkpoint"] = row.hash

    result = walk(watched(), previous=previous, after=0, chained_up_to=2**62)
    if result.ok and checkpoint is not None:
        if seen["at_checkpoint"] is None:
            result.ok = False
            result.first_bad_position = result.last_position + 1
            result.problem = "truncated"
        elif seen["at_checkpoint"] != checkpoint.hash:
            result.ok = False
            result.first_bad_position = checkpoint.position
            result.problem = "checkpoint_mismatch"
    return VerifyReport(
        ok=result.ok,
        events_checked=result.events_checked,
        head=result.last_position,
        head_hash=result.last_hash.hex(),
        first_bad_position=result.first_bad_position,
        problem=result.problem,
        unchained=seen["unchained"],
    )
