"""``BUNDLES``: the bundles capability (``domain/bundle``, ``commands/bundles.py``,
``projections/bundles.py``, ``api/routes/bundles.py``) as one value for ``CAPABILITIES``.
Ordering a bundle and reserving its components are the core's placement and saga, which ask
``commands.bundles`` and ``domain.bundle.needs``."""

from __future__ import annotations

from api.routes import bundles as routes
from commands import bundles as handlers
from composition.capabilities import Capability
from domain.bundle.events import BUNDLE_EVENTS
from projections import bundles as view

BUNDLES = Capability(
    name="bundles",
    events=BUNDLE_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [view.BundlesView()],
    routers=(routes.router,),
    rules=routes.RULES,
)
