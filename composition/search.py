"""The search capability, one value (``SEARCH``): the product search view (text, categories,
stock, pricing rules folded for search) and the order search view, and their routes with their
rows of the authorization table. It adds no aggregate and no command: search is views over the
log (``docs/search.md``)."""

from __future__ import annotations

from api.routes import search as routes
from composition.capabilities import Capability
from projections.order_search import OrderSearchView
from projections.product_search import ProductSearchView

SEARCH = Capability(
    name="search",
    projections=lambda: [ProductSearchView(), OrderSearchView()],
    routers=(routes.router,),
    rules=routes.RULES,
)
