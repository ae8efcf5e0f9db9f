"""Counts the statements a process sends, by thread and statement, for
``bench/statement_counts.py``: imported at start-up by every Python process whose ``PYTHONPATH``
holds this folder, active only when ``ECOM_STATEMENT_PROBE_DIR`` names a folder. psycopg's
``Cursor.execute`` and ``executemany`` are wrapped to count; every half second the counts so
far go to ``<dir>/counts.<pid>.json``. A benchmark's instrument, never part of the service."""

import collections
import json
import os
import threading
import time

_DIR = os.environ.get("ECOM_STATEMENT_PROBE_DIR")


def _install(folder: str) -> None:
    import psycopg
    from psycopg import sql

    counts: collections.Counter = collections.Counter()
    lock = threading.Lock()
    execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

    def key(cur, query) -> str:  # noqa: ANN001
        if isinstance(query, sql.Composable):
            text = query.as_string(cur.connection)
        elif isinstance(query, bytes):
            text = query.decode(errors="replace")
        else:
            text = str(query)
        return f"{threading.current_thread().name} | {' '.join(text.split())[:100]}"

    def counted_execute(self, query, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        with lock:
            counts[key(self, query)] += 1
        return execute(self, query, *args, **kwargs)

    def counted_executemany(self, query, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        with lock:
            counts["many " + key(self, query)] += 1
        return executemany(self, query, *args, **kwargs)

    psycopg.Cursor.execute = counted_execute
    psycopg.Cursor.executemany = counted_executemany
    path = os.path.join(folder, f"counts.{os.getpid()}.json")

    def dump() -> None:
        while True:
            time.sleep(0.5)
            with lock:
                data = dict(counts)
            with open(path + ".tmp", "w") as f:
                json.dump(data, f)
            os.replace(path + ".tmp", path)

    threading.Thread(target=dump, daemon=True, name="statement-probe").start()


if _DIR:
    _install(_DIR)
