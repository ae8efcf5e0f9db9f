"""Read-only access for analysts and auditors: the roles (created by migration 014), the grants
each read-model schema gets when it is created, the login role's password, and the libpq URL
that connects as it (``ecom db url --read-only``; docs/database.md).

``ecom_analyst`` (NOLOGIN) holds SELECT on the read models, the event log and ``event_log``,
and nothing else; ``ecom_analyst_login`` is a member that can log in, read-only by default.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

#: The group role that holds the read-only privileges (grant it to people's own roles).
ANALYST_ROLE = "ecom_analyst"
#: The login role the service ships, a member of ``ANALYST_ROLE``.
ANALYST_LOGIN = "ecom_analyst_login"


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def grant_read(conn: psycopg.Connection, schema: str) -> None:
    """Let the analyst role read every table of ``schema`` (a read model's, at its creation or
    at deploy time; a rebuild's ``__next`` schema gets it before it is swapped in). Nothing if
    the role is missing (a managed server whose DBA has not created it)."""
    if not _role_exists(conn, ANALYST_ROLE):
        return
    ident, role = sql.Identifier(schema), sql.Identifier(ANALYST_ROLE)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident, role))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(ident, role))


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802/7677), made here so
    that the password itself never reaches the server's statement log."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


def set_login_password(conn: psycopg.Connection, password: str) -> bool:
    """Give the login role ``password`` (deploy time, under the migration lock). False when the
    role is missing or the service may not alter it (the DBA's job then)."""
    if not _role_exists(conn, ANALYST_LOGIN):
        return False
    statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
        sql.Identifier(ANALYST_LOGIN), sql.Literal(scram_verifier(password))
    )
    for attempt in range(3):
        try:
            with conn.transaction():
                conn.execute(statement)
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False
        except psycopg.errors.InternalError_:  # "tuple concurrently updated": another
            if attempt == 2:  # database of the cluster set it at this moment
                raise
            time.sleep(0.1)
    return False


def libpq_url(params: dict[str, object]) -> str:
    """A ``postgresql://`` URL from connection parameters; a socket directory (a ``host`` that
    is a path) goes in the query string, as libpq reads it."""
    params = {k: str(v) for k, v in params.items() if v not in (None, "")}
    user, password = params.pop("user", ""), params.pop("password", "")
    host, port = params.pop("host", ""), params.pop("port", "")
    dbname = params.pop("dbname", "")
    userinfo = quote(user, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    netloc = (userinfo + "@") if userinfo else ""
    query: dict[str, str] = {}
    if host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = port
    else:
        netloc += f"[{host}]" if ":" in host else host
        if port:
            netloc += f":{port}"
    query.update(params)
    tail = ("?" + urlencode(query, quote_via=quote, safe="/")) if query else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{tail}"


def analyst_url(service_url: str, password: str | None) -> str:
    """The service's URL with the login role (and its password, when one is configured) in
    place of the service's credentials: same server, same database."""
    params = conninfo_to_dict(service_url)
    params["user"] = ANALYST_LOGIN
    params["password"] = password or ""
    return libpq_url(params)
