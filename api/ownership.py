"""Object-level checks of the rules table (``api.authorization``): whose an order is.

A customer reaches only their own orders (``customer:own``): the owner of an order is the
``customer_id`` of its first event, read from the write side and kept (an order never changes
hands); ``customer:self`` bodies must name the caller. Both refuse in the words of the API: an
order that is not the caller's is ``404`` as an unknown one. An added capability may own more
resources the same way (``OWNED``: the path segment before the id, and the not-found code)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from api.authentication import Principal
from api.authorization import owned_param
from api.errors import ApiError

MAX_KEPT = 100_000
#: Path segment → the code of its ``404``: the resources ``customer:own`` rules may name.
OWNED = {"orders": "order_not_found"}


def _owner_of(store: Any, order_id: UUID) -> str | None:
    """The ``customer_id`` an order was placed for (its first event), or None if unknown."""
    first = store.load(order_id, up_to_version=1)
    if not first:
        return None
    customer = first[0].data.get("customer_id")
    return str(customer) if customer is not None else None


class OrderOwners:
    """Order id → its customer's id, read once per order from ``store`` (one per gateway); the
    same for the other ``owned`` resources (segment → not-found code, ``OWNED`` by default)."""

    def __init__(self, store: Any, owned: dict[str, str] | None = None):
        self.store = store
        self.owned = owned or OWNED
        self._owners: dict[UUID, str] = {}

    async def require_own(self, template: str, path_params: dict, principal: Principal) -> None:
        """``404 order_not_found`` (or the owned resource's code) unless the order (resource)
        the path names is ``principal``'s."""
        name, what, code = None, "Order", "order_not_found"
        for segment, not_found in self.owned.items():
            name = owned_param(template, segment)
            if name is not None:
                what, code = segment.removesuffix("s").capitalize(), not_found
                break
        raw = path_params.get(name) if name else None
        try:
            order_id = raw if isinstance(raw, UUID) else UUID(str(raw))
        except ValueError:
            order_id = None
        owner = self._owners.get(order_id) if order_id else None
        if order_id is not None and owner is None:
            owner = await run_in_threadpool(_owner_of, self.store, order_id)
            if owner is not None:
                if len(self._owners) > MAX_KEPT:
                    self._owners.clear()
                self._owners[order_id] = owner
        if owner is None or owner != principal.id:
            shown = raw if order_id is None else order_id
            raise ApiError(404, code, f"{what} {shown} does not exist.")


def require_self(body: bytes, principal: Principal) -> None:
    """A customer places orders for themself only. Parsed as the route will parse it
    (``json.loads``); a body that is not a JSON object is the route's to refuse, but a
    ``customer_id`` that is present and not the caller's, in any form, is refused here."""
    try:
        doc = json.loads(body)
    except ValueError:
        return
    if not isinstance(doc, dict) or "customer_id" not in doc:
        return
    try:
        customer = str(UUID(doc["customer_id"]))
    except (TypeError, ValueError, AttributeError):
        customer = None
    if customer != principal.id:
        raise ApiError(
            403,
            "forbidden_customer",
            "A customer may place orders for their own customer id only.",
        )
