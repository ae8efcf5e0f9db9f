"""``make bench``: every benchmark once, on one fresh database each, then a summary table.

Defaults keep it under ten minutes on a small machine: 4,000 commands per append
configuration; a rebuild over 200,000 events, and the library's runner (one transaction per
event) over the first 20,000 of them."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bench import append, rebuild
from bench.common import DEFAULT_SERVER, fresh_database, machine, parser


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__.split("\n")[0])
    p.add_argument("--commands", type=int, default=4_000)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--library-events", type=int, default=20_000)
    args = p.parse_args(argv)
    url = ["--url", args.url or DEFAULT_SERVER]
    with fresh_database(args.url) as db:
        where = machine(db)
    print(f"== {where}", flush=True)
    print("== append", flush=True)
    appends = append.main([*url, "--commands", str(args.commands)])
    print("== rebuild", flush=True)
    rb = rebuild.main(
        [*url, "--events", str(args.events), "--library-events", str(args.library_events)]
    )
    print("\n| benchmark | ours | baseline (same run) |\n|---|---|---|")
    for r in appends:
        print(
            f"| append, {r['threads']} writer thread(s), 1 event per command "
            f"| {r['commands'] / r['ours_s']:,.0f} commands/s "
            f"| raw INSERT: {r['commands'] / r['raw_s']:,.0f} rows/s |"
        )
    print(
        f"| projection rebuild, {rb['events']:,} events "
        f"| {rb['events'] / rb['ours_s']:,.0f} events/s "
        f"| library ProjectionRunner ({rb['library_events']:,} events): "
        f"{rb['library_events'] / rb['library_s']:,.0f} events/s |"
    )
    print(
        f"| projection rebuild, {rb['events']:,} events, view that writes nothing "
        f"| {rb['events'] / rb['null_s']:,.0f} events/s | (the runner alone) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
