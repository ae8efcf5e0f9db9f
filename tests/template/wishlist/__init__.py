"""The worked example of a capability: a customer's wishlist of SKUs. One module per layer, each
following its layer's rules and patterns (``domain.py``, ``handlers.py``, ``view.py``,
``routes.py``), and ``WISHLIST``, the one value that plugs them in
(``composition.asgi.app_with(WISHLIST)``). Copy it to start a new capability."""

from __future__ import annotations

from composition.capabilities import Capability
from tests.template.wishlist import domain, handlers, routes, view

WISHLIST = Capability(
    name="wishlist",
    events=domain.WISHLIST_EVENTS,
    handlers=handlers.HANDLERS,
    projections=lambda: [view.WishlistsView()],
    routers=(routes.router,),
    rules=routes.RULES,
    owned={"wishlists": "wishlist_not_found"},
)
