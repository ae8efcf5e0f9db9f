"""A capability: everything one part of the system plugs into the composition root, described in
one value, so adding one (customers, pricing, a wishlist, …) is one list entry, not edits in
five registries.

A ``Capability`` names its event classes (the mapper's registry), its command handlers (the
dispatcher's table), its read models (the projection runner), its process managers (the process
runner), its HTTP routers and their authorization rules (the app and the gateway's table), and
the resources a customer owns (``customer:own`` in a rule: the path's id must name a stream
whose first event carries the caller's ``customer_id``, else ``404`` with the given code).

``combine`` merges a list of capabilities and refuses any clash (a command type handled twice,
a view name or an event's stored name used twice, a resource claimed twice): a capability can
add, never silently replace. ``composition.bootstrap.CORE`` is everything the program had before
capabilities (its routes and rules stay in ``api/app.py`` and ``api/authorization.py``);
``composition.bootstrap.CAPABILITIES`` lists the program's; ``build(capabilities=...)`` and
``composition.asgi.app_with(...)`` take others. The worked example a newcomer copies is
``tests/template/wishlist/`` (``docs/architecture.md``, "Adding a capability")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from commands.context import Clock
from commands.dispatcher import Handler
from commands.write_side import WriteSide
from composition.settings import Settings
from domain.command import Command
from domain.events import DomainEvent
from eventstore.store import EventStore
from projections.base import Projection

#: An authorization rule as ``api.authorization.RULES`` writes it: (method, template, who).
RuleRow = tuple[str, str, str]


@dataclass(frozen=True)
class Wiring:
    """What the composition root has built that a capability's process managers may need."""

    settings: Settings
    store: EventStore
    pool: Any  # psycopg_pool.ConnectionPool
    write: WriteSide
    clock: Clock


def _none(*_: Any) -> list:
    return []


@dataclass(frozen=True)
class Capability:
    name: str
    events: tuple[type[DomainEvent], ...] = ()
    handlers: Mapping[type[Command], Handler] = field(default_factory=dict)
    #: Builds the capability's views (new instances per container).
    projections: Callable[[], Sequence[Projection]] = _none
    #: Builds its process managers from what the root has wired (``Wiring``).
    process_managers: Callable[[Wiring], Sequence[Any]] = _none
    #: Builds its background workers (``start(listen_url)`` and ``stop()``, e.g. a sender
    #: that is not a follower of one event at a time), run where the process managers run.
    workers: Callable[[Wiring], Sequence[Any]] = _none
    #: ``fastapi.APIRouter``s, included under ``/api/v1`` after the core's routes.
    routers: tuple[Any, ...] = ()
    #: Its rows of the authorization table, tried before the core's: keep them to its own paths.
    rules: tuple[RuleRow, ...] = ()
    #: Path segment → not-found code: ``{"wishlists": "wishlist_not_found"}`` lets a rule say
    #: ``customer:own`` for ``/wishlists/{id}...``.
    owned: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Combined:
    """The capabilities of one program, merged."""

    events: tuple[type[DomainEvent], ...]
    handlers: dict[type[Command], Handler]
    capabilities: tuple[Capability, ...]

    def projections(self) -> list[Projection]:
        views = [p for c in self.capabilities for p in c.projections()]
        _unique("view", [p.name for p in views])
        return views

    def process_managers(self, wiring: Wiring) -> list[Any]:
        managers = [m for c in self.capabilities for m in c.process_managers(wiring)]
        _unique("process manager", [m.name for m in managers])
        return managers

    def workers(self, wiring: Wiring) -> list[Any]:
        return [w for c in self.capabilities for w in c.workers(wiring)]

    @property
    def routers(self) -> tuple[Any, ...]:
        return tuple(r for c in self.capabilities for r in c.routers)

    @property
    def rules(self) -> tuple[RuleRow, ...]:
        return tuple(r for c in self.capabilities for r in c.rules)

    @property
    def owned(self) -> dict[str, str]:
        return {k: v for c in self.capabilities for k, v in c.owned.items()}


def _unique(what: str, names: Sequence[Any]) -> None:
    twice = sorted(str(getattr(n, "__name__", n)) for n, k in Counter(names).items() if k > 1)
    if twice:
        raise ValueError(f"{what} declared by more than one capability: {', '.join(twice)}")


def combine(capabilities: Sequence[Capability]) -> Combined:
    """The capabilities merged; ``ValueError`` on a clash (see the module docstring)."""
    _unique("capability", [c.name for c in capabilities])
    _unique("event", [e.stored_name() for c in capabilities for e in c.events])
    _unique("command", [t for c in capabilities for t in c.handlers])
    _unique("owned resource", [k for c in capabilities for k in c.owned])
    return Combined(
        events=tuple(e for c in capabilities for e in c.events),
        handlers={t: h for c in capabilities for t, h in c.handlers.items()},
        capabilities=tuple(capabilities),
    )
