"""The composition root depends on everything and nothing depends on it: no module under
``api/`` (nor ``commands/``, ``domain/``, ``eventstore/``, ``projections/``, ``migrations/``)
imports ``ecom``, at module level or inside a function, so ``api`` and ``ecom`` never import
each other. Read from the source (AST), not by importing it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BELOW_THE_ROOT = ("api", "commands", "domain", "eventstore", "projections", "migrations")


def imported_packages(source: str) -> set[str]:
    """The top-level package of every import in ``source`` (relative imports excluded)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_check_sees_imports_anywhere_in_a_module():
    source = "import os\n\ndef f():\n    from ecom.bootstrap import build\n    return build\n"
    assert "ecom" in imported_packages(source)
    assert "ecom" in imported_packages("if True:\n    import ecom.settings as s\n")
    assert "ecom" not in imported_packages("from . import ecom_like\nimport economy\n")


@pytest.mark.parametrize("package", BELOW_THE_ROOT)
def test_no_module_below_the_composition_root_imports_it(package):
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if "ecom" in imported_packages(path.read_text())
    ]
    assert offenders == [], f"imports ecom (the composition root): {offenders}"
