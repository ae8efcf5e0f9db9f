"""Product search against a brute-force oracle: over one generated catalog of 2,000 products
in a category tree (built once, by appending events, in a database of this module's own so no
other test's products or rules enter it), every filter combination hypothesis draws returns
exactly the oracle's set, order (for the sorts the oracle can compute) and ``total``, and the
facets count the filtered set. The effective price is the domain's ``effective_price`` for a
guest; ratings come from reviews submitted and moderated through the reviews capability."""

from __future__ import annotations

import asyncio
import functools
import random
import re
import uuid
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import psycopg_pool
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.search_catalog import Catalog, CatalogProduct, generate, reservation
from commands.context import CommandContext
from composition.bootstrap import build
from composition.settings import Settings
from domain.category.events import CategoryCreated
from domain.ids import inventory_stream
from domain.inventory.events import StockReceived
from domain.money import Money
from domain.pricing.effective import PriceQuery, effective_price
from domain.pricing.events import PricingRuleCreated
from domain.pricing.rules import RuleScope, check_rule
from domain.product.events import (
    CategoryAssigned,
    FieldChange,
    LifecycleStatusChanged,
    PriceChanged,
    ProductCreated,
    ProductDetailsChanged,
)
from domain.review.commands import CastVote, ModerateReview, SubmitReview
from eventstore.recorded import EventMeta
from eventstore.store import StreamAppend
from projections import product_search, search_facets
from projections import product_search_query as search
from projections import reviews as reviews_view
from projections.base import live_schema
from tests.factories import send
from tests.integration.test_projection_rebuild import snapshot
from tests.tables import differences

VIEW = "product_search"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _meta() -> EventMeta:
    return EventMeta(datetime.now(UTC), "search-test", str(uuid.uuid4()), str(uuid.uuid4()))


# ---- the oracle ---------------------------------------------------------------------------


def oracle_words(p: CatalogProduct) -> set[str]:
    out: set[str] = set()
    texts = [p.name, p.description, p.brand or ""]
    for v in p.attributes.values():
        texts.extend(str(x) for x in (v if isinstance(v, list) else [v]))
    for t in texts:
        t = t.lower()
        out.update(re.findall(r"[^\W_]+", t))
        out.update(re.sub(r"[-.']", "", run) for run in re.findall(r"[^\W_]+(?:[-.'][^\W_]+)+", t))
    return out


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits and neighbour swaps), by the table."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


@functools.cache
def word_matches(w: str, d: str) -> bool:
    return d == w or (len(w) >= 3 and d.startswith(w)) or (len(w) >= 4 and distance(w, d) <= 1)


def oracle_query_words(q: str) -> list[str]:
    out: list[str] = []
    for run in re.findall(r"[^\W_]+(?:[-.'][^\W_]+)*", q.lower()):
        w = re.sub(r"[-.']", "", run)
        if w not in out:
            out.append(w)
    return out[:8]


def pairs(p: CatalogProduct) -> set[str]:
    return {
        f"{k}={x}" for k, v in p.attributes.items() for x in (v if isinstance(v, list) else [v])
    }


class Oracle:
    def __init__(self, catalog: Catalog, rules: list, ratings: dict[uuid.UUID, Decimal]):
        self.catalog = catalog
        self.ratings = ratings
        self.words = {p.id: oracle_words(p) for p in catalog.products}
        self.paths = {
            p.id: set().union(*(self._ancestors(c) for c in p.category_ids))
            for p in catalog.products
        }
        self.prices = {
            p.id: effective_price(
                rules,
                PriceQuery(
                    sku=p.sku,
                    base=Money(amount=p.price, currency="USD"),
                    quantity=1,
                    at=NOW,
                    product_id=p.id,
                    category_ids=frozenset(p.category_ids),
                ),
            ).price.amount
            for p in catalog.products
        }

    def _ancestors(self, c: uuid.UUID) -> set[uuid.UUID]:
        out = set()
        while c is not None:
            out.add(c)
            c = self.catalog.parents[c]
        return out

    def filtered(self, q: search.SearchQuery) -> list[CatalogProduct]:
        words = oracle_query_words(q.q)
        if q.q.strip() and not words:
            return []
        out = []
        for p in self.catalog.products:
            if p.status != "active":
                continue
            if not all(any(word_matches(w, d) for d in self.words[p.id]) for w in words):
                continue
            if q.category_id is not None and q.category_id not in self.paths[p.id]:
                continue
            if any(not pairs(p) & {f"{n}={v}" for v in vs} for n, vs in q.attributes.items()):
                continue
            if q.in_stock and not any(n > 0 for n in p.available.values()):
                continue
            price = self.prices[p.id]
            if q.price_min is not None and price < q.price_min:
                continue
            if q.price_max is not None and price > q.price_max:
                continue
            rating = self.ratings.get(p.id)
            if q.rating_min is not None and (rating is None or rating < q.rating_min):
                continue
            out.append(p)
        return out

    def ordered(self, q: search.SearchQuery, found: list[CatalogProduct]) -> list[uuid.UUID]:
        key = {
            "price_asc": lambda p: (self.prices[p.id], str(p.id)),
            "price_desc": lambda p: (-self.prices[p.id], str(p.id)),
            "rating": lambda p: (-self.ratings.get(p.id, Decimal(-1)), str(p.id)),
            "newest": lambda p: (-p.created_at.timestamp(), str(p.id)),
        }[q.sort]
        return [p.id for p in sorted(found, key=key)]

    def facets(self, found: list[CatalogProduct]) -> dict[str, Any]:
        cats = Counter(c for p in found for c in self.paths[p.id])
        attrs = Counter(x for p in found for x in pairs(p))
        by_name: dict[str, list[dict]] = {}
        for pair, n in sorted(attrs.items(), key=lambda kv: (kv[0].split("=")[0], -kv[1], kv[0])):
            name, value = pair.split("=", 1)
            by_name.setdefault(name, []).append({"value": value, "count": n})
        prices = [self.prices[p.id] for p in found]
        return {
            "categories": sorted(
                ({"id": str(c), "count": n} for c, n in cats.items()),
                key=lambda f: (-f["count"], f["id"]),
            ),
            "attributes": {k: v[: search.ATTRIBUTE_VALUES] for k, v in by_name.items()},
            "price": (min(prices), max(prices)) if prices else (None, None),
        }


# ---- the catalog, once per module -----------------------------------------------------------


def _rule(rule_type: str, config: dict, priority: int, scope: RuleScope) -> PricingRuleCreated:
    rule_id = uuid.uuid4()
    rule, normalised = check_rule(rule_id, "search", rule_type, scope, config, priority, None, None)
    return PricingRuleCreated(
        rule_id=rule_id,
        name="search",
        rule_type=rule_type,
        scope=scope,
        config=normalised,
        priority=priority,
    ), rule


def _reviews(c, catalog: Catalog) -> dict[uuid.UUID, Decimal]:
    """Reviews through the reviews capability's commands for 150 products (one to three
    each, most approved, some left pending or rejected); each product's average over its
    approved ones, as the ratings view rounds it."""
    rnd = random.Random(3)
    ctx = CommandContext.new("search-test")
    approved: dict[uuid.UUID, list[int]] = {}
    for p in rnd.sample(catalog.products, 150):
        for _ in range(rnd.randint(1, 3)):
            rating = rnd.randint(1, 5)
            review = SubmitReview(
                product_id=p.id, customer_id=uuid.uuid4(), rating=rating, text="fine"
            )
            review_id = send(c, review, ctx).extra["id"]
            decision = rnd.choices(["approve", "reject", None], [80, 10, 10])[0]
            if decision is not None:
                send(c, ModerateReview(review_id=review_id, decision=decision), ctx)
            if decision == "approve":
                approved.setdefault(p.id, []).append(rating)
    return {
        pid: (Decimal(sum(r)) / len(r)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for pid, r in approved.items()
    }


@pytest.fixture(scope="module")
def world(database_url):
    admin = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    name = f"ecom_search_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    c = build(Settings(database_url=url, pool_size=4, run_projections=False), url=url)
    try:
        c.migrate()
        catalog = generate(c.store, 2000, seed=11)
        categories = list(catalog.parents)
        skus = [p.sku for p in catalog.products[:40]]
        made = [
            # 10 % off one unit in a root category (and its descendants' products? no: a
            # rule's categories are the product's own)
            _rule(
                "tiered",
                {"tiers": [{"min": 1, "max": 4, "percent_off": "10"}]},
                1,
                RuleScope(category_ids=[categories[0], categories[5]]),
            ),
            # a price for a few SKUs, above the tiered rule
            _rule(
                "cost_plus",
                {"cost": {"amount": "5.00", "currency": "USD"}, "markup_percent": "50"},
                5,
                RuleScope(skus=skus),
            ),
            # a segment's price never applies to a guest, whatever its priority
            _rule(
                "segment",
                {"segments": {"vip": {"percent_off": "50"}}},
                99,
                RuleScope(),
            ),
            # from the second unit only: not a guest's one unit
            _rule(
                "tiered",
                {"tiers": [{"min": 2, "percent_off": "30"}]},
                50,
                RuleScope(),
            ),
        ]
        c.store.append([StreamAppend(e.rule_id, 0, [e]) for e, _ in made], _meta())
        ratings = _reviews(c, catalog)
        c.runner.catch_up([VIEW, "reviews"])
        yield c, catalog, Oracle(catalog, [r for _, r in made], ratings)
    finally:
        c.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(c, q: search.SearchQuery) -> dict[str, Any]:
    return search.search(c.pool, q, NOW)


def assert_searched_afresh(c, answers: list[tuple[search.SearchQuery, dict]]) -> None:
    """Each answer (from ``c``'s cache, patched or not) equals its query searched afresh, on a
    pool of its own whose cache is emptied before each search."""
    fresh = psycopg_pool.ConnectionPool(c.pool.conninfo, min_size=1, max_size=1, open=True)
    try:
        for q, got in answers:
            search._answers.pop(fresh, None)
            assert {k: v for k, v in got.items() if k != "encoded"} == search.search(
                fresh, q, NOW
            ), q
    finally:
        fresh.close()


def walk(c, q: search.SearchQuery, pages: int = 1000) -> tuple[list[uuid.UUID], dict]:
    """Every page of ``q`` (at most ``pages``), and the first answer."""
    first = run(c, q)
    ids = [uuid.UUID(i["id"]) for i in first["items"]]
    answer = first
    while answer["after"] is not None and pages > 1:
        answer = run(c, replace(q, after=answer["after"]))
        ids += [uuid.UUID(i["id"]) for i in answer["items"]]
        pages -= 1
    return ids, first


# ---- the properties ---------------------------------------------------------------------------

WORDS = ["shoes", "sheos", "tshirt", "t-shirt", "jacket", "jakcet", "wool", "sho", "boot"]
WORDS += ["cozy", "acme", "red", "warm socks", "winter boots", "zzzz", "navy"]
WORDS += ["& | !", "'\\", "a:*", "xl"]
queries = st.builds(
    lambda q, category, low, span, rating, stock, attrs, sort, limit: (
        q,
        category,
        low,
        span,
        rating,
        stock,
        attrs,
        sort,
        limit,
    ),
    q=st.sampled_from(["", *WORDS]),
    category=st.integers(-1, 39),
    low=st.sampled_from([None, Decimal("0"), Decimal("50"), Decimal("200")]),
    span=st.sampled_from([None, Decimal("0"), Decimal("100"), Decimal("1000")]),
    rating=st.sampled_from([None, Decimal("1"), Decimal("3.5"), Decimal("5")]),
    stock=st.booleans(),
    attrs=st.dictionaries(
        st.sampled_from(["color", "size", "material", "labels"]),
        st.lists(
            st.sampled_from(["red", "blue", "M", "XL", "wool", "eco", "sale"]),
            min_size=1,
            max_size=2,
        ),
        max_size=2,
    ),
    sort=st.sampled_from(search.SORTS),
    limit=st.sampled_from([7, 60, 500]),
)


@settings(
    max_examples=35,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@example(drawn=("sheos", -1, None, None, None, False, {}, "newest", 500))
@example(drawn=("", -1, None, None, None, False, {}, "price_asc", 500))
@given(drawn=queries)
def test_every_filter_combination_returns_the_oracles_set_total_and_facets(world, drawn):
    c, catalog, oracle = world
    q, category, low, span, rating, stock, attrs, sort, limit = drawn
    query = search.SearchQuery(
        q=q,
        category_id=list(catalog.parents)[category] if category >= 0 else None,
        price_min=low,
        price_max=None if span is None else (low or Decimal(0)) + span,
        rating_min=rating,
        in_stock=stock,
        attributes={k: tuple(v) for k, v in attrs.items()},
        sort=sort,
        limit=limit,
    )
    expected = oracle.filtered(query)
    pages = 1000 if len(expected) <= 600 else 2
    ids, first = walk(c, query, pages)
    assert first["total"] == len(expected)
    assert len(ids) == len(set(ids)), "a product on two pages"
    if pages == 1000:
        if sort == "relevance" and oracle_query_words(q):
            assert set(ids) == {p.id for p in expected}
        else:
            order_of = "newest" if sort == "relevance" else sort
            assert ids == oracle.ordered(replace(query, sort=order_of), expected)
    else:
        assert set(ids) <= {p.id for p in expected}
        assert len(ids) == min(len(expected), limit * 2)
    facets = oracle.facets(expected)
    assert first["facets"]["categories"] == facets["categories"][: search.CATEGORY_FACETS]
    assert first["facets"]["attributes"] == facets["attributes"]
    low_seen, high_seen = facets["price"]
    got = first["facets"]["price"]
    assert (got["min"], got["max"]) == (
        None if low_seen is None else str(low_seen),
        None if high_seen is None else str(high_seen),
    )


def test_a_browsing_set_takes_its_total_and_facets_from_the_kept_counts(world, monkeypatch):
    """Given the catalog, when every browsing set is searched (no text, no filter but a
    category, with or without in-stock), then the answer takes its total and facets from the
    counts the view keeps (a count changed in an open transaction shows in the answer) and
    equals the oracle's; without live pricing rules the price range is read by the price
    index, and every such answer equals the one counted over the set."""
    c, catalog, oracle = world
    schema = psycopg.sql.Identifier(live_schema(VIEW))
    scopes = [None, *catalog.parents]
    fresh = psycopg_pool.ConnectionPool(c.pool.conninfo, min_size=1, max_size=1, open=True)
    try:
        for category in scopes:
            for in_stock in (False, True):
                query = search.SearchQuery(
                    category_id=category, in_stock=in_stock, sort="price_asc", limit=7
                )
                assert search.browsing(query, [])
                search._answers.pop(fresh, None)
                got = search.search(fresh, query, NOW)
                expected = oracle.filtered(query)
                assert got["total"] == len(expected), query
                assert [uuid.UUID(i["id"]) for i in got["items"]] == oracle.ordered(
                    query, expected
                )[:7]
                facets = oracle.facets(expected)
                assert got["facets"]["categories"] == facets["categories"][:100]
                assert got["facets"]["attributes"] == facets["attributes"]
                low, high = facets["price"]
                assert got["facets"]["price"] == {
                    "min": None if low is None else str(low),
                    "max": None if high is None else str(high),
                }
    finally:
        fresh.close()
    with c.pool.connection() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        for category in scopes:
            for in_stock in (False, True):
                query = search.SearchQuery(category_id=category, in_stock=in_stock, limit=7)
                kept = search._statement(schema, query, [], [], True)
                monkeypatch.setattr(search, "browsing", lambda *_: False)
                counted = search._statement(schema, query, [], [], True)
                monkeypatch.undo()
                assert "category_counts" in kept[0].as_string(conn)
                assert "category_counts" not in counted[0].as_string(conn)
                rows = []
                for st, params in (kept, counted):
                    cur.execute(st, params)
                    rows.append(cur.fetchone())
                assert rows[0] == rows[1], query
        with conn.transaction(force_rollback=True):
            conn.execute(
                psycopg.sql.SQL(
                    "UPDATE {}.category_counts SET total = total + 1000 "
                    "WHERE scope = %s AND category = %s"
                ).format(schema),
                (search_facets.ALL, search_facets.ALL),
            )
            query = search.SearchQuery(limit=7)
            cur.execute(*search._statement(schema, query, [], [], True))
            assert cur.fetchone()["total"] == len(oracle.filtered(query)) + 1000


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(drawn=queries, seed=st.integers(0, 2**16))
def test_a_flipped_product_meets_an_answers_filter_exactly_when_the_oracle_selects_it(
    world, drawn, seed
):
    """What patches or evicts a cached answer (``_meets``): a product's row meets the answer's
    filters iff the oracle puts it in the set of the same query; for products active or not,
    in its set or not."""
    c, catalog, oracle = world
    q, category, low, span, rating, _, attrs, sort, limit = drawn
    query = search.SearchQuery(
        q=q,
        category_id=list(catalog.parents)[category] if category >= 0 else None,
        price_min=low,
        price_max=None if span is None else (low or Decimal(0)) + span,
        rating_min=rating,
        attributes={k: tuple(v) for k, v in attrs.items()},
        sort=sort,
        limit=limit,
    )
    words = search.text.query_words(q)
    if q.strip() and not words:
        return  # answered empty without a search: nothing cached to evict
    selected = {p.id for p in oracle.filtered(query)}
    rnd = random.Random(seed)
    sample = rnd.sample(catalog.products, 30) + [
        p
        for p in catalog.products
        if p.id in set(rnd.sample(sorted(selected), min(10, len(selected))))
    ]
    schema = psycopg.sql.Identifier(live_schema(VIEW))
    with c.pool.connection() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        rules = [
            g for g in (search.guest_rule(r, NOW) for r in search.active_rules(cur, schema)) if g
        ]
        alternatives = search.candidates(cur, schema, words) if words else []
        wanted = search.answer_filter(query, alternatives, tuple(rules), None)
        rows = psycopg.sql.SQL(
            "SELECT true AS entered, true AS content, p AS r FROM {}.products p WHERE p.id = %(id)s"
        ).format(schema)
        statement, params = search._meets(schema, rules, True, rows)
        for p in sample:
            cur.execute(statement, {**params, "id": p.id, **search._meets_params({0: wanted})})
            assert bool(cur.fetchall()) == (p.id in selected), (p.name, p.status)


def _names(answer: dict) -> set[str]:
    return {i["name"] for i in answer["items"]}


def test_one_typo_per_word_still_matches(world):
    c, catalog, _ = world
    shoes = {p.name for p in catalog.products if p.status == "active" and " shoes " in p.name}
    shirts = {p.name for p in catalog.products if p.status == "active" and "T-Shirt" in p.name}
    for typo, wanted in (
        ("sheos", shoes),
        ("shoe", shoes),
        ("tshirt", shirts),
        ("T-shrit", shirts),
    ):
        found = _names(run(c, search.SearchQuery(q=typo, limit=500)))
        assert wanted and wanted <= found, typo


def test_name_ranks_above_description(world):
    c, catalog, _ = world
    answer = run(c, search.SearchQuery(q="jacket", limit=500))
    names = [("jacket" in i["name"].lower()) for i in answer["items"]]
    assert True in names and False in names
    assert names == sorted(names, reverse=True), "a description match before a name match"


@pytest.mark.parametrize(
    "q", ["", " ", "&|!", "'\"\\", "a & b | !c", "x" * 1000, "(", "select * from", "é:*"]
)
def test_odd_queries_answer_without_error(world, q):
    c, _, _ = world
    answer = run(c, search.SearchQuery(q=q, limit=3))
    assert answer["total"] >= 0


def test_suggestions_start_with_the_prefix(world):
    c, catalog, _ = world
    got = search.suggest(c.pool, "Classic", 50)
    assert got["products"] and all(p["name"].lower().startswith("classic") for p in got["products"])
    assert all(c["name"].lower().startswith("classic") for c in got["categories"])
    wanted = {n for n in catalog.names.values() if n.lower().startswith("classic")}
    assert {c["name"] for c in got["categories"]} == wanted
    assert search.suggest(c.pool, "%_\\", 5) == {"products": [], "categories": []}


def test_an_identical_search_is_answered_from_the_cache_until_the_views_move(world):
    c, _, _ = world
    query = search.SearchQuery(q="", in_stock=True, limit=3)
    first = run(c, query)
    assert run(c, query) is first
    assert run(c, replace(query, limit=4)) is not first
    # the view moving empties the cache: the next test searches again after a change


def test_a_reservation_that_leaves_stock_available_keeps_the_cached_answers(world):
    """Given an answer in the cache, when a reservation leaves its SKU available, then the view
    moves past it without changing an answer, and the cached answer still serves."""
    c, catalog, _ = world
    query = search.SearchQuery(q="", in_stock=True, limit=3)
    first = run(c, query)
    plenty = next(
        p for p in catalog.products if p.status == "active" and max(p.available.values()) >= 2
    )
    location = max(plenty.available, key=lambda k: plenty.available[k])
    at = c.store.append([reserving(c, plenty, {location: 1})], _meta())
    plenty.available[location] -= 1
    c.runner.run_pass([VIEW])
    assert c.runner.position(VIEW) >= at
    assert run(c, query) is first


def reserving(c, product: CatalogProduct, units: dict[str, int]) -> StreamAppend:
    """An append reserving ``units`` of ``product`` per location (the oracle's catalog is the
    caller's to update)."""
    stream = inventory_stream(product.sku)
    return StreamAppend(
        stream,
        c.store.stream_version(stream),
        [reservation(product.sku, location, n) for location, n in units.items() if n > 0],
    )


def test_a_product_going_out_of_stock_evicts_only_the_answers_it_can_change(world):
    """Given cached answers, one showing a product, one not showing it, and two filtered on
    stock (one whose other filters the product meets, one whose category it is not in), when
    the product's last units are reserved, then the answer showing it and the one it met
    change (the product shown out of stock; patched or read again), and the other two are
    still served from the cache as they were."""
    c, catalog, oracle = world
    product = next(
        p
        for p in catalog.products
        if p.status == "active" and sum(n for n in p.available.values() if n > 0) > 0
    )
    showing = search.SearchQuery(q=product.name, limit=500)
    elsewhere = next(k for k in catalog.parents if k not in oracle.paths[product.id])
    not_showing = search.SearchQuery(category_id=elsewhere, sort="price_asc", limit=3)
    on_stock = search.SearchQuery(in_stock=True, sort="price_desc", limit=3)
    on_stock_elsewhere = search.SearchQuery(in_stock=True, category_id=elsewhere, limit=3)
    shown, other, stocked, stocked_elsewhere = (
        run(c, q) for q in (showing, not_showing, on_stock, on_stock_elsewhere)
    )
    assert str(product.id) in {i["id"] for i in shown["items"]}
    assert str(product.id) not in {i["id"] for i in other["items"]}
    at = c.store.append([reserving(c, product, product.available)], _meta())
    product.available = dict.fromkeys(product.available, 0)
    c.runner.run_pass([VIEW])
    assert c.runner.position(VIEW) >= at
    again = run(c, showing)
    assert again is not shown
    assert {i["id"]: i["in_stock"] for i in again["items"]}[str(product.id)] is False
    assert run(c, not_showing) is other
    assert run(c, on_stock) is not stocked  # the product met its filter: it left the set
    assert run(c, on_stock_elsewhere) is stocked_elsewhere  # not in its category


def query_of(catalog: Catalog, drawn: tuple, in_stock: bool | None = None) -> search.SearchQuery:
    """The query a ``queries`` draw describes (``in_stock`` overriding its stock filter)."""
    q, category, low, span, rating, stock, attrs, sort, limit = drawn
    return search.SearchQuery(
        q=q,
        category_id=list(catalog.parents)[category] if category >= 0 else None,
        price_min=low,
        price_max=None if span is None else (low or Decimal(0)) + span,
        rating_min=rating,
        in_stock=stock if in_stock is None else in_stock,
        attributes={k: tuple(v) for k, v in attrs.items()},
        sort=sort,
        limit=limit,
    )


def receiving(c, product: CatalogProduct, location: str, units: int) -> StreamAppend:
    stream = inventory_stream(product.sku)
    event = StockReceived(sku=product.sku, location=location, quantity=units)
    return StreamAppend(stream, c.store.stream_version(stream), [event])


def _in_stock(p: CatalogProduct) -> bool:
    return any(n > 0 for n in p.available.values())


def _flip(c, p: CatalogProduct) -> None:
    """Append what flips ``p``'s ``in_stock`` (its last units reserved, or two received), and
    move the view over it: one product generation."""
    if _in_stock(p):
        c.store.append([reserving(c, p, p.available)], _meta())
        p.available = dict.fromkeys(p.available, 0)
    else:
        location = next(iter(p.available), "loc-search-test")
        c.store.append([receiving(c, p, location, 2)], _meta())
        p.available[location] = p.available.get(location, 0) + 2
    c.runner.run_pass([VIEW])


#: queries whose sets hold tens to hundreds of products: a flip rarely changes their pages
broad_queries = st.tuples(
    st.sampled_from(["", "", "shoes", "jacket", "wool", "red"]),
    st.sampled_from([-1, -1, 0, 1, 2, 3]),
    st.sampled_from([None, Decimal("0"), Decimal("50")]),
    st.sampled_from([None, None, Decimal("300")]),
    st.sampled_from([None, None, Decimal("1")]),
    st.just(True),
    st.sampled_from([{}, {}, {"color": ["red", "blue"]}]),
    st.sampled_from(search.SORTS),
    st.sampled_from([3, 7, 60]),
)


@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(drawn=st.lists(broad_queries, min_size=6, max_size=6), seed=st.integers(0, 2**16))
def test_answers_a_stock_move_patched_equal_the_answers_searched_afresh(world, drawn, seed):
    """Given answers in the cache (mostly filtered on stock, broad, first pages and next
    ones), when products flip (some in the sets of those answers, some out of stock coming back, one
    flipped twice), then every answer the cache gives equals the same search run afresh on a
    pool of its own (that it patches rather than reads again:
    ``test_a_product_leaving_a_broad_answer_patches_it_rather_than_search_again``)."""
    c, catalog, oracle = world
    rnd = random.Random(seed)
    wanted = [query_of(catalog, d, in_stock=i < 5) for i, d in enumerate(drawn)]
    wanted.append(search.SearchQuery(in_stock=True, sort="price_asc", limit=7))
    for q in list(wanted):
        after = run(c, q)["after"]
        if after is not None and q.in_stock and rnd.random() < 0.5:
            wanted.append(replace(q, after=after))  # its next page, after a cursor
            run(c, wanted[-1])
    active = [p for p in catalog.products if p.status == "active"]
    flipped = rnd.sample(active, 2)
    for q in wanted:
        # one of its set leaving, one out of stock that meets its other filters entering
        every = oracle.filtered(replace(q, in_stock=False))
        for side in (True, False):
            some = [p for p in every if _in_stock(p) == side and p not in flipped]
            flipped += rnd.sample(some, min(1, len(some)))
    for p in flipped:
        _flip(c, p)
    twice = rnd.choice(active)
    _flip(c, twice)
    _flip(c, twice)
    assert_searched_afresh(c, [(q, run(c, q)) for q in wanted])


def _inside(oracle: Oracle, query: search.SearchQuery, answer: dict) -> CatalogProduct:
    """A product of ``query``'s set neither on ``answer``'s page nor at an end of its price
    range: its leaving patches the answer."""
    shown = {i["id"] for i in answer["items"]}
    low, high = (Decimal(answer["facets"]["price"][k]) for k in ("min", "max"))
    return next(
        p
        for p in oracle.filtered(query)
        if str(p.id) not in shown and low < oracle.prices[p.id] < high
    )


def test_a_product_leaving_a_broad_answer_patches_it_rather_than_search_again(world):
    """Given a broad answer filtered on stock in the cache, when a product of its set that is
    neither on its page nor at an end of its price range goes out of stock, then the cache
    patches the answer: one fewer in ``total`` and in its categories' counts, and equal to the
    same search run afresh."""
    c, catalog, oracle = world
    query = search.SearchQuery(in_stock=True, sort="price_asc", limit=7)
    first = run(c, query)
    product = _inside(oracle, query, first)
    cache = search._answers[c.pool]
    patched = cache.patched
    _flip(c, product)
    again = run(c, query)
    assert cache.patched > patched
    assert again["total"] == first["total"] - 1
    counts = {f["id"]: f["count"] for f in again["facets"]["categories"]}
    before = {f["id"]: f["count"] for f in first["facets"]["categories"]}
    for category in oracle.paths[product.id]:
        assert counts.get(str(category), 0) == before[str(category)] - 1
    assert_searched_afresh(c, [(query, again)])


def test_readers_on_the_event_loop_await_one_move_of_the_stock_generation(world, monkeypatch):
    """Given a cached answer, when a product of its set goes out of stock and eight readers
    on the event loop ask for it at once, then one of them moves the cache (in a thread) and
    all eight get the same patched answer, without a search of their own."""
    c, _, oracle = world
    query = search.SearchQuery(in_stock=True, sort="price_desc", limit=5)
    first = run(c, query)
    _flip(c, _inside(oracle, query, first))
    moves = []
    move_now = search._move_now
    monkeypatch.setattr(search, "_move_now", lambda *a: moves.append(a) or move_now(*a))

    async def readers() -> list:
        async with psycopg_pool.AsyncConnectionPool(
            c.pool.conninfo, min_size=1, max_size=4, open=False
        ) as reads:
            return await asyncio.gather(
                *(search.cached(reads, c.pool, query, NOW) for _ in range(8))
            )

    answers = asyncio.run(readers())
    assert len(moves) == 1
    assert answers[0] is not None and all(a is answers[0] for a in answers)
    assert answers[0]["total"] == first["total"] - 1


def test_another_sort_or_page_of_a_set_reads_its_page_alone_and_answers_the_same(
    world, monkeypatch
):
    """Given an answer in the cache, when the same filtered set is asked in another sort and
    then its next page, then those searches read their pages without counting the set again
    (its ``total`` and facets kept from the first), and answer what a fresh search does."""
    c, catalog, _ = world
    counted = []
    statement = search._statement
    monkeypatch.setattr(
        search,
        "_statement",
        lambda *a, counts=True: counted.append(counts) or statement(*a, counts=counts),
    )
    base = search.SearchQuery(q="shoes", category_id=list(catalog.parents)[1], limit=5)
    first = run(c, replace(base, sort="price_desc"))
    other = run(c, replace(base, sort="newest"))
    assert other["after"] is not None
    following = run(c, replace(base, sort="newest", after=other["after"]))
    assert counted[-2:] == [False, False], counted
    assert other["total"] == first["total"] and other["facets"] == first["facets"]
    assert_searched_afresh(
        c,
        [
            (replace(base, sort="newest"), other),
            (replace(base, sort="newest", after=other["after"]), following),
        ],
    )


def test_a_product_leaves_the_results_in_one_pass_when_inactive_or_out_of_stock(world):
    c, catalog, _ = world
    gone, emptied = [
        p
        for p in catalog.products
        if p.status == "active" and sum(n for n in p.available.values() if n > 0) > 0
    ][:2]
    query = search.SearchQuery(q=gone.name, in_stock=True, limit=500)
    assert gone.id in {uuid.UUID(i["id"]) for i in run(c, query)["items"]}
    c.store.append(
        [
            StreamAppend(
                gone.id,
                3,
                [LifecycleStatusChanged(old_status="active", new_status="discontinued")],
            ),
            reserving(c, emptied, emptied.available),
        ],
        _meta(),
    )
    c.runner.run_pass([VIEW])
    assert gone.id not in {uuid.UUID(i["id"]) for i in run(c, query)["items"]}
    stocked = {
        uuid.UUID(i["id"])
        for i in run(c, search.SearchQuery(q=emptied.name, in_stock=True, limit=500))["items"]
    }
    assert emptied.id not in stocked
    everywhere = run(c, search.SearchQuery(q=emptied.name, limit=500))["items"]
    assert emptied.id in {uuid.UUID(i["id"]) for i in everywhere}, "still listed, out of stock"
    gone.status = "discontinued"
    emptied.available = dict.fromkeys(emptied.available, 0)


def _edit(c, p: CatalogProduct, kind: str, rnd: random.Random, catalog: Catalog) -> StreamAppend:
    """An append changing ``p``'s content (``kind``: price, name, attributes, category or
    status; the catalog's copy follows, the oracle's does not)."""
    if kind == "price":
        new = (p.price * Decimal(rnd.choice(["0.5", "0.9", "1.1", "3"]))).quantize(Decimal("0.01"))
        event = PriceChanged(
            old=Money(amount=p.price, currency="USD"),
            new=Money(amount=new, currency="USD"),
            reason="test",
        )
        p.price = new
    elif kind == "name":
        name = f"{p.name} {rnd.choice(['wool', 'red', 'shoes', 'plain'])}"
        event = ProductDetailsChanged(changes=[FieldChange(field="name", old=p.name, new=name)])
        p.name = name
    elif kind == "attributes":
        attributes = {**p.attributes, "color": rnd.choice(["red", "blue", "green", "teal"])}
        event = ProductDetailsChanged(
            changes=[FieldChange(field="attributes", old=p.attributes, new=attributes)]
        )
        p.attributes = attributes
    elif kind == "category":
        category = rnd.choice([k for k in catalog.parents if k not in p.category_ids])
        event = CategoryAssigned(category_id=category)
        p.category_ids = [*p.category_ids, category]
    else:
        status = "discontinued" if p.status == "active" else "active"
        event = LifecycleStatusChanged(old_status=p.status, new_status=status)
        p.status = status
    return StreamAppend(p.id, c.store.stream_version(p.id), [event])


def test_an_edit_of_a_product_off_the_page_keeps_or_patches_an_answer_without_a_search(
    world, monkeypatch
):
    """Given a browse answer (no filter on stock) in the cache, when a product of its set that
    is not on its page and not at an end of its price range is renamed, then the cache gives
    the same answer (nothing the answer holds changed); when its price (no pricing rule's)
    then moves inside the range, the cache patches the answer, which equals the same search
    run afresh."""
    c, catalog, oracle = world
    query = search.SearchQuery(sort="newest", limit=7)
    first = run(c, query)
    shown = {i["id"] for i in first["items"]}
    low, high = (Decimal(first["facets"]["price"][k]) for k in ("min", "max"))
    priced = {p.id for p in catalog.products[:40]}  # by the cost-plus rule
    ruled = set(list(catalog.parents)[:6:5])  # the tiered rule's categories
    product = next(
        p
        for p in oracle.filtered(query)
        if str(p.id) not in shown
        and p.id not in priced
        and ruled.isdisjoint(p.category_ids)
        and low < p.price < high
    )
    cache = search._answers[c.pool]
    patched = cache.patched
    reads = []
    read = search._read
    monkeypatch.setattr(search, "_read", lambda *a: reads.append(a) or read(*a))
    c.store.append([_edit(c, product, "name", random.Random(1), catalog)], _meta())
    c.runner.run_pass([VIEW])
    assert run(c, query) is first
    new = (product.price + (high - product.price) / 2).quantize(Decimal("0.01"))
    assert low < new < high
    event = PriceChanged(
        old=Money(amount=product.price, currency="USD"),
        new=Money(amount=new, currency="USD"),
        reason="test",
    )
    product.price = new
    c.store.append([StreamAppend(product.id, c.store.stream_version(product.id), [event])], _meta())
    c.runner.run_pass([VIEW])
    again = run(c, query)
    assert cache.patched > patched and reads == []
    assert again["total"] == first["total"] and again["items"] == first["items"]
    assert_searched_afresh(c, [(query, again)])


@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(drawn=st.lists(broad_queries, min_size=6, max_size=6), seed=st.integers(0, 2**16))
def test_answers_patched_through_catalog_edits_equal_the_answers_searched_afresh(
    world, drawn, seed
):
    """Given answers in the cache (with and without the stock filter, first pages and next
    ones), when products of their sets and others are edited (price, name, attributes,
    category, status; several in one pass of the view, some beside a stock flip, one edited
    twice), then every answer the cache gives equals the same search run afresh on a pool of
    its own."""
    c, catalog, _ = world
    rnd = random.Random(seed)
    wanted = [query_of(catalog, d, in_stock=i % 2 == 0) for i, d in enumerate(drawn)]
    wanted.append(search.SearchQuery(sort="price_asc", limit=7))
    for q in list(wanted):
        after = run(c, q)["after"]
        if after is not None and rnd.random() < 0.5:
            wanted.append(replace(q, after=after))  # its next page, after a cursor
            run(c, wanted[-1])
    kinds = ["price", "price", "name", "attributes", "category", "status"]
    edited = rnd.sample(catalog.products, 8)
    for batch in (edited[:3], edited[3:4], edited[4:7], edited[7:]):
        appends = [_edit(c, p, rnd.choice(kinds), rnd, catalog) for p in batch]
        c.store.append(appends, _meta())
        if rnd.random() < 0.5:
            _flip(c, rnd.choice(batch))  # appends the flip, then one pass over both
        else:
            c.runner.run_pass([VIEW])
    again = edited[0]
    c.store.append([_edit(c, again, "price", rnd, catalog)], _meta())
    c.store.append([_edit(c, again, "name", rnd, catalog)], _meta())
    c.runner.run_pass([VIEW])
    assert_searched_afresh(c, [(q, run(c, q)) for q in wanted])


def kept_and_recounted(c) -> tuple[dict, dict]:
    """The view's kept facet counts, and the same counted afresh from its products."""
    schema = psycopg.sql.Identifier(live_schema(VIEW))
    out = []
    with c.pool.connection() as conn:
        for recount in (False, True):
            with conn.transaction(force_rollback=True), conn.cursor() as cur:
                if recount:
                    for table in ("category_counts", "pair_counts"):
                        cur.execute(
                            psycopg.sql.SQL("DELETE FROM {}.{}").format(
                                schema, psycopg.sql.Identifier(table)
                            )
                        )
                    search_facets.recount(cur, schema)
                out.append(
                    {
                        table: cur.execute(
                            psycopg.sql.SQL("SELECT * FROM {}.{} ORDER BY 1, 2").format(
                                schema, psycopg.sql.Identifier(table)
                            )
                        ).fetchall()
                        for table in ("category_counts", "pair_counts")
                    }
                )
    return out[0], out[1]


def test_the_kept_facet_counts_equal_a_recount_through_edits_flips_and_late_categories(world):
    """Given the catalog, when products are edited (every kind of edit, several in one pass,
    beside stock flips and a product edited twice in one pass), and a new product names a
    category before the category exists (its paths change when it does), then the view's
    kept facet counts equal the products counted afresh, with no row counting nothing."""
    c, catalog, _ = world
    rnd = random.Random(17)
    kinds = ["price", "name", "attributes", "category", "status", "status"]
    edited = rnd.sample(catalog.products, 30)
    for batch in (edited[:10], edited[10:11], edited[11:25], edited[25:]):
        c.store.append([_edit(c, p, rnd.choice(kinds), rnd, catalog) for p in batch], _meta())
        _flip(c, rnd.choice(batch))  # one pass over the edits and a flip
        kept, recounted = kept_and_recounted(c)
        assert kept == recounted
    twice = edited[0]
    c.store.append([_edit(c, twice, "category", rnd, catalog)], _meta())
    c.store.append([_edit(c, twice, "status", rnd, catalog)], _meta())
    c.runner.run_pass([VIEW])
    late, parent = uuid.uuid4(), next(iter(catalog.parents))
    product = uuid.uuid4()
    created = ProductCreated(
        product_id=product,
        sku=f"LATE-{product.hex[:8]}",
        name="late wool hat",
        description="",
        brand=None,
        category_ids=[late],
        attributes={"color": "teal"},
        price=Money(amount=Decimal("12.50"), currency="USD"),
    )
    steps = [
        LifecycleStatusChanged(old_status="draft", new_status="pending_approval"),
        LifecycleStatusChanged(old_status="pending_approval", new_status="active"),
    ]
    c.store.append([StreamAppend(product, 0, [created, *steps])], _meta())
    c.store.append(
        [
            StreamAppend(
                inventory_stream(created.sku),
                0,
                [StockReceived(sku=created.sku, location="loc-late", quantity=3)],
            )
        ],
        _meta(),
    )
    c.runner.run_pass([VIEW])
    kept, recounted = kept_and_recounted(c)
    assert kept == recounted
    category = CategoryCreated(
        category_id=late, name="Late", slug=f"late-{late.hex[:8]}", parent_id=parent
    )
    c.store.append([StreamAppend(late, 0, [category])], _meta())
    c.runner.run_pass([VIEW])
    kept, recounted = kept_and_recounted(c)
    assert kept == recounted
    rows = {(r[0], r[1]): r[2:] for r in kept["category_counts"]}
    assert rows[(parent, late)] == (1, 1), "the product counted under its category's parent"
    assert all(r[2] > 0 for table in kept.values() for r in table)


def test_a_view_from_before_the_kept_counts_gets_them_at_deploy(world):
    """Given the view's schema as an older version made it (no count tables), when the
    schemas are ensured at deploy, then the tables are created and counted from the
    products, and ensuring again changes nothing."""
    c, _, _ = world
    schema = live_schema(VIEW)
    before, _ = kept_and_recounted(c)
    with c.pool.connection() as conn:
        conn.execute(f"DROP TABLE {schema}.category_counts, {schema}.pair_counts")
    c.runner.ensure_schemas()
    kept, recounted = kept_and_recounted(c)
    assert kept == recounted == before
    c.runner.ensure_schemas()
    assert kept_and_recounted(c)[0] == before


def test_a_batch_changing_more_products_than_are_logged_empties_the_caches_instead(world):
    """Given an answer in the cache, when one pass of the view folds price changes of more
    products than a batch logs, then the view moves its content generation and logs none of
    them, and the answer is searched again (equal to a fresh search)."""
    c, catalog, _ = world
    query = search.SearchQuery(sort="price_desc", limit=5)
    first = run(c, query)
    rnd = random.Random(3)
    many = rnd.sample(catalog.products, product_search.CHANGES_LOGGED + 1)
    schema = live_schema(VIEW)
    with c.pool.connection() as conn:
        content, logged = conn.execute(
            f"SELECT content, (SELECT count(*) FROM {schema}.product_changes) FROM "
            f"{schema}.generation"
        ).fetchone()
    c.store.append([_edit(c, p, "price", rnd, catalog) for p in many], _meta())
    c.runner.run_pass([VIEW])
    with c.pool.connection() as conn:
        assert conn.execute(
            f"SELECT content, (SELECT count(*) FROM {schema}.product_changes) FROM "
            f"{schema}.generation"
        ).fetchone() == (content + 1, logged)
    again = run(c, query)
    assert again is not first
    assert_searched_afresh(c, [(query, again)])


def test_the_view_rebuilt_equals_the_live_view_row_for_row(world):
    c, _, _ = world
    c.runner.catch_up([VIEW])
    before = snapshot(c.pool, live_schema(VIEW))
    c.runner.rebuild(VIEW)
    after = snapshot(c.pool, live_schema(VIEW))
    assert after.keys() == before.keys()
    for table in before:
        problem = differences(after[table], before[table])
        if problem and table == "products":
            live = {r[0]: r for r in before[table]}
            for r in after[table]:
                if live[r[0]] != r:
                    problem = [
                        (i, a, b)
                        for i, (a, b) in enumerate(zip(r, live[r[0]], strict=True))
                        if a != b
                    ]
                    break
        assert problem is None, (table, problem)


def test_a_rating_change_evicts_only_the_cached_answers_that_depend_on_it(world):
    """Given answers in the cache (one sorted by rating, one not) and the search and ratings
    views at the head, when a pass of both moves them past a new pending review, a vote on an
    approved one (the ratings view's events, changing no product's rating) and a
    reservation, then both cached answers still serve; when the pending review's approval
    changes its product's rating, then the answer sorted by rating is read again, equals a
    fresh search and shows the new rating, and the other still serves."""
    c, catalog, oracle = world
    views = [VIEW, "reviews"]
    ctx = CommandContext.new("search-test")
    query = search.SearchQuery(q="", sort="rating", limit=5)
    shown = uuid.UUID(run(c, query)["items"][0]["id"])
    approved = send(
        c, SubmitReview(product_id=shown, customer_id=uuid.uuid4(), rating=5, text="good"), ctx
    ).extra["id"]
    send(c, ModerateReview(review_id=approved, decision="approve"), ctx)
    c.runner.catch_up(views)
    first = run(c, query)
    assert first["items"][0]["id"] == str(shown)
    broad = search.SearchQuery(q="", in_stock=True, limit=3)
    kept = run(c, broad)
    assert str(shown) not in {i["id"] for i in kept["items"]}

    review = SubmitReview(product_id=shown, customer_id=uuid.uuid4(), rating=1, text="poor")
    pending = send(c, review, ctx).extra["id"]
    send(c, CastVote(review_id=approved, helpful=True, customer_id=uuid.uuid4()), ctx)
    plenty = next(
        p
        for p in catalog.products
        if p.status == "active" and max(p.available.values(), default=0) >= 2
    )
    location = max(plenty.available, key=lambda k: plenty.available[k])
    at = c.store.append([reserving(c, plenty, {location: 1})], _meta())
    plenty.available[location] -= 1
    c.runner.run_pass(views)
    assert min(c.runner.position(v) for v in views) >= at
    assert run(c, query) is first
    assert run(c, broad) is kept

    send(c, ModerateReview(review_id=pending, decision="approve"), ctx)
    c.runner.run_pass(views)
    again = run(c, query)
    assert again is not first
    assert run(c, broad) is kept
    assert_searched_afresh(c, [(query, again), (broad, kept)])
    with c.pool.connection() as conn:
        average = conn.execute(
            "SELECT average FROM rm_reviews.product_ratings WHERE product_id = %s", (shown,)
        ).fetchone()[0]
    assert average < Decimal(first["items"][0]["rating"])
    oracle.ratings[shown] = average
    moved = [i for i in again["items"] if i["id"] == str(shown)]
    assert all(Decimal(i["rating"]) == average for i in moved)


def test_a_batch_changing_more_ratings_than_are_logged_empties_the_caches(world, monkeypatch):
    """Given a cached answer that depends on no rating, when one pass approves reviews of two
    products while a batch logs one product at most, then the pass logs a row for every
    product, and the next answer is read again (and equals a fresh search)."""
    c, catalog, oracle = world
    monkeypatch.setattr(reviews_view, "CHANGES_LOGGED", 1)
    views = [VIEW, "reviews"]
    ctx = CommandContext.new("search-test")
    c.runner.catch_up(views)
    broad = search.SearchQuery(q="", in_stock=True, limit=3)
    kept = run(c, broad)
    assert run(c, broad) is kept
    rated = [p for p in catalog.products if p.status == "active"][-2:]
    for p in rated:
        review = SubmitReview(product_id=p.id, customer_id=uuid.uuid4(), rating=3, text="ok")
        review_id = send(c, review, ctx).extra["id"]
        send(c, ModerateReview(review_id=review_id, decision="approve"), ctx)
    c.runner.run_pass(views)
    with c.pool.connection() as conn:
        logged = conn.execute(
            "SELECT product_id FROM rm_reviews.rating_changes "
            "WHERE generation = (SELECT ratings FROM rm_reviews.generation)"
        ).fetchall()
        for p in rated:
            oracle.ratings[p.id] = conn.execute(
                "SELECT average FROM rm_reviews.product_ratings WHERE product_id = %s", (p.id,)
            ).fetchone()[0]
    assert logged == [(None,)]
    again = run(c, broad)
    assert again is not kept
    assert_searched_afresh(c, [(broad, again)])
