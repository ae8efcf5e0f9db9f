"""Schema migrations, applied at deploy time (``ecom migrate``, and by ``serve`` on start)
under one advisory lock, so many processes starting at once never race on DDL.

Order: the library's event table first (``create_table`` of the recorder), then our numbered
SQL files, then each read model's schema.
"""

from __future__ import annotations

from importlib import resources

import psycopg

from eventstore.lock_keys import MIGRATION as MIGRATION_LOCK_KEY


def sql_files() -> list[tuple[str, str]]:
    files = [f for f in resources.files(__package__).iterdir() if f.name.endswith(".sql")]
    return sorted((f.name, f.read_text()) for f in files)


def apply(url: str, create_event_table, ensure_read_models=None) -> list[str]:  # noqa: ANN001
    """Apply what is missing; return the names of the files applied now."""
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            create_event_table()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in sql_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                applied_now.append(name)
            if ensure_read_models is not None:
                ensure_read_models()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied_now
