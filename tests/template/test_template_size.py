"""The template stays tiny, and keeps the layers' rules.

Its size: fewer than ``BUDGET`` lines of code across every module of ``wishlist/`` (domain,
handlers, view, routes and the capability that plugs them in). A line of code is a line
holding a token that is not a comment, outside docstrings (a module's, a class's, a
function's) and outside import statements: explaining costs nothing, the imports are what the
code uses rather than what it does, and everything else counts. Each module also keeps the
import rules of the layer it stands for (``tests/unit/test_architecture.py``), as if it lived
under ``domain/``, ``commands/``, ``projections/`` or ``api/``."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from tests.unit.test_architecture import violations

TEMPLATE = Path(__file__).parent / "wishlist"
BUDGET = 150
#: Each module of the template, and the layer whose rules it keeps.
LAYERS = {
    "domain.py": "domain",
    "handlers.py": "commands",
    "view.py": "projections",
    "routes.py": "api",
}


def _span(node: ast.AST) -> range:
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)  # type: ignore[attr-defined]


def not_counted(tree: ast.AST) -> set[int]:
    """The lines of docstrings and import statements."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.update(_span(node))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    lines.update(_span(first))
    return lines


def lines_of_code(source: str) -> int:
    """Lines holding a token other than a comment, outside docstrings and imports."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    skip |= {tokenize.ENCODING, tokenize.ENDMARKER}
    code: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            code.update(range(tok.start[0], tok.end[0] + 1))
    return len(code - not_counted(ast.parse(source)))


def test_the_counter_counts_code_only():
    source = '"""Doc\n\nstring."""\n\nfrom a import (\n    b,\n)\n# a comment\n'
    source += 'x = 1  # counted\n\n\ndef f():\n    """Doc."""\n    return (\n        x\n    )\n'
    assert lines_of_code(source) == 5  # x = 1, def, return (, x, )


def test_the_template_is_fewer_than_150_lines_of_code():
    counts = {p.name: lines_of_code(p.read_text()) for p in sorted(TEMPLATE.glob("*.py"))}
    assert set(LAYERS) < set(counts), counts
    assert sum(counts.values()) < BUDGET, counts


def as_in_its_layer(source: str) -> str:
    """``source`` with the template's modules named as the layers they stand for
    (``tests.template.wishlist.view`` → ``projections.wishlist``)."""

    def layer(name: str) -> str:
        return f"{LAYERS[name + '.py']}.wishlist"

    source = re.sub(
        r"from tests\.template\.wishlist import (\w+)",
        lambda m: f"from {LAYERS[m.group(1) + '.py']} import wishlist",
        source,
    )
    return re.sub(r"tests\.template\.wishlist\.(\w+)", lambda m: layer(m.group(1)), source)


def test_a_module_is_checked_as_in_its_layer():
    source = "from tests.template.wishlist import view\nimport tests.template.wishlist.routes"
    found = [str(v) for v in violations("commands/wishlist.py", as_in_its_layer(source))]
    assert len(found) == 2 and "imports projections" in found[0] and "imports api" in found[1]


@pytest.mark.parametrize("module", sorted(LAYERS))
def test_each_module_keeps_its_layers_import_rules(module: str):
    source = as_in_its_layer((TEMPLATE / module).read_text())
    assert [str(v) for v in violations(f"{LAYERS[module]}/wishlist.py", source)] == []
