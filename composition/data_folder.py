"""Which data folder an ``ecom`` command works on (the embedded PostgreSQL's files, the
development token secret, the audit keys), found rather than assumed to be ``./.data``.

``ECOM_DATA_DIR`` names it outright. Otherwise it is the ``.data`` folder of the nearest
folder, from the current one upwards, that is this project's: one whose ``pyproject.toml``
declares the project ``ecom``, or whose ``.data`` already has our layout (an embedded cluster,
the token secret or the audit key). A command that only reads (``audit verify``, ``events
tail``, ...) also needs the folder to exist, and the embedded cluster in it when no
``ECOM_DATABASE_URL`` is given: run elsewhere it would otherwise start a fresh empty cluster
and mint fresh keys beside it. Refusals are ``DataFolderMissing``, one sentence each."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

PROJECT_NAME = "ecom"
#: What makes an existing ``.data`` ours: any of these inside it.
LAYOUT = ("pg/PG_VERSION", "jwt_secret", "audit_ed25519.pem")


class DataFolderMissing(Exception):
    """No data folder for this command; the message says where it looked and what to do."""


def _declares_project(folder: Path) -> bool:
    try:
        with (folder / "pyproject.toml").open("rb") as f:
            return tomllib.load(f).get("project", {}).get("name") == PROJECT_NAME
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        return False


def has_layout(data: Path) -> bool:
    return any((data / part).exists() for part in LAYOUT)


def project_data_folder(cwd: Path) -> Path | None:
    """The ``.data`` of the nearest project folder from ``cwd`` upwards, or None."""
    for folder in (cwd, *cwd.parents):
        if has_layout(folder / ".data") or _declares_project(folder):
            return folder / ".data"
    return None


def find_data_folder(cwd: Path, env: Mapping[str, str], *, may_create: bool) -> Path:
    """The data folder (absolute) for a command run in ``cwd``; ``may_create`` for the commands
    that set a store up (``serve``, ``migrate``, ...), which may start it afresh."""
    explicit = env.get("ECOM_DATA_DIR")
    if explicit:
        data = (cwd / explicit).resolve()
        where = f"ECOM_DATA_DIR={explicit}"
    else:
        found = project_data_folder(cwd.resolve())
        if found is None:
            raise DataFolderMissing(
                f"no ecom project in {cwd} or above it (no pyproject.toml of project "
                f"'{PROJECT_NAME}', no .data folder of ours); run this in the project's folder "
                "or set ECOM_DATA_DIR"
            )
        data, where = found, str(found)
    if may_create:
        return data
    if not data.is_dir():
        raise DataFolderMissing(
            f"the data folder {where} does not exist yet; start the store first "
            "(ecom migrate or ecom serve) or set ECOM_DATA_DIR"
        )
    if not env.get("ECOM_DATABASE_URL") and not (data / "pg" / "PG_VERSION").exists():
        raise DataFolderMissing(
            f"no embedded database in {where} and no ECOM_DATABASE_URL; start the store "
            "first (ecom migrate or ecom serve)"
        )
    return data
