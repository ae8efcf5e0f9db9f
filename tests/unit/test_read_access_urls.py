"""The URLs ``ecom db url`` prints and the password verifier the service sends, without a
database (the integration tests connect with them: tests/integration/test_analyst_access.py)."""

from __future__ import annotations

from eventstore.read_access import analyst_url, libpq_url, scram_verifier


def test_the_read_only_url_swaps_the_credentials_and_keeps_the_server():
    url = analyst_url("postgresql://svc:secret@db.example:6543/shop?sslmode=require", "p@ss word")
    assert url == (
        "postgresql://ecom_analyst_login:p%40ss%20word@db.example:6543/shop?sslmode=require"
    )
    assert analyst_url("host=db.example dbname=shop user=svc password=x", None) == (
        "postgresql://ecom_analyst_login@db.example/shop"
    )


def test_a_socket_directory_goes_in_the_query_string():
    url = libpq_url({"user": "u", "host": "/tmp/sock dir", "port": 5432, "dbname": "postgres"})
    assert url == "postgresql://u@/postgres?host=/tmp/sock%20dir&port=5432"


def test_the_verifier_has_postgresqls_shape_and_hides_the_password():
    verifier = scram_verifier("pencil", salt=bytes(16))
    head, keys = verifier.rsplit("$", 1)
    assert head == "SCRAM-SHA-256$4096:AAAAAAAAAAAAAAAAAAAAAA=="
    stored, server = keys.split(":")
    assert len(stored) == len(server) == 44 and "pencil" not in verifier
    assert scram_verifier("pencil") != scram_verifier("pencil")  # a fresh salt each time
