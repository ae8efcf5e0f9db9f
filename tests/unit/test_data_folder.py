"""Which data folder an ``ecom`` command works on: ``ECOM_DATA_DIR``, else the ``.data`` of the
nearest folder upwards that is this project's (its ``pyproject.toml``, or a ``.data`` of ours);
a reading command refuses when there is none, or no store in it yet."""

from __future__ import annotations

from pathlib import Path

import pytest

from composition.data_folder import DataFolderMissing, find_data_folder, project_data_folder

OURS = '[project]\nname = "ecom"\nversion = "0.1.0"\n'


def project(root: Path, pyproject: str | None = OURS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    return root


def test_the_project_is_found_from_any_folder_below_it(tmp_path):
    root = project(tmp_path / "shop")
    deep = root / "docs" / "notes"
    deep.mkdir(parents=True)
    assert project_data_folder(deep) == root / ".data"
    assert find_data_folder(deep, {}, may_create=True) == root / ".data"


def test_another_projects_pyproject_is_not_ours(tmp_path):
    other = project(tmp_path / "other", '[project]\nname = "something-else"\n')
    broken = project(tmp_path / "broken", "this is not toml [")
    assert project_data_folder(other) is None
    assert project_data_folder(broken) is None
    with pytest.raises(DataFolderMissing, match="ECOM_DATA_DIR"):
        find_data_folder(other, {}, may_create=True)


def test_a_data_folder_of_ours_marks_the_project_without_a_pyproject(tmp_path):
    root = project(tmp_path / "deployed", None)
    (root / ".data").mkdir()
    (root / ".data" / "jwt_secret").write_text("x")
    (root / "logs").mkdir()
    assert project_data_folder(root / "logs") == root / ".data"
    empty = project(tmp_path / "empty", None)
    (empty / ".data").mkdir()  # a .data of someone else's: no layout of ours
    assert project_data_folder(empty) is None


def test_ecom_data_dir_wins_relative_to_the_current_folder(tmp_path):
    root = project(tmp_path / "shop")
    env = {"ECOM_DATA_DIR": "elsewhere"}
    assert find_data_folder(root, env, may_create=True) == root / "elsewhere"
    env = {"ECOM_DATA_DIR": str(tmp_path / "abs")}
    assert find_data_folder(root, env, may_create=True) == tmp_path / "abs"


def test_a_reading_command_needs_the_folder_and_its_store(tmp_path):
    root = project(tmp_path / "shop")
    with pytest.raises(DataFolderMissing, match="does not exist yet"):
        find_data_folder(root, {}, may_create=False)
    (root / ".data").mkdir()
    with pytest.raises(DataFolderMissing, match="no embedded database"):
        find_data_folder(root, {}, may_create=False)
    url = {"ECOM_DATABASE_URL": "postgresql://db/ecom"}
    assert find_data_folder(root, url, may_create=False) == root / ".data"
    (root / ".data" / "pg").mkdir()
    (root / ".data" / "pg" / "PG_VERSION").write_text("18")
    assert find_data_folder(root, {}, may_create=False) == root / ".data"
