"""The recommendations capability, one value (``RECOMMENDATIONS``): the relationships
merchants declare between products (``domain/relationship``, ``commands/relationships.py``),
the recommendations view over them and the orders (``projections/recommendations.py``), and
the routes with their rows of the authorization table (``api/routes/recommendations.py``)."""

from __future__ import annotations

from api.routes import recommendations as routes
from commands import relationships as handlers
from composition.capabilities import Capability
from domain.relationship.events import RELATIONSHIP_EVENTS
from projections.recommendations import RecommendationsView

RECOMMENDATIONS = Capability(
    name="recommendations",
    events=RELATIONSHIP_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [RecommendationsView()],
    routers=(routes.router,),
    rules=routes.RULES,
)
