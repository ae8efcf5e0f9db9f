"""The analysts' read-only role and the append-only log, on the test's PostgreSQL (embedded or
server): the login role reads every read model and the log and writes nothing; UPDATE, DELETE
and TRUNCATE of ``stored_events`` fail for it (no privilege) and for the service's own role
(the guard triggers); only an owner who switches triggers off gets past, as an attacker would.
"""

from __future__ import annotations

import threading
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from commands.context import CommandContext
from composition import cli
from composition.bootstrap import build
from composition.settings import Settings
from domain.location.commands import RegisterLocation
from eventstore.read_access import ANALYST_LOGIN, analyst_url, set_login_password
from projections.base import live_schema
from tests.factories import send

REWRITES = (
    "UPDATE stored_events SET topic = topic WHERE notification_id = %(p)s",
    "DELETE FROM stored_events WHERE notification_id = %(p)s",
    "TRUNCATE stored_events",
)


@pytest.fixture(scope="module")
def position(container) -> int:
    """The position of an event of ours: rewrites below aim at a row that exists."""
    outcome = send(
        container,
        RegisterLocation(code=f"AN-{uuid4().hex[:8]}", name="Analyst", type="store", priority=9),
        CommandContext.new("analyst-test"),
    )
    return outcome.position


@pytest.fixture
def analyst(container):
    with psycopg.connect(analyst_url(container.url, None), autocommit=True) as conn:
        yield conn


def _read_model_tables(conn) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname LIKE 'rm\\_%%' AND c.relkind IN ('r', 'p', 'v', 'm')"
        " ORDER BY 1, 2"
    ).fetchall()


def test_the_analyst_logs_in_as_the_read_only_role(analyst):
    row = analyst.execute(
        "SELECT current_user, pg_has_role(current_user, 'ecom_analyst', 'USAGE'), "
        "current_setting('default_transaction_read_only')"
    ).fetchone()
    assert row == (ANALYST_LOGIN, True, "on")


def test_the_analyst_reads_every_read_model_table_and_the_log(container, analyst, position):
    tables = _read_model_tables(analyst)
    assert len(tables) >= 20
    for schema, table in tables:
        analyst.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
    assert analyst.execute(
        "SELECT type, metadata->>'actor' FROM event_log WHERE position = %s", (position,)
    ).fetchone() == ("location.LocationRegistered", "analyst-test")
    assert analyst.execute(
        "SELECT count(*) FROM stored_events WHERE notification_id = %s", (position,)
    ).fetchone() == (1,)
    # every event of the session decodes (no row makes the view fail a full scan)
    decoded, events = analyst.execute(
        "SELECT (SELECT count(*) FROM event_log WHERE data IS NOT NULL AND metadata IS NOT NULL"
        " AND schema_version >= 1), (SELECT count(*) FROM stored_events)"
    ).fetchone()
    assert decoded == events >= 1


@pytest.mark.parametrize("statement", REWRITES)
def test_the_analyst_may_not_rewrite_the_log(analyst, position, statement):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        analyst.execute(statement, {"p": position})
    # Even with its sessions' read-only default switched off, it has no privilege to.
    analyst.execute("SET default_transaction_read_only = off")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        analyst.execute(statement, {"p": position})


def test_the_analyst_writes_nothing_anywhere(analyst):
    analyst.execute("SET default_transaction_read_only = off")
    attempts = [
        sql.SQL("INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (gen_random_uuid(), 1, 'x.Forged', '\\x7b7d')"),
        sql.SQL("DELETE FROM {}.locations").format(sql.Identifier(live_schema("locations"))),
        sql.SQL("UPDATE {}.tracking SET position = 0").format(
            sql.Identifier(live_schema("locations"))
        ),
        sql.SQL("CREATE TABLE {}.mine (x int)").format(sql.Identifier(live_schema("locations"))),
        sql.SQL("SELECT * FROM customer_keys"),
        sql.SQL("SELECT * FROM idempotency_keys"),
    ]  # fmt: skip
    for statement in attempts:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            analyst.execute(statement)


@pytest.mark.parametrize("statement", REWRITES)
def test_the_service_role_may_not_rewrite_the_log_either(container, position, statement):
    with container.pool.connection() as conn:
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            conn.execute(statement, {"p": position})
        with pytest.raises(psycopg.errors.RestrictViolation):  # even one matching no row
            conn.execute("DELETE FROM stored_events WHERE false")
        assert conn.execute(
            "SELECT count(*) FROM stored_events WHERE notification_id = %s", (position,)
        ).fetchone() == (1,)


def test_only_an_owner_switching_triggers_off_gets_past_the_guard(container, position):
    """How tests play an attacker with the owner's powers; rolled back here."""
    with container.pool.connection() as conn:
        with pytest.raises(psycopg.errors.RestrictViolation), conn.transaction():
            conn.execute(
                "UPDATE stored_events SET topic = 'x' WHERE notification_id = %s", (position,)
            )
        with conn.transaction(force_rollback=True):
            conn.execute("SET LOCAL session_replication_role = replica")
            done = conn.execute(
                "UPDATE stored_events SET topic = 'x.Tampered' WHERE notification_id = %s",
                (position,),
            )
            assert done.rowcount == 1
        assert conn.execute(
            "SELECT topic FROM stored_events WHERE notification_id = %s", (position,)
        ).fetchone() == ("location.LocationRegistered",)


def test_a_rebuilt_view_stays_readable_by_the_analyst(container, analyst, position):
    container.runner.rebuild("locations")
    assert (
        analyst.execute(
            sql.SQL("SELECT count(*) FROM {}.locations WHERE name = 'Analyst'").format(
                sql.Identifier(live_schema("locations"))
            )
        ).fetchone()[0]
        >= 1
    )


def test_every_read_model_table_and_column_has_a_comment(container):
    with container.pool.connection() as conn:
        missing = conn.execute(
            "SELECT n.nspname || '.' || c.relname || coalesce('.' || a.attname, '')"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
            "  AND NOT a.attisdropped"
            " WHERE n.nspname LIKE 'rm\\_%%' AND c.relkind IN ('r', 'p', 'v', 'm')"
            "  AND (obj_description(c.oid, 'pg_class') IS NULL"
            "   OR (a.attnum IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))"
            " ORDER BY 1"
        ).fetchall()
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rm\\_%%'"
        ).fetchone()[0]
    assert schemas >= len(container.runner.projections)
    assert [m for (m,) in missing] == []


def test_the_log_view_and_its_columns_are_described(container):
    with container.pool.connection() as conn:
        rows = conn.execute(
            "SELECT a.attname, col_description('event_log'::regclass, a.attnum)"
            " FROM pg_attribute a WHERE a.attrelid = 'event_log'::regclass AND a.attnum > 0"
        ).fetchall()
        assert obj_comment(conn, "event_log")
    assert rows and all(text for _, text in rows)


def obj_comment(conn, name: str) -> str | None:
    return conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (name,)).fetchone()[0]


def test_ecom_db_url_prints_a_url_psql_reads(container, capsys, monkeypatch):
    monkeypatch.setenv("ECOM_DATABASE_URL", container.url)
    monkeypatch.delenv("ECOM_ANALYST_PASSWORD", raising=False)
    assert cli.main(["db", "url", "--read-only"]) == 0
    read_only = capsys.readouterr().out.strip()
    assert cli.main(["db", "url"]) == 0
    service = capsys.readouterr().out.strip()
    assert read_only.startswith("postgresql://") and service.startswith("postgresql://")
    with psycopg.connect(read_only) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (ANALYST_LOGIN,)
    with psycopg.connect(service) as conn:
        assert conn.execute("SELECT current_user").fetchone() != (ANALYST_LOGIN,)


def test_a_configured_password_reaches_the_server_as_a_scram_verifier(container):
    with container.pool.connection() as conn:
        assert set_login_password(conn, "analyst-pw")
        stored = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (ANALYST_LOGIN,)
        ).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$4096:") and "analyst-pw" not in stored


def test_many_processes_deploying_at_once_set_it_up_once(container):
    """Four containers migrate a fresh database at the same moment: all succeed, and the
    grants, triggers and comments are there once, as after a single deploy."""
    name = f"ecom_test_deploy_{uuid4().hex[:8]}"
    with psycopg.connect(container.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_conninfo(container.url, dbname=name)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def deploy() -> None:
        try:
            c = build(Settings(database_url=url, pool_size=2), url=url)
            try:
                start.wait(30)
                c.migrate()
            finally:
                c.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deploy) for _ in range(4)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        with psycopg.connect(url) as conn:
            triggers = conn.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'stored_events'::regclass"
                " AND NOT tgisinternal"
            ).fetchone()[0]
            readable = conn.execute(
                "SELECT count(*) FILTER (WHERE has_table_privilege('ecom_analyst', c.oid,"
                " 'SELECT')), count(*) FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname LIKE 'rm\\_%%' AND c.relkind = 'r'"
            ).fetchone()
        assert triggers == 2
        assert readable[0] == readable[1] > 20
    finally:
        with psycopg.connect(container.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
