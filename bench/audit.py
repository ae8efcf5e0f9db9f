"""Benchmark: the audit hash chain and exports over a large store.

Fills a fresh database with N synthetic events (one INSERT ... SELECT, like a bulk import),
then measures: the chainer extending the chain over all of them, ``verify`` walking the whole
chain, a JSON-lines export of everything with its signed tree head (to a sink that discards,
so the disk is not measured), and the standalone verifier (``audit/ecom_verify.py``) on an
export file of a slice. Prints a Markdown
section for docs/benchmarks.md.

    .venv/bin/python -m bench.audit --events 1000000
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import ecom_verify
from audit.export import export_events
from audit.verify import verify
from bench.common import container_on, fresh_database, machine, parser, rate


class Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # noqa: ANN001
        return len(b)


def fill(url: str, count: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "SELECT md5((i / 10)::text)::uuid, i %% 10 + 1, 'bench.Ticked', convert_to("
            "json_build_object('v', 1, 'm', json_build_object('occurred_at', "
            "'2026-11-28T10:00:00+00:00', 'actor', 'bench', 'correlation_id', "
            "md5(i::text), 'causation_id', md5(i::text)), 'd', json_build_object('n', i, "
            "'sku', 'SKU-' || lpad((i %% 977)::text, 4, '0'), 'note', "
            "'synthetic benchmark event'))::text, 'UTF8') "
            "FROM generate_series(0, %s - 1) AS i ORDER BY i",
            (count,),
        )
        conn.execute("ANALYZE stored_events")


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--slice", type=int, default=100_000, help="events in the offline check")
    args = p.parse_args()
    with fresh_database(args.url, args.keep) as url, container_on(url) as c:
        t = time.monotonic()
        fill(url, args.events)
        fill_s = time.monotonic() - t

        t = time.monotonic()
        chained = c.chainer.catch_up()
        chain_s = time.monotonic() - t

        t = time.monotonic()
        report = verify(c.pool, mac_key=c.chainer.mac_key)
        verify_s = time.monotonic() - t
        assert report.ok and report.events_checked == args.events, report

        key, now_ms = Ed25519PrivateKey.generate(), int(time.time() * 1000)
        t = time.monotonic()
        exported = export_events(c.pool, key, Discard(), now_ms=now_ms)
        export_s = time.monotonic() - t

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "slice.jsonl"
            with path.open("wb") as out:
                export_events(c.pool, key, out, to_position=args.slice, now_ms=now_ms)
            t = time.monotonic()
            offline = ecom_verify.check_export_file(str(path), key.public_key())
            offline_s = time.monotonic() - t
            assert offline.ok, offline

        print(f"### (c) Audit chain and exports ({args.events:,} events)\n")
        print(f"Machine: {machine(url)}\n")
        print("| step | events | seconds | rate |")
        print("|---|---:|---:|---:|")
        print(
            f"| bulk fill (INSERT ... SELECT) | {args.events:,} | {fill_s:.1f} | "
            f"{rate(args.events, fill_s)} |"
        )
        print(
            f"| chainer catch-up (sha256 + COPY) | {chained:,} | {chain_s:.1f} | "
            f"{rate(chained, chain_s)} |"
        )
        print(
            f"| `verify` (whole chain, windowed full join) | {report.events_checked:,} | "
            f"{verify_s:.1f} | {rate(report.events_checked, verify_s)} |"
        )
        print(
            f"| export JSON lines (leaf, view, leaf hash; to a sink) | {exported:,} | "
            f"{export_s:.1f} | {rate(exported, export_s)} |"
        )
        print(
            f"| `ecom-verify export` of an export file | {offline.events_checked:,} | "
            f"{offline_s:.1f} | {rate(offline.events_checked, offline_s)} |"
        )


if __name__ == "__main__":
    main()
