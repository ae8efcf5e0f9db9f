"""The write side decides from event streams only: no module under ``commands/`` or
``domain/`` names a read-model schema (``rm_`` in any string, SQL included) or imports
``projections``. A grep-able rule, checked on the source's syntax tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITE_SIDE = ("commands", "domain")
READ_MODEL_SCHEMA = re.compile(r"\brm_[a-z0-9_]+")


def _modules() -> list[Path]:
    return sorted(p for pkg in WRITE_SIDE for p in (ROOT / pkg).rglob("*.py"))


def read_model_uses(source: str) -> list[str]:
    """What in ``source`` names a read model: schema names in strings, projection imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += READ_MODEL_SCHEMA.findall(node.value)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "projections"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "projections":
                found.append(node.module)
    return found


def test_the_write_side_has_modules_to_check():
    names = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert "commands/placement_saga.py" in names
    assert "commands/line_edits.py" in names
    assert "domain/allocation.py" in names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_write_side_module_reads_a_read_model(path: Path):
    assert read_model_uses(path.read_text()) == []


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute("SELECT code FROM rm_locations.locations WHERE active")',
        "q = f'''SELECT * FROM {x} JOIN rm_order_detail.orders o ON true'''",
        "import projections.order_detail",
        "from projections.locations import active",
        "from projections import registry",
    ],
)
def test_the_check_sees_a_read_model(source: str):
    assert read_model_uses(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "rsv.confirm_reservation(state)",  # 'rm_' inside a word is no schema
        '"SELECT notification_id FROM stored_events"',
        "from commands.location_directory import LocationDirectory",
    ],
)
def test_the_check_leaves_write_side_code_alone(source: str):
    assert read_model_uses(source) == []
