"""``ecom token``: mints what the server accepts, with the configured secret or the dev one."""

from __future__ import annotations

from uuid import uuid4

import pytest

from api.authentication import AuthConfig, verify
from composition.cli import main
from composition.settings import Settings

SECRET = "cli-" + "c" * 40


def test_a_minted_token_verifies_with_the_configured_secret(monkeypatch, capsys):
    monkeypatch.setenv("ECOM_JWT_SECRET", SECRET)
    assert main(["token", "--role", "merchant", "--sub", "m-1", "--ttl", "60"]) == 0
    token = capsys.readouterr().out.strip()
    assert verify(AuthConfig("HS256", SECRET, SECRET), token).role == "merchant"


def test_without_a_secret_the_dev_secret_in_the_data_dir_is_used(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("ECOM_JWT_SECRET", raising=False)
    monkeypatch.setenv("ECOM_DATA_DIR", str(tmp_path))
    customer = str(uuid4())
    assert main(["token", "--role", "customer", "--sub", customer]) == 0
    token = capsys.readouterr().out.strip()
    server = AuthConfig.from_settings(Settings.from_env())
    assert verify(server, token).id == customer


def test_a_customer_sub_must_be_a_customer_id_and_roles_are_checked(monkeypatch, capsys):
    monkeypatch.setenv("ECOM_JWT_SECRET", SECRET)
    assert main(["token", "--role", "customer", "--sub", "bob"]) == 2
    with pytest.raises(SystemExit):
        main(["token", "--role", "root", "--sub", "x"])
    with pytest.raises(SystemExit):
        main(["token", "--role", "admin", "--sub", "x", "--ttl", "0"])
