"""A generated catalog for product search, appended as events in bulk (no commands: the
search views are what is measured and tested, not the product decisions): a category tree,
products with names, descriptions, brands, attributes, prices, lifecycle and stock. The same
seed gives the same catalog (ids and SKUs carry a per-call tag, so catalogs never clash in
one database). Used by ``bench/search.py`` and the search tests, which check the view against
a brute-force oracle over the ``CatalogProduct`` values returned here."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.category.events import CategoryCreated
from domain.ids import inventory_stream
from domain.inventory.events import StockReceived, StockReserved
from domain.money import Money
from domain.product.events import LifecycleStatusChanged, ProductCreated
from eventstore.recorded import EventMeta
from eventstore.store import EventStore, StreamAppend

NOUNS = ["shoes", "T-Shirt", "jacket", "socks", "boots", "hat", "scarf", "gloves", "shorts"]
NOUNS += ["sweater", "backpack", "umbrella", "sandals", "hoodie", "jeans", "belt", "wallet"]
ADJECTIVES = ["classic", "running", "winter", "summer", "leather", "cotton", "wool", "sport"]
ADJECTIVES += ["vintage", "light", "waterproof", "slim", "cozy", "urban", "trail", "organic"]
FILLER = ["comfortable", "durable", "everyday", "premium", "stylish", "soft", "warm"]
FILLER += ["breathable", "handmade", "recycled", "lightweight", "sturdy", "elegant"]
BRANDS = ["Acme", "Northwind", "Globex", "Initech", "Umbrella", "Hooli", None]
COLORS = ["red", "blue", "green", "black", "white", "navy"]
SIZES = ["S", "M", "L", "XL"]
MATERIALS = ["cotton", "wool", "leather", "polyester", "linen"]
LABELS = ["eco", "sale", "new", "limited"]
LOCATIONS = ["WH-A", "WH-B", "STORE-1"]


@dataclass
class CatalogProduct:
    id: UUID
    sku: str
    name: str
    description: str
    brand: str | None
    category_ids: list[UUID]
    attributes: dict[str, Any]
    price: Decimal
    status: str
    created_at: datetime
    #: available units per location
    available: dict[str, int] = field(default_factory=dict)


@dataclass
class Catalog:
    tag: str
    #: category id → parent id (None at a root)
    parents: dict[UUID, UUID | None]
    names: dict[UUID, str]
    products: list[CatalogProduct]
    position: int = 0

    def descendants(self, category: UUID) -> set[UUID]:
        out = {category}
        grew = True
        while grew:
            grew = False
            for c, p in self.parents.items():
                if p in out and c not in out:
                    out.add(c)
                    grew = True
        return out


def _meta(at: datetime) -> EventMeta:
    return EventMeta(at, "search-catalog", str(uuid.uuid4()), str(uuid.uuid4()))


def generate(
    store: EventStore,
    products: int,
    *,
    seed: int = 7,
    fanout: tuple[int, ...] = (4, 3, 2),
    batch: int = 500,
) -> Catalog:
    """Append a catalog of ``products`` products over a category tree (``fanout`` children
    per level) and return what it holds."""
    rnd = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    parents: dict[UUID, UUID | None] = {}
    names: dict[UUID, str] = {}
    level: list[UUID | None] = [None]
    appends: list[StreamAppend] = []
    for depth, n in enumerate(fanout):
        nxt = []
        for parent in level:
            for i in range(n):
                cid = uuid.uuid4()
                name = f"{rnd.choice(ADJECTIVES).title()} {rnd.choice(NOUNS)} {depth}{i}"
                parents[cid], names[cid] = parent, name
                created = CategoryCreated(
                    category_id=cid, name=name, slug=f"c-{tag}-{cid.hex[:10]}", parent_id=parent
                )
                appends.append(StreamAppend(cid, 0, [created], metas=[_meta(start)]))
                nxt.append(cid)
        level = nxt
    position = store.append(appends, _meta(start))
    categories = list(parents)
    made: list[CatalogProduct] = []
    appends = []
    for k in range(products):
        product = _product(rnd, tag, k, categories, start + timedelta(minutes=k))
        made.append(product)
        appends.extend(_events(rnd, product))
        if len(appends) >= batch:
            position = store.append(appends, _meta(start))
            appends = []
    if appends:
        position = store.append(appends, _meta(start))
    return Catalog(tag, parents, names, made, position)


def _product(
    rnd: random.Random, tag: str, k: int, categories: list[UUID], at: datetime
) -> CatalogProduct:
    noun, adjective = rnd.choice(NOUNS), rnd.choice(ADJECTIVES)
    attributes: dict[str, Any] = {"color": rnd.choice(COLORS)}
    if rnd.random() < 0.7:
        attributes["size"] = rnd.choice(SIZES)
    if rnd.random() < 0.5:
        attributes["material"] = rnd.choice(MATERIALS)
    if rnd.random() < 0.3:
        attributes["labels"] = sorted(rnd.sample(LABELS, rnd.randint(1, 2)))
    description = " ".join(rnd.choice(FILLER) for _ in range(rnd.randint(3, 8)))
    if rnd.random() < 0.3:
        description += f" {rnd.choice(NOUNS).lower()}"
    available = {}
    for location in rnd.sample(LOCATIONS, rnd.randint(0, 2)):
        available[location] = rnd.choice([0, 0, 1, 5, 20])
    return CatalogProduct(
        id=uuid.uuid4(),
        sku=f"S-{tag}-{k:06d}",
        name=f"{adjective.title()} {noun} {k}",
        description=description,
        brand=rnd.choice(BRANDS),
        category_ids=rnd.sample(categories, rnd.choice([1, 1, 1, 2])),
        attributes=attributes,
        price=Decimal(rnd.randint(100, 50_000)) / 100,
        status=rnd.choices(["active", "draft", "discontinued"], [85, 10, 5])[0],
        created_at=at,
        available=available,
    )


def reservation(sku: str, location: str, quantity: int) -> StockReserved:
    """``quantity`` units of ``sku`` at ``location`` reserved for an order of its own."""
    return StockReserved(
        sku=sku,
        reservation_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        line_id=uuid.uuid4(),
        location=location,
        quantity=quantity,
        expires_at=None,
    )


def _events(rnd: random.Random, p: CatalogProduct) -> list[StreamAppend]:
    meta = _meta(p.created_at)
    events: list[Any] = [
        ProductCreated(
            product_id=p.id,
            sku=p.sku,
            name=p.name,
            description=p.description,
            brand=p.brand,
            category_ids=p.category_ids,
            attributes=p.attributes,
            price=Money(amount=p.price, currency="USD"),
        )
    ]
    path = {"draft": [], "active": ["pending_approval", "active"]}
    path["discontinued"] = [*path["active"], "discontinued"]
    old = "draft"
    for new in path[p.status]:
        events.append(LifecycleStatusChanged(old_status=old, new_status=new))
        old = new
    out = [StreamAppend(p.id, 0, events, metas=[meta] * len(events))]
    stock: list[Any] = []
    for location, units in p.available.items():
        # some units reserved: on hand but not available (all of them, when none is)
        held = rnd.choice([0, 1, 2]) if units else rnd.choice([1, 2])
        stock.append(StockReceived(sku=p.sku, location=location, quantity=units + held))
        if held:
            stock.append(reservation(p.sku, location, held))
    if stock:
        out.append(StreamAppend(inventory_stream(p.sku), 0, stock, metas=[meta] * len(stock)))
    return out
