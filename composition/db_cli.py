"""``ecom db url [--read-only]``: the libpq URL of the service's database, to paste into
``psql``. Plain, it is the service's own (``ECOM_DATABASE_URL``, else the embedded PostgreSQL
running on ``$ECOM_DATA_DIR/pg``); with ``--read-only``, the same server and database as the
analysts' login role (``eventstore/read_access.py``, docs/database.md). Nothing is started: with
no ``ECOM_DATABASE_URL`` and no embedded server running it says so and exits 1."""

from __future__ import annotations

import argparse
import sys

from psycopg.conninfo import conninfo_to_dict

from composition.settings import Settings


def _url(args: argparse.Namespace) -> int:
    from eventstore.database import running_embedded_url
    from eventstore.read_access import analyst_url, libpq_url

    settings = Settings.from_env()
    url = settings.database_url or running_embedded_url(settings.data_dir)
    if url is None:
        print(
            f"ecom db url: no ECOM_DATABASE_URL and no embedded PostgreSQL running in "
            f"{settings.data_dir.resolve() / 'pg'} (start it with `ecom serve`)",
            file=sys.stderr,
        )
        return 1
    if args.read_only:
        print(analyst_url(url, settings.analyst_password))
    else:
        print(libpq_url(conninfo_to_dict(url)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the database: where it is, and how analysts reach it")
    dsub = db.add_subparsers(dest="action", required=True)
    url = dsub.add_parser("url", help="print a libpq URL of the database (for psql)")
    url.add_argument(
        "--read-only",
        action="store_true",
        help="as the read-only analyst role (SELECT on the read models and the event log)",
    )
    url.set_defaults(func=_url)
