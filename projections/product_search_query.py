"""The product search query and the suggestions, over ``rm_product_search``
(``projections/product_search.py``).

One statement answers a search: the filtered set (active products; the text, category with
descendants, attributes, in stock, then the effective price range and the minimum rating),
then from it the page (keyset after the cursor's key), ``total`` and the facets, so all four
read one snapshot.

**Effective price.** What a guest (no customer segment, no address) pays for one unit now:
among the active pricing rules valid at this instant, in the product's currency or in none,
whose scope takes the product (its SKU, its id or one of its own categories; an empty scope
takes all), and that apply without a segment or a region (a ``tiered`` rule's tier for one
unit, ``time_based`` on its schedule now, ``cost_plus``; ``segment`` and ``geographic`` rules
never apply), the highest priority wins, a tie to the lower price then the smaller rule id,
rounded half-up to the currency's minor unit and never negative; with none, the product's own
price. That is ``domain.pricing.effective.effective_price`` for such a guest: the rules are
reduced to that case here (``guest_rules``) and the per-product choice runs in SQL. With no
rule live now, the effective price is the base price and its index serves the price sort.

**Rating.** The ratings view's table (``rm_reviews.product_ratings``: average over approved
reviews) is joined when it exists; a product without one has no rating: ``rating_min``
excludes it and ``sort=rating`` puts it last."""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from domain.pricing.effective import in_window, on_schedule
from domain.pricing.rules import PricingRule, RuleScope, check_rule
from projections import search_text as text
from projections.base import live_schema
from projections.product_search import NAME

SORTS = ("relevance", "price_asc", "price_desc", "rating", "newest")
RATINGS = "rm_reviews.product_ratings"
#: Facet sizes: the most frequent values first (ties by value).
CATEGORY_FACETS = 100
ATTRIBUTE_VALUES = 50
ATTRIBUTE_NAMES = 50
#: Answers kept per pool between two changes of the views (``_Answers``).
ANSWERS = 2_000
#: How long a caller waits for the same search running for another (``_Answers.board``).
FLIGHT_WAIT_S = 60.0


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    category_id: UUID | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    rating_min: Decimal | None = None
    in_stock: bool = False
    #: attribute name → accepted values (any of them: OR within a name, AND across names)
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "relevance"
    limit: int = 50
    #: the cursor's (key, id): the last row of the page before
    after: tuple[str, UUID] | None = None


@dataclass(frozen=True)
class GuestRule:
    rule_id: UUID
    priority: int
    currency: str | None
    skus: tuple[str, ...]
    product_ids: tuple[UUID, ...]
    category_ids: tuple[UUID, ...]
    fixed: Decimal | None
    percent: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.rule_id),
            "priority": self.priority,
            "currency": self.currency,
            "everything": not (self.skus or self.product_ids or self.category_ids),
            "skus": list(self.skus),
            "product_ids": [str(p) for p in self.product_ids],
            "category_ids": [str(c) for c in self.category_ids],
            "fixed": None if self.fixed is None else str(self.fixed),
            "percent": str(self.percent),
        }


def guest_rule(rule: PricingRule, at: datetime) -> GuestRule | None:
    """``rule`` as it prices one unit for a guest at ``at``, or None when it does not."""
    if not rule.active or not in_window(rule, at):
        return None
    adjustment = None
    fixed: Decimal | None = None
    match rule.rule_type:
        case "tiered":
            adjustment = next(
                (t.adjustment for t in rule.tiers if t.min <= 1 and (t.max is None or t.max >= 1)),
                None,
            )
        case "time_based":
            adjustment = rule.adjustment if on_schedule(rule, at) else None
        case "cost_plus":
            assert rule.cost is not None
            fixed = rule.cost.amount * (1 + rule.markup_percent / 100)
    if adjustment is None and fixed is None:
        return None
    if adjustment is not None and adjustment.price is not None:
        fixed = adjustment.price.amount
    return GuestRule(
        rule_id=rule.rule_id,
        priority=rule.priority,
        currency=rule.currency,
        skus=tuple(sorted(rule.skus)),
        product_ids=tuple(sorted(rule.product_ids)),
        category_ids=tuple(sorted(rule.category_ids)),
        fixed=fixed,
        percent=adjustment.percent if adjustment is not None and fixed is None else Decimal(0),
    )


def active_rules(cur, schema: sql.Identifier) -> list[PricingRule]:  # noqa: ANN001
    """The view's active rules as ``PricingRule``s."""
    cur.execute(
        sql.SQL("SELECT id, rule_type, definition FROM {}.rules WHERE active").format(schema)
    )
    out = []
    for row in cur.fetchall():
        d = row["definition"]
        rule, _ = check_rule(
            row["id"],
            d["name"],
            row["rule_type"],
            RuleScope(**d["scope"]),
            d["config"],
            d["priority"],
            datetime.fromisoformat(d["valid_from"]) if d.get("valid_from") else None,
            datetime.fromisoformat(d["valid_to"]) if d.get("valid_to") else None,
        )
        out.append(rule)
    return out


class _Answers:
    """One pool's read cache of answers, at one state of the views: the search view's table
    (a rebuilt view is a new state) and content generation, and the ratings view's position;
    a change of that state empties it, so an answer is never older than the views it was read
    at. Within a state, a move of the stock generation evicts only the answers it may change:
    those whose page shows a product that flipped, and those filtered on stock whose other
    filters a flipped product meets (it entered or left their set). ``flips`` reads which,
    from ``stock_flips``; when it cannot say, everything goes. At most ``ANSWERS`` answers are
    kept, the least recently used leaving first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: notified when a move of the stock generation ends (one caller moves it at a time)
        self.moved = threading.Condition(self.lock)
        self.moving = False
        self.state: tuple[Any, ...] | None = None
        self.stock: int | None = None
        self.rules: list[PricingRule] | None = None
        #: (state, stock, query key) → the search running for it
        self.flights: dict[tuple[Any, ...], Future] = {}
        #: key → (answer, its filter when filtered on stock, the ids its page shows)
        self.answers: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], Any, frozenset]] = (
            OrderedDict()
        )

    def at(self, state: tuple[Any, ...], stock: int, flips: Flips) -> None:
        """Bring the cache to ``state`` and ``stock``. ``flips(since, upto, filters)``: the
        products flipped by stock generations ``since`` + 1 to ``upto`` and the indexes of the
        ``filters`` (of the answers filtered on stock) one of them meets; None when unknown.
        ``flips`` reads the database with the lock released (the event loop's readers take
        it); callers arriving meanwhile wait for that move rather than start their own."""
        with self.lock:
            while True:
                if self.state is not None and _behind(state, self.state):
                    return  # read before another caller moved the cache on: it misses
                if state != self.state or self.stock is None:
                    self.state, self.stock, self.rules = state, stock, None
                    self.answers.clear()
                    return
                if stock <= self.stock:
                    return  # a caller that read before another moved the cache on: it misses
                if not self.moving:
                    break
                self.moved.wait(timeout=5.0)
            self.moving = True
            since = self.stock
            on_stock = [(k, f) for k, (_, f, _) in self.answers.items() if f is not None]
        try:
            found = flips(since, stock, [f for _, f in on_stock])
        except BaseException:
            with self.lock:
                self.moving = False
                self.moved.notify_all()
            raise
        with self.lock:
            self.moving = False
            self.moved.notify_all()
            if (self.state, self.stock) != (state, since):
                return  # emptied meanwhile (the views moved on)
            self.stock = stock
            if found is None:
                self.answers.clear()
                return
            flipped, met = found
            tested = {k for k, _ in on_stock}
            gone = {on_stock[i][0] for i in met}
            for k, (_, on, ids) in self.answers.items():
                # an answer put during the move was not tested: it goes if filtered on stock
                if ids & flipped or (on is not None and k not in tested):
                    gone.add(k)
            for key in gone:
                self.answers.pop(key, None)

    def board(self, key: tuple[Any, ...]) -> tuple[Future, bool]:
        """The search running for ``key`` (state, stock generation, query), and whether the
        caller is the one to run it (the first to ask): concurrent misses of one answer run
        its statement once."""
        with self.lock:
            flight = self.flights.get(key)
            if flight is not None:
                return flight, False
            flight = self.flights[key] = Future()
            return flight, True

    def land(
        self,
        key: tuple[Any, ...],
        flight: Future,
        answer: dict[str, Any] | None = None,
        error: BaseException | None = None,
    ) -> None:
        """The search for ``key`` ended: its waiters get ``answer`` (or ``error``)."""
        with self.lock:
            if self.flights.get(key) is flight:
                del self.flights[key]
        if error is not None:
            flight.set_exception(error)
        else:
            flight.set_result(answer)

    def keep_rules(self, state: tuple[Any, ...], rules: list[PricingRule]) -> None:
        with self.lock:
            if state == self.state:
                self.rules = rules

    def get(self, state: tuple[Any, ...], stock: int, key: tuple[Any, ...]) -> dict | None:
        with self.lock:
            if (state, stock) != (self.state, self.stock) or key not in self.answers:
                return None
            self.answers.move_to_end(key)
            return self.answers[key][0]

    def put(
        self,
        state: tuple[Any, ...],
        stock: int,
        key: tuple[Any, ...],
        answer: dict[str, Any],
        on_stock: Any,
    ) -> None:
        """Keep ``answer``, read after ``state`` and ``stock`` were: unless the cache has moved
        on since (the answer might then miss a flip the cache has already evicted for).
        ``on_stock``: the answer's filter when it is filtered on stock, else None."""
        with self.lock:
            if (state, stock) == (self.state, self.stock):
                ids = frozenset(i["id"] for i in answer["items"])
                self.answers[key] = (answer, on_stock, ids)
                while len(self.answers) > ANSWERS:
                    self.answers.popitem(last=False)


def _behind(state: tuple[Any, ...], than: tuple[Any, ...]) -> bool:
    """Whether ``state`` is an earlier state of the same views than ``than``."""
    if state == than or state[0] != than[0]:
        return False
    return state[1] <= than[1] and (state[2] is None or than[2] is None or state[2] <= than[2])


_answers: weakref.WeakKeyDictionary[ConnectionPool, _Answers] = weakref.WeakKeyDictionary()
_answers_lock = threading.Lock()
#: Whether the ratings table exists, per pool: once seen it stays; its absence is asked again
#: after ``_RECHECK_S`` (the reviews view may be created by a later start).
_ratings: weakref.WeakKeyDictionary[ConnectionPool, float | bool] = weakref.WeakKeyDictionary()
_RECHECK_S = 10.0


def _ratings_exist(pool: ConnectionPool, cur) -> bool:  # noqa: ANN001
    known = _ratings.get(pool)
    if known is True:
        return True
    if known is not None and time.monotonic() < known:
        return False
    cur.execute("SELECT to_regclass(%s) IS NOT NULL AS there", (RATINGS,))
    there = bool(cur.fetchone()["there"])
    _ratings[pool] = True if there else time.monotonic() + _RECHECK_S
    return there


def candidates(cur, schema: sql.Identifier, words: list[str]) -> list[tuple[str, set[str]]]:  # noqa: ANN001
    """Per query word, the lexicon words one edit away (``search_text``), in one query."""
    fuzzy = [w for w in words if len(w) >= text.FUZZY_FROM]
    found: dict[str, set[str]] = {w: set() for w in words}
    if fuzzy:
        variants = [(w, v) for w in fuzzy for v in text.deletions(w)]
        cur.execute(
            sql.SQL(
                "SELECT DISTINCT q.w, l.word FROM unnest(%s::text[], %s::text[]) AS q(w, v) "
                "JOIN {}.lexicon l ON l.variant = q.v"
            ).format(schema),
            ([v[0] for v in variants], [v[1] for v in variants]),
        )
        for row in cur.fetchall():
            if text.one_edit(row["w"], row["word"]):
                found[row["w"]].add(row["word"])
    return [(w, found[w]) for w in words]


_KEYS = {
    # sort → (key expression over the filtered set, descending?, SQL type of the cursor key)
    "relevance": ("rank", True, "real"),
    "price_asc": ("price", False, "numeric"),
    "price_desc": ("price", True, "numeric"),
    "rating": ("coalesce(rating, -1)", True, "numeric"),
    "newest": ("created_at", True, "timestamptz"),
}


def sort_key(sort: str, has_text: bool) -> tuple[str, bool, str]:
    """The key a sort orders by (relevance without text is newest)."""
    return _KEYS["newest" if sort == "relevance" and not has_text else sort]


def search(pool: ConnectionPool, query: SearchQuery, now: datetime) -> dict[str, Any]:
    """The page, ``total``, facets and the key to continue after (module docstring). The
    answer may be shared with other callers (``_Answers``): read it, do not change it, but
    for ``encoded``, where the first caller may keep its encoding of the answer for the next."""
    schema = sql.Identifier(live_schema(NAME))
    words = text.query_words(query.q)
    if query.q.strip() and not words:
        return _empty()
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        ratings = _ratings_exist(pool, cur)
        # the state is read before the answer, so an answer is never older than its state
        state, stock = _state(cur, schema, ratings)
        with _answers_lock:
            cache = _answers.setdefault(pool, _Answers())
        cache.at(
            state,
            stock,
            lambda since, upto, filters: _flips(cur, schema, since, upto, filters, ratings),
        )
        rules = cache.rules
        if rules is None:
            rules = active_rules(cur, schema)
            cache.keep_rules(state, rules)
        guests = tuple(g for g in (guest_rule(r, now) for r in rules) if g is not None)
        key = _key(words, query, guests)
        found = cache.get(state, stock, key)
        if found is not None:
            return found
        flight, leading = cache.board((state, stock, key))
        if leading:
            try:
                alternatives = candidates(cur, schema, words) if words else []
                statement, params = _statement(schema, query, alternatives, list(guests), ratings)
                cur.execute(statement, params)
                row = cur.fetchone()
            except BaseException as exc:
                cache.land((state, stock, key), flight, error=exc)
                raise
    if not leading:
        # the same search at the same state is running for another caller: its answer
        # (the connection went back to the pool meanwhile)
        return flight.result(timeout=FLIGHT_WAIT_S)
    found = _answer(row, query, bool(words))
    cache.put(
        state,
        stock,
        key,
        found,
        _Filter.of(query, alternatives, guests) if query.in_stock else None,
    )
    cache.land((state, stock, key), flight, answer=found)
    return found


def _state_statement(schema: sql.Identifier, ratings: bool) -> sql.Composable:
    return sql.SQL(
        "SELECT tableoid::bigint AS tables, content, stock, {1} AS ratings FROM {0}.generation"
    ).format(
        schema,
        sql.SQL("(SELECT position FROM {}.tracking)").format(sql.Identifier(RATINGS.split(".")[0]))
        if ratings
        else sql.SQL("NULL::bigint"),
    )


def _state_of(row: dict[str, Any]) -> tuple[tuple[Any, ...], int]:
    return (row["tables"], row["content"], row["ratings"]), row["stock"]


def _state(cur, schema: sql.Identifier, ratings: bool) -> tuple[tuple[Any, ...], int]:  # noqa: ANN001
    """What the answers depend on besides the query and the clock (``_Answers``): the state,
    and the stock generation."""
    cur.execute(_state_statement(schema, ratings))
    return _state_of(cur.fetchone())


async def cached(
    reads: AsyncConnectionPool, pool: ConnectionPool, query: SearchQuery, now: datetime
) -> dict[str, Any] | None:
    """``search``'s answer when ``pool``'s cache holds it at the views' state as read now, read
    on the event loop with ``reads`` (one small query, no thread hand-off); None when it does
    not, or when the cache must first move (then ``search``, in a thread, answers)."""
    words = text.query_words(query.q)
    if query.q.strip() and not words:
        return _empty()
    cache, known = _answers.get(pool), _ratings.get(pool)
    if cache is None or known is None or (known is not True and time.monotonic() >= known):
        return None
    ratings = known is True
    async with reads.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(_state_statement(sql.Identifier(live_schema(NAME)), ratings))
        state, stock = _state_of(await cur.fetchone())
    with cache.lock:
        rules = cache.rules if (state, stock) == (cache.state, cache.stock) else None
    if rules is None:
        return None
    guests = tuple(g for g in (guest_rule(r, now) for r in rules) if g is not None)
    return cache.get(state, stock, _key(words, query, guests))


@dataclass(frozen=True)
class _Filter:
    """What an answer filtered on stock selects besides stock, to test flipped products
    against: the text as a ``tsquery`` (None: no text), the category, the attribute groups
    (each a list of ``name=value``: one of each group), the effective price range (under
    ``guests``, the rules live when it was read) and the minimum rating."""

    tsquery: str | None
    category: UUID | None
    attributes: tuple[tuple[str, ...], ...]
    price_min: Decimal | None
    price_max: Decimal | None
    rating_min: Decimal | None
    guests: tuple[GuestRule, ...]

    @classmethod
    def of(cls, query: SearchQuery, alternatives, guests) -> _Filter:  # noqa: ANN001
        return cls(
            tsquery=text.tsquery_literal(alternatives) if alternatives else None,
            category=query.category_id,
            attributes=tuple(
                tuple(f"{name}={v}" for v in values)
                for name, values in sorted(query.attributes.items())
            ),
            price_min=query.price_min,
            price_max=query.price_max,
            rating_min=query.rating_min,
            guests=guests,
        )


#: ``_Answers.at``'s reader of flips: (since, upto, filters) → (flipped ids, indexes met).
Flips = Callable[[int, int, list[_Filter]], tuple[frozenset[str], set[int]] | None]


def _flips(
    cur,  # noqa: ANN001
    schema: sql.Identifier,
    since: int,
    upto: int,
    filters: list[_Filter],
    ratings: bool,
) -> tuple[frozenset[str], set[int]] | None:
    """The products (ids as the answers hold them) flipped by stock generations ``since`` + 1
    to ``upto``, and which of ``filters`` one of them (active) meets; None when the view no
    longer keeps all of those generations. Filters are tested by the rules live now; a filter
    read under other rules counts as met (its answer is no longer reachable anyway)."""
    cur.execute(
        sql.SQL(
            "SELECT (SELECT min(stock) FROM {0}.stock_flips) AS oldest, ARRAY(SELECT DISTINCT "
            "product_id FROM {0}.stock_flips WHERE stock > %s AND stock <= %s) AS ids"
        ).format(schema),
        (since, upto),
    )
    row = cur.fetchone()
    if row["oldest"] is None or row["oldest"] > since + 1:
        return None
    ids = row["ids"]
    flipped = frozenset(str(i) for i in ids)
    if not filters or not ids:
        return flipped, set()
    guests = {f.guests for f in filters}
    rules = max(guests, key=lambda g: sum(f.guests == g for f in filters))
    met = {i for i, f in enumerate(filters) if f.guests != rules}
    tested = [(i, f) for i, f in enumerate(filters) if f.guests == rules]
    statement, params = _meets(schema, list(rules), ratings)
    cur.execute(statement, {**params, **_meets_params(ids, dict(tested))})
    met.update(r["i"] for r in cur.fetchall())
    return flipped, met


def _meets_params(ids: list[UUID], filters: dict[int, _Filter]) -> dict[str, Any]:
    """``_meets``'s parameters: the products, and the filters by their indexes."""
    return {
        "ids": ids,
        "i": list(filters),
        "tsq": [f.tsquery for f in filters.values()],
        "category": [f.category for f in filters.values()],
        "attrs": [Jsonb([list(g) for g in f.attributes]) for f in filters.values()],
        "pmin": [f.price_min for f in filters.values()],
        "pmax": [f.price_max for f in filters.values()],
        "rmin": [f.rating_min for f in filters.values()],
    }


def _meets(
    schema: sql.Identifier, rules: list[GuestRule], ratings: bool
) -> tuple[sql.Composable, dict[str, Any]]:
    """The indexes of the filters (arrays ``i``, ``tsq`` ...) that one of the active products
    ``ids`` meets, with their effective price and rating as ``_statement`` computes them."""
    params: dict[str, Any] = {}
    joins, price, rating, with_rules = _price_and_rating(rules, ratings, params)
    statement = sql.SQL(
        """WITH {with_rules}flipped AS MATERIALIZED (
            SELECT p.document, p.category_paths, p.attr_pairs, {price} AS price,
                   {rating} AS rating
            FROM {schema}.products p {joins}
            WHERE p.id = ANY(%(ids)s::uuid[]) AND p.status = 'active')
        SELECT s.i FROM unnest(%(i)s::int[], %(tsq)s::text[], %(category)s::uuid[],
                               %(attrs)s::jsonb[], %(pmin)s::numeric[], %(pmax)s::numeric[],
                               %(rmin)s::numeric[]) AS s(i, tsq, category, attrs, pmin, pmax, rmin)
        WHERE EXISTS (SELECT 1 FROM flipped f
            WHERE (s.tsq IS NULL OR f.document @@ s.tsq::tsquery)
              AND (s.category IS NULL OR f.category_paths @> ARRAY[s.category])
              AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(s.attrs) g
                              WHERE NOT f.attr_pairs && ARRAY(
                                  SELECT jsonb_array_elements_text(g)))
              AND (s.pmin IS NULL OR f.price >= s.pmin)
              AND (s.pmax IS NULL OR f.price <= s.pmax)
              AND (s.rmin IS NULL OR f.rating >= s.rmin))"""
    ).format(
        with_rules=with_rules,
        price=price,
        rating=rating,
        schema=schema,
        joins=sql.SQL(" ").join(joins),
    )
    return statement, params


def _key(words: list[str], query: SearchQuery, guests: tuple[GuestRule, ...]) -> tuple:
    """An answer's key in the cache: the query's words and fields, and the guest rules live."""
    return (tuple(words), *_query_key(query), guests)


def _query_key(query: SearchQuery) -> tuple[Any, ...]:
    """The query's fields but its text, hashable (``attributes`` is a dict)."""
    return (
        query.category_id,
        query.price_min,
        query.price_max,
        query.rating_min,
        query.in_stock,
        tuple(sorted(query.attributes.items())),
        query.sort,
        query.limit,
        query.after,
    )


def _answer(row: dict[str, Any], query: SearchQuery, has_text: bool) -> dict[str, Any]:
    items = row["items"] or []
    more = len(items) > query.limit
    items = items[: query.limit]
    last = items[-1] if more else None
    return {
        "items": items,
        "total": row["total"],
        "facets": {
            "categories": row["categories"] or [],
            "attributes": _attributes(row["attributes"] or []),
            "price": {"min": row["price_min"], "max": row["price_max"]},
        },
        "after": None if last is None else (str(last["_key"]), UUID(last["id"])),
    }


def _empty() -> dict[str, Any]:
    return {
        "items": [],
        "total": 0,
        "facets": {"categories": [], "attributes": {}, "price": {"min": None, "max": None}},
        "after": None,
    }


def _attributes(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["name"], []).append({"value": r["value"], "count": r["count"]})
    return out


def _statement(
    schema: sql.Identifier,
    query: SearchQuery,
    alternatives: list[tuple[str, set[str]]],
    rules: list[GuestRule],
    ratings: bool,
) -> tuple[sql.Composable, dict[str, Any]]:
    params: dict[str, Any] = {}
    where = [sql.SQL("p.status = 'active'")]
    rank = sql.SQL("0::real")
    if alternatives:
        params["tsq"] = text.tsquery_literal(alternatives)
        where.append(sql.SQL("p.document @@ %(tsq)s::tsquery"))
    if alternatives and query.sort == "relevance":
        params["qtext"] = " ".join(w for w, _ in alternatives)
        # weights D, C, B, A: name above description above attributes
        rank = sql.SQL(
            "(10 * ts_rank('{0.05, 0.2, 0.4, 1.0}', p.document, %(tsq)s::tsquery) "
            "+ similarity(lower(p.name), %(qtext)s))::real"
        )
    if query.category_id is not None:
        params["category"] = query.category_id
        where.append(sql.SQL("p.category_paths @> ARRAY[%(category)s::uuid]"))
    for i, (name, values) in enumerate(sorted(query.attributes.items())):
        params[f"attr{i}"] = [f"{name}={v}" for v in values]
        where.append(sql.SQL("p.attr_pairs && {}::text[]").format(sql.Placeholder(f"attr{i}")))
    if query.in_stock:
        where.append(sql.SQL("p.in_stock"))
    joins, price, rating, with_rules = _price_and_rating(rules, ratings, params)
    after_filters = [sql.SQL("true")]
    if query.price_min is not None:
        params["price_min"] = query.price_min
        after_filters.append(sql.SQL("price >= %(price_min)s"))
    if query.price_max is not None:
        params["price_max"] = query.price_max
        after_filters.append(sql.SQL("price <= %(price_max)s"))
    if query.rating_min is not None:
        params["rating_min"] = query.rating_min
        after_filters.append(sql.SQL("rating >= %(rating_min)s"))
    key_expr, descending, key_type = sort_key(query.sort, bool(alternatives))
    key = sql.SQL(key_expr)
    direction = sql.SQL("DESC" if descending else "ASC")
    page_filter = sql.SQL("true")
    if query.after is not None:
        params["after_key"], params["after_id"] = query.after
        beyond = sql.SQL("<" if descending else ">")
        page_filter = sql.SQL(
            "({key} {beyond} %(after_key)s::{t} OR ({key} = %(after_key)s::{t} "
            "AND id > %(after_id)s))"
        ).format(key=key, beyond=beyond, t=sql.SQL(key_type))
    params["limit"] = query.limit + 1
    statement = sql.SQL(
        """WITH {with_rules}matched AS (
            SELECT p.id, p.category_paths, p.attr_pairs, p.created_at,
                   {price} AS price, {rating} AS rating, {rank} AS rank
            FROM {schema}.products p {joins} WHERE {where}),
        filtered AS MATERIALIZED (SELECT * FROM matched WHERE {after_filters})
        SELECT
          (SELECT count(*) FROM filtered) AS total,
          (SELECT jsonb_agg(jsonb_build_object('id', c, 'count', n) ORDER BY n DESC, c)
             FROM (SELECT c, count(*) AS n FROM filtered, unnest(category_paths) c
                   GROUP BY c ORDER BY n DESC, c LIMIT {category_facets}) f) AS categories,
          (SELECT jsonb_agg(jsonb_build_object('name', name, 'value', value, 'count', n)
                            ORDER BY name, n DESC, value)
             FROM (SELECT name, value, n, row_number() OVER (PARTITION BY name
                          ORDER BY n DESC, value) AS k, dense_rank() OVER (ORDER BY name) AS m
                   FROM (SELECT split_part(pair, '=', 1) AS name,
                                substr(pair, strpos(pair, '=') + 1) AS value, count(*) AS n
                         FROM filtered, unnest(attr_pairs) pair GROUP BY pair) g) v
             WHERE k <= {attribute_values} AND m <= {attribute_names}) AS attributes,
          (SELECT min(price)::text FROM filtered) AS price_min,
          (SELECT max(price)::text FROM filtered) AS price_max,
          (SELECT jsonb_agg(jsonb_build_object('id', p.id, 'sku', p.sku, 'name', p.name,
                    'description', p.description, 'brand', p.brand, 'currency', p.currency,
                    'category_ids', p.category_ids, 'attributes', p.attributes,
                    'in_stock', p.in_stock, 'created_at', p.created_at,
                    'base_amount', p.base_amount::text, 'price', page.price::text,
                    'rating', page.rating::text, 'score', page.rank,
                    '_key', page.sort_key::text) ORDER BY page.k_order)
             FROM (SELECT *, {key} AS sort_key,
                          row_number() OVER (ORDER BY {key} {direction}, id) AS k_order
                   FROM filtered WHERE {page_filter}
                   ORDER BY {key} {direction}, id LIMIT %(limit)s) page
             JOIN {schema}.products p ON p.id = page.id) AS items"""
    ).format(
        with_rules=with_rules,
        price=price,
        rating=rating,
        rank=rank,
        schema=schema,
        joins=sql.SQL(" ").join(joins),
        where=sql.SQL(" AND ").join(where),
        after_filters=sql.SQL(" AND ").join(after_filters),
        category_facets=sql.Literal(CATEGORY_FACETS),
        attribute_values=sql.Literal(ATTRIBUTE_VALUES),
        attribute_names=sql.Literal(ATTRIBUTE_NAMES),
        key=key,
        direction=direction,
        page_filter=page_filter,
    )
    return statement, params


def _price_and_rating(
    rules: list[GuestRule], ratings: bool, params: dict[str, Any]
) -> tuple[list[sql.Composable], sql.Composable, sql.Composable, sql.Composable]:
    """The joins, the effective price and rating expressions over ``products p``, and the
    ``live_rules`` CTE they need (with its parameter added to ``params``)."""
    joins: list[sql.Composable] = []
    price: sql.Composable = sql.SQL("p.base_amount")
    with_rules: sql.Composable = sql.SQL("")
    if rules:
        params["rules"] = Jsonb([r.as_json() for r in rules])
        joins.append(
            sql.SQL(
                "LEFT JOIN LATERAL (SELECT round(greatest(coalesce(r.fixed, p.base_amount * "
                "(1 + r.percent / 100)), 0), p.price_scale) AS amount FROM live_rules r "
                "WHERE (r.currency IS NULL OR r.currency = p.currency) AND (r.everything OR "
                "p.sku = ANY(r.skus) OR p.id = ANY(r.product_ids) OR p.category_ids && "
                "r.category_ids) ORDER BY r.priority DESC, 1, r.id LIMIT 1) eff "
                "ON p.base_amount IS NOT NULL"
            )
        )
        price = sql.SQL("coalesce(eff.amount, p.base_amount)")
        with_rules = sql.SQL(
            "live_rules AS MATERIALIZED (SELECT * FROM jsonb_to_recordset(%(rules)s) AS r(id "
            "uuid, priority int, currency text, everything boolean, skus text[], product_ids "
            "uuid[], category_ids uuid[], fixed numeric, percent numeric)), "
        )
    rating: sql.Composable = sql.SQL("NULL::numeric")
    if ratings:
        joins.append(sql.SQL("LEFT JOIN {} pr ON pr.product_id = p.id").format(_ratings_table()))
        rating = sql.SQL("pr.average")
    return joins, price, rating, with_rules


def _ratings_table() -> sql.Composable:
    schema, table = RATINGS.split(".")
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def suggest(pool: ConnectionPool, q: str, limit: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Active products' names and categories that start with ``q`` (case aside), closest
    (trigram similarity) first, then shortest."""
    prefix = q.strip().lower()
    if not prefix:
        return {"products": [], "categories": []}
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    schema = sql.Identifier(live_schema(NAME))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT id, name FROM {}.products WHERE status = 'active' AND lower(name) "
                "LIKE %s ORDER BY similarity(lower(name), %s) DESC, length(name), name, id "
                "LIMIT %s"
            ).format(schema),
            (pattern, prefix, limit),
        )
        products = cur.fetchall()
        cur.execute(
            sql.SQL(
                "SELECT id, name, slug FROM {}.categories WHERE lower(name) LIKE %s "
                "ORDER BY similarity(lower(name), %s) DESC, length(name), name, id LIMIT %s"
            ).format(schema),
            (pattern, prefix, limit),
        )
        categories = cur.fetchall()
    return {"products": products, "categories": categories}
