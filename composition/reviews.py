"""The reviews capability, one value (``REVIEWS``): the Review aggregate and its claims
(``domain/review``), their handlers (``commands/reviews.py``), the reviews view with the
product ratings (``projections/reviews.py``), the routes and their rows of the authorization
table (``api/routes/reviews.py``), and ``/reviews/{id}`` as a resource its author owns."""

from __future__ import annotations

from api.routes import reviews as routes
from commands import reviews as handlers
from composition.capabilities import Capability
from domain.review.events import REVIEW_CLAIM_EVENTS, REVIEW_EVENTS
from projections.reviews import ReviewsView

REVIEWS = Capability(
    name="reviews",
    events=(*REVIEW_EVENTS, *REVIEW_CLAIM_EVENTS),
    handlers=handlers.HANDLERS,
    projections=lambda: [ReviewsView()],
    routers=(routes.router,),
    rules=routes.RULES,
    owned=routes.OWNED,
)
