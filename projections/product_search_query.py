"""The product search query and the suggestions, over ``rm_product_search``
(``projections/product_search.py``).

One statement answers a search: the filtered set (active products; the text, category with
descendants, attributes, in stock, then the effective price range and the minimum rating),
then from it the page (keyset after the cursor's key), ``total`` and the facets, so all four
read one snapshot; a browsing set (no text, no filter but a category and in-stock) reads
``total`` and the facets from the counts the view keeps (``projections/search_facets.py``).
Answers are kept per API process (``search_answers``), and so are a filtered set's ``total``
and facets: another sort or page of the same set reads its page alone and takes them, when
the page was read at exactly the state they were.

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
excludes it and ``sort=rating`` puts it last. The answers a rating's change may change are
evicted from the cache (``search_answers.rates``), by the ratings view's log
``rm_reviews.rating_changes``."""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple
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
from projections.search_answers import (
    ANSWERS,
    ATTRIBUTE_NAMES,
    ATTRIBUTE_VALUES,
    CATEGORY_FACETS,
    MOVE_BUCKETS,
    Answers,
    Changes,
    Entry,
    Filter,
    Generations,
    Moved,
    not_after,
)
from projections.search_facets import ALL

SORTS = ("relevance", "price_asc", "price_desc", "rating", "newest")
RATINGS = "rm_reviews.product_ratings"
#: The ratings view's log of the products each ratings generation changed.
RATING_CHANGES = sql.Identifier("rm_reviews", "rating_changes")
#: How long a caller waits for the same search running for another (``Answers.board``).
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


_answers: weakref.WeakKeyDictionary[ConnectionPool, Answers] = weakref.WeakKeyDictionary()
_answers_lock = threading.Lock()
#: Whether the ratings table exists, per pool: once seen it stays; its absence is asked again
#: after ``_RECHECK_S`` (the reviews view may be created by a later start).
_ratings: weakref.WeakKeyDictionary[ConnectionPool, float | bool] = weakref.WeakKeyDictionary()
_RECHECK_S = 10.0


class CacheFigures(NamedTuple):
    """A pool's answer cache so far: the answers it keeps, those moves patched, those they
    evicted by why (``search_answers.REASONS``), and the moves' durations (a count per
    ``search_answers.MOVE_BUCKETS`` bound, the last beyond them all; their sum in seconds)."""

    kept: int
    patched: int
    evicted: dict[str, int]
    moves: tuple[int, ...]
    moves_s: float


def cache_figures(pool: ConnectionPool) -> CacheFigures:
    """What ``pool``'s answer cache has done so far (``CacheFigures``)."""
    cache = _answers.get(pool)
    if cache is None:
        return CacheFigures(0, 0, {}, (0,) * (len(MOVE_BUCKETS) + 1), 0.0)
    with cache.lock:
        return CacheFigures(
            len(cache.answers),
            cache.patched,
            dict(cache.evictions),
            tuple(cache.moves),
            cache.moves_s,
        )


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


def _rank(product: str, tsquery: str, words: str) -> str:
    """The relevance of the product row ``product`` to the text: the ``tsquery``'s weighted
    rank (weights D, C, B, A: name above description above attributes) and the name's
    similarity to the query's ``words``."""
    return (
        f"(10 * ts_rank('{{0.05, 0.2, 0.4, 1.0}}', {product}.document, {tsquery}) "
        f"+ similarity(lower({product}.name), {words}))::real"
    )


_KEYS = {
    # sort → (key expression over the filtered set, descending?, SQL type of the cursor key)
    "relevance": ("rank", True, "real"),
    "price_asc": ("price", False, "numeric"),
    "price_desc": ("price", True, "numeric"),
    "rating": ("coalesce(rating, -1)", True, "numeric"),
    "newest": ("created_at", True, "timestamptz"),
}


def sort_key(sort: str, has_text: bool) -> tuple[str, bool, str]:
    """The key a sort orders by (``_KEYS``)."""
    return _KEYS[_keyed_by(sort, has_text)]


def _keyed_by(sort: str, has_text: bool) -> str:
    """The ``_KEYS`` entry a sort orders by: relevance without text is newest."""
    return "newest" if sort == "relevance" and not has_text else sort


def search(pool: ConnectionPool, query: SearchQuery, now: datetime) -> dict[str, Any]:
    """The page, ``total``, facets and the key to continue after (module docstring). The
    answer may be shared with other callers (``search_answers.Answers``): read it, do not
    change it, but for ``encoded``, where the first caller may keep its encoding of the answer
    for the next."""
    schema = sql.Identifier(live_schema(NAME))
    words = text.query_words(query.q)
    if query.q.strip() and not words:
        return _empty()
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        ratings = _ratings_exist(pool, cur)
        # the state is read before the answer, so an answer is never older than its state
        state, products = _state(cur, schema, ratings)
        with _answers_lock:
            cache = _answers.setdefault(pool, Answers())
        cache.at(state, products, _changes_reader(cur, schema, state, ratings))
        rules = cache.rules
        if rules is None:
            rules = active_rules(cur, schema)
            cache.keep_rules(state, rules)
        guests = tuple(g for g in (guest_rule(r, now) for r in rules) if g is not None)
        key = _key(words, query, guests)
        found = cache.get(state, products, key)
        if found is not None:
            return found
        flight, leading = cache.board((state, products, key))
        if leading:
            try:
                alternatives = candidates(cur, schema, words) if words else []
                counted = cache.get(state, products, _set_key(words, query, guests))
                row = _read(cur, schema, query, alternatives, guests, ratings, counted)
                if counted is not None and _state_of(row["at"]) != (state, products):
                    counted = None  # the views moved since: the page and counts from one read
                    row = _read(cur, schema, query, alternatives, guests, ratings, None)
            except BaseException as exc:
                cache.land((state, products, key), flight, error=exc)
                raise
    if not leading:
        # the same search at the same state is running for another caller: its answer
        # (the connection went back to the pool meanwhile)
        return flight.result(timeout=FLIGHT_WAIT_S)
    found = _answer(row, query, bool(words), counted)
    if _state_of(row["at"]) == (state, products):
        # kept only when read at exactly that state: a product move patches what it holds
        cache.put(
            state,
            products,
            key,
            found,
            answer_filter(query, alternatives, guests, found["after"]),
        )
        if counted is None:
            counts = {**found, "items": [], "after": None}
            cache.put(
                state,
                products,
                _set_key(words, query, guests),
                counts,
                answer_filter(query, alternatives, guests, None, page=False),
            )
    cache.land((state, products, key), flight, answer=found)
    return found


def _read(
    cur,  # noqa: ANN001
    schema: sql.Identifier,
    query: SearchQuery,
    alternatives: list[tuple[str, set[str]]],
    guests: tuple[GuestRule, ...],
    ratings: bool,
    counted: dict[str, Any] | None,
) -> dict[str, Any]:
    """One statement's row: the page, and ``total`` and the facets unless ``counted`` holds
    them already (the filtered set's, from an answer to another sort or page of it)."""
    statement, params = _statement(
        schema, query, alternatives, list(guests), ratings, counts=counted is None
    )
    cur.execute(statement, params)
    return cur.fetchone()


def _state_statement(schema: sql.Identifier, ratings: bool) -> sql.Composable:
    """The views' state: the search view's table and content generation, and the ratings
    view's table; and the generations answers are patched through: the search view's product
    generation and the ratings view's ratings generation (``projections/reviews.py``: it
    moves only when some product's rating changed, where the view's position moves with every
    pass of the views)."""
    return sql.SQL(
        "SELECT tableoid::bigint AS tables, content, products, {1} AS ratings FROM {0}.generation"
    ).format(
        schema,
        sql.SQL("(SELECT ARRAY[tableoid::bigint, ratings] FROM {}.generation)").format(
            sql.Identifier(RATINGS.split(".")[0])
        )
        if ratings
        else sql.SQL("NULL::bigint[]"),
    )


def _state_of(row: dict[str, Any]) -> tuple[tuple[Any, ...], Generations]:
    ratings = row["ratings"]
    return _views_state(row), (row["products"], 0 if ratings is None else ratings[1])


def _views_state(row: dict[str, Any]) -> tuple[Any, ...]:
    """The state's tuple from a row with ``_state_statement``'s columns (the ratings view's
    table, or None without it)."""
    ratings = row["ratings"]
    return row["tables"], row["content"], None if ratings is None else ratings[0]


def _state(cur, schema: sql.Identifier, ratings: bool) -> tuple[tuple[Any, ...], Generations]:  # noqa: ANN001, E501
    """What the answers depend on besides the query and the clock
    (``search_answers.Answers``): the state, and the generations."""
    cur.execute(_state_statement(schema, ratings))
    return _state_of(cur.fetchone())


async def cached(
    reads: AsyncConnectionPool, pool: ConnectionPool, query: SearchQuery, now: datetime
) -> dict[str, Any] | None:
    """``search``'s answer when ``pool``'s cache holds it at the views' state as read now, read
    on the event loop with ``reads`` (one small query, no thread hand-off); a move of the
    product generation is awaited (``_move``); None when the cache does not hold it, or must
    first empty (then ``search``, in a thread, answers)."""
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
        state, products = _state_of(await cur.fetchone())
    with cache.lock:
        at, rules = (cache.state, cache.products), cache.rules
    if rules is None:
        return None
    if (state, products) != at:
        if state != at[0] or at[1] is None or not_after(products, at[1]):
            return None  # emptied by the move (or read behind it): ``search`` answers
        if not await _move(cache, pool, state, products, ratings):
            return None
        with cache.lock:
            rules = cache.rules if (state, products) == (cache.state, cache.products) else None
        if rules is None:
            return None
    guests = tuple(g for g in (guest_rule(r, now) for r in rules) if g is not None)
    return cache.get(state, products, _key(words, query, guests))


#: The flight key of a move of the cache (``_move``), beside the queries' keys (tuples).
_MOVE = "move"


async def _move(
    cache: Answers,
    pool: ConnectionPool,
    state: tuple[Any, ...],
    products: Generations,
    ratings: bool,
) -> bool:
    """Move ``cache`` to the generations ``products`` (``Answers.at``) in one worker
    thread,
    the event loop's other readers of the same state awaiting that move rather than each
    taking a thread and a connection to wait for it; whether it ended (else ``search``
    answers, and meets whatever went wrong itself)."""
    key = (state, products, _MOVE)
    flight, leading = cache.board(key)
    if not leading:
        try:
            await asyncio.wrap_future(flight)
        except Exception:  # noqa: BLE001 - the mover's failure: ``search`` meets its own
            return False
        return True
    try:
        await asyncio.to_thread(_move_now, cache, pool, state, products, ratings)
    except Exception as exc:  # noqa: BLE001 - as above
        cache.land(key, flight, error=exc)
        return False
    except BaseException:
        cache.land(key, flight, error=RuntimeError("the move's caller was cancelled"))
        raise
    cache.land(key, flight, answer={})
    return True


def _move_now(
    cache: Answers,
    pool: ConnectionPool,
    state: tuple[Any, ...],
    products: Generations,
    ratings: bool,
) -> None:
    schema = sql.Identifier(live_schema(NAME))
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cache.at(state, products, _changes_reader(cur, schema, state, ratings))


def _changes_reader(cur, schema: sql.Identifier, state: tuple[Any, ...], ratings: bool) -> Changes:  # noqa: ANN001, E501
    """``Answers.at``'s reader of what moved, on ``cur`` (``_changes``)."""
    return lambda since, upto, filters: _changes(cur, schema, state, since, upto, filters, ratings)


def answer_filter(
    query: SearchQuery,
    alternatives: list[tuple[str, set[str]]],
    guests: tuple[GuestRule, ...],
    end: tuple[str, UUID] | None,
    page: bool = True,
) -> Filter:
    """What an answer to ``query`` selects and where its page sits
    (``search_answers.Filter``), for changed products' rows to be tested against; ``end``:
    the answer's ``after``; ``page`` False for a set's counts alone."""
    return Filter(
        tsquery=text.tsquery_literal(alternatives) if alternatives else None,
        qtext=" ".join(w for w, _ in alternatives) if alternatives else None,
        category=query.category_id,
        attributes=tuple(
            tuple(f"{name}={v}" for v in values)
            for name, values in sorted(query.attributes.items())
        ),
        price_min=query.price_min,
        price_max=query.price_max,
        rating_min=query.rating_min,
        in_stock=query.in_stock,
        guests=guests,
        key=_keyed_by(query.sort, bool(alternatives)),
        cursor=query.after,
        end=end,
        limit=query.limit,
        page=page,
    )


#: Per product changed in the window ``since`` + 1 to ``upto``: its row before the window's
#: first change (NULL: created in it), its row after the last, and whether more than its
#: in_stock changed.
_WINDOW = """SELECT product_id AS id,
               (array_agg(before ORDER BY generation))[1] AS before,
               (array_agg(after ORDER BY generation DESC))[1] AS after,
               bool_or(content) AS content
        FROM {schema}.product_changes WHERE generation > %(since)s AND generation <= %(upto)s
        GROUP BY product_id"""


def _changes(
    cur,  # noqa: ANN001
    schema: sql.Identifier,
    state: tuple[Any, ...],
    since: Generations,
    upto: Generations,
    filters: list[Filter],
    ratings: bool,
) -> Moved | None:
    """What the generations after ``since`` up to ``upto`` moved: the product generations'
    changes (``_product_changes``) and the products whose rating the ratings generations
    changed (``_rated``); None when either is not known."""
    moved: Moved | None = Moved({}, {})
    if since[0] < upto[0]:
        moved = _product_changes(cur, schema, state, since[0], upto[0], filters, ratings)
    if moved is not None and since[1] < upto[1]:
        rated = _rated(cur, since[1], upto[1])
        moved = None if rated is None else replace(moved, rated=rated)
    return moved


def _rated(cur, since: int, upto: int) -> frozenset[str] | None:  # noqa: ANN001
    """The products whose rating ratings generations ``since`` + 1 to ``upto`` changed; None
    when the view no longer keeps all of those generations or one of them changed more than
    it logs (``projections/reviews.py``)."""
    cur.execute(
        sql.SQL(
            "SELECT (SELECT min(generation) FROM {0}) AS oldest, "
            "array_agg(product_id::text) AS ids, bool_or(product_id IS NULL) AS every "
            "FROM {0} WHERE generation > %s AND generation <= %s"
        ).format(RATING_CHANGES),
        (since, upto),
    )
    row = cur.fetchone()
    if row["oldest"] is None or row["oldest"] > since + 1 or row["every"]:
        return None
    return frozenset(row["ids"] or ())


def _product_changes(
    cur,  # noqa: ANN001
    schema: sql.Identifier,
    state: tuple[Any, ...],
    since: int,
    upto: int,
    filters: list[Filter],
    ratings: bool,
) -> Moved | None:
    """What product generations ``since`` + 1 to ``upto`` moved: the products whose
    ``in_stock`` differs between their row before the first and after the last of those
    changes, with their ``in_stock`` after; those whose content changed; and per filter what
    each of their two rows (active) that meets it is to its answer (``_meets``, for the
    filters ``_may_meet`` keeps); None when the view no longer keeps all of those generations,
    or, seen by ``_meets``, has moved past ``state`` (the cache empties at its next read
    anyway). Filters are tested by the rules live now; a filter read under other rules is met
    by None (its answer is no longer reachable)."""
    window = {"since": since, "upto": upto}
    cur.execute(
        sql.SQL(
            "SELECT o.oldest, w.id, w.content, "
            "(w.before).status = 'active' AS was_active, (w.before).in_stock AS was_in_stock, "
            "(w.before).category_paths AS were_paths, (w.before).attr_pairs AS were_pairs, "
            "(w.after).status = 'active' AS active, (w.after).in_stock AS in_stock, "
            "(w.after).category_paths AS paths, (w.after).attr_pairs AS pairs "
            "FROM (SELECT min(generation) AS oldest FROM {schema}.product_changes) o "
            "LEFT JOIN (" + _WINDOW + ") w ON true"
        ).format(schema=schema),
        window,
    )
    found = cur.fetchall()
    oldest = found[0]["oldest"]
    if oldest is None or oldest > since + 1:
        return None
    changed = [r for r in found if r["id"] is not None]
    in_stock = {str(r["id"]): r["in_stock"] for r in changed if r["was_in_stock"] != r["in_stock"]}
    content = frozenset(str(r["id"]) for r in changed if r["content"])
    moved = Moved(in_stock, {}, content)
    if not filters or not (content or in_stock):
        return moved
    rows = [
        _Row(r[stock], r["content"], frozenset(r[paths]), frozenset(r[pairs]))
        for r in changed
        for active, stock, paths, pairs in (
            ("was_active", "was_in_stock", "were_paths", "were_pairs"),
            ("active", "in_stock", "paths", "pairs"),
        )
        if r[active]
    ]
    guests = {f.guests for f in filters}
    rules = max(guests, key=lambda g: sum(f.guests == g for f in filters))
    met: dict[int, list[Entry] | None] = {
        i: None for i, f in enumerate(filters) if f.guests != rules
    }
    tested = {i: f for i, f in enumerate(filters) if f.guests == rules and _may_meet(f, rows)}
    if not tested:
        return Moved(in_stock, met, content)
    statement, params = _meets(schema, list(rules), ratings, _window_rows(schema))
    cur.execute(statement, {**params, **window, **_meets_params(tested)})
    for r in cur.fetchall():
        if _views_state(r) != state:
            return None
        entries = met.setdefault(r["i"], [])
        if entries is not None:
            entries.append(
                Entry(
                    product_id=str(r["id"]),
                    entered=r["entered"],
                    categories=tuple(str(c) for c in r["category_paths"]),
                    pairs=tuple(r["attr_pairs"]),
                    price=r["price"],
                    beyond_cursor=r["beyond_cursor"],
                    before_end=r["before_end"],
                )
            )
    return Moved(in_stock, met, content)


@dataclass(frozen=True)
class _Row:
    """What ``_may_meet`` needs of a changed product's active row (before or after its
    change)."""

    in_stock: bool
    content: bool
    paths: frozenset[UUID]
    pairs: frozenset[str]


def _may_meet(f: Filter, rows: list[_Row]) -> bool:
    """Whether one of ``rows`` may meet ``f`` by ``_meets``'s conditions that need neither the
    text nor the price: ``_meets`` tests only the filters this keeps (most answers filter on
    a category or an attribute that a changed product is not in)."""
    for r in rows:
        if not (r.in_stock if f.in_stock else r.content):
            continue  # as ``_meets``: stock alone is tested against filters on stock only
        if f.category is not None and f.category not in r.paths:
            continue
        if any(r.pairs.isdisjoint(group) for group in f.attributes):
            continue
        return True
    return False


def _meets_params(filters: dict[int, Filter]) -> dict[str, Any]:
    """``_meets``'s parameter: the filters by their indexes, as one JSON array (each filter's
    object encoded once, when first tested: a move tests every answer kept, hundreds of
    them, and encoding them anew each time cost more than the statement)."""
    return {
        "filters": "["
        + ",".join(f'{{"i":{i},{_filter_json(f)[1:]}' for i, f in filters.items())
        + "]"
    }


@functools.lru_cache(maxsize=8 * ANSWERS)
def _filter_json(f: Filter) -> str:
    """``f`` as ``_meets`` reads it (``jsonb_to_recordset``), a JSON object."""

    def as_text(v: Any) -> str | None:
        return None if v is None else str(v)

    return json.dumps(
        {
            "tsq": f.tsquery,
            "qtext": f.qtext,
            "category": as_text(f.category),
            "attrs": [list(g) for g in f.attributes],
            "pmin": as_text(f.price_min),
            "pmax": as_text(f.price_max),
            "rmin": as_text(f.rating_min),
            "stock": f.in_stock,
            "key": f.key,
            "ckey": None if f.cursor is None else f.cursor[0],
            "cid": None if f.cursor is None else str(f.cursor[1]),
            "ekey": None if f.end is None else f.end[0],
            "eid": None if f.end is None else str(f.end[1]),
        }
    )


def _placed(mark: str, before: bool, without: str) -> sql.Composable:
    """Per filter ``s``, whether the changed product's row ``f`` sorts before (else after) the key
    ``s.{mark}key``, ``s.{mark}id`` in the filter's order (its ``_KEYS`` expression over the
    product's columns and its ``rank``); ``without`` when the filter has no such key, NULL
    where the product's key has no value."""
    cases = []
    for name, (expr, descending, key_type) in _KEYS.items():
        if before:
            cmp, id_cmp = (">" if descending else "<"), "<"
        else:
            cmp, id_cmp = ("<" if descending else ">"), ">"
        cases.append(
            sql.SQL(
                "WHEN {name} THEN ({e} {cmp} s.{mark}key::{t} OR ({e} = s.{mark}key::{t} "
                "AND f.id {id_cmp} s.{mark}id))"
            ).format(
                name=sql.Literal(name),
                e=sql.SQL(expr),
                cmp=sql.SQL(cmp),
                mark=sql.SQL(mark),
                t=sql.SQL(key_type),
                id_cmp=sql.SQL(id_cmp),
            )
        )
    return sql.SQL(
        "CASE WHEN s.{mark}key IS NULL THEN {without} ELSE CASE s.key {cases} END END"
    ).format(mark=sql.SQL(mark), without=sql.SQL(without), cases=sql.SQL(" ").join(cases))


def _window_rows(schema: sql.Identifier) -> sql.Composable:
    """Per product changed in the window (``_WINDOW``: parameters ``since`` and ``upto``), its
    row before (``entered`` false; none for a product created in the window) and its row
    after (``entered``), as ``entered``, ``content`` (more than its stock changed), ``r``."""
    return sql.SQL(
        """WITH changed AS MATERIALIZED ({window})
        SELECT false AS entered, c.content, c.before AS r FROM changed c
        WHERE (c.before).id IS NOT NULL
        UNION ALL
        SELECT true, c.content, c.after FROM changed c"""
    ).format(window=sql.SQL(_WINDOW).format(schema=schema))


def _meets(
    schema: sql.Identifier, rules: list[GuestRule], ratings: bool, rows: sql.Composable
) -> tuple[sql.Composable, dict[str, Any]]:
    """Per product row of ``rows`` (``entered``, ``content``, ``r``: ``_window_rows``), when
    active: one row per filter (``_meets_params``) it meets, with its categories (with their
    ancestors), attribute pairs and effective price as ``_statement`` computes them, and where
    it sorts against the filter's cursor and page end (``_placed``); a product whose stock
    alone changed is tested against the filters on stock only (nothing else of an answer
    depends on it). Each row with the views' state (``_state_statement``) in the
    statement's snapshot."""
    params: dict[str, Any] = {}
    joins, price, rating, with_rules = _price_and_rating(rules, ratings, params)
    statement = sql.SQL(
        """WITH {with_rules}state AS ({state}),
        rows AS ({rows}),
        versions AS MATERIALIZED (
            SELECT p.entered, p.content, p.id, p.name, p.created_at, p.document,
                   p.category_paths, p.attr_pairs, p.in_stock, {price} AS price,
                   {rating} AS rating
            FROM (SELECT v.entered, v.content, (v.r).* FROM rows v) p {joins}
            WHERE p.status = 'active'),
        filters AS MATERIALIZED (
            SELECT * FROM jsonb_to_recordset(%(filters)s::jsonb)
                AS s(i int, tsq text, qtext text, category uuid, attrs jsonb, pmin numeric,
                     pmax numeric, rmin numeric, stock boolean, key text, ckey text, cid uuid,
                     ekey text, eid uuid))
        SELECT st.tables, st.content, st.ratings, f.id, f.entered, m.i, f.category_paths,
               f.attr_pairs, f.price::text AS price, m.beyond_cursor, m.before_end
        FROM state st, versions f JOIN LATERAL (
            SELECT s.i, {beyond_cursor} AS beyond_cursor, {before_end} AS before_end
            FROM filters s, LATERAL (SELECT CASE WHEN s.qtext IS NULL THEN 0::real
                                            ELSE {rank} END AS rank) r
            WHERE (s.stock OR f.content)
              AND (NOT s.stock OR f.in_stock)
              AND (s.tsq IS NULL OR f.document @@ s.tsq::tsquery)
              AND (s.category IS NULL OR f.category_paths @> ARRAY[s.category])
              AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(s.attrs) g
                              WHERE NOT f.attr_pairs && ARRAY(
                                  SELECT jsonb_array_elements_text(g)))
              AND (s.pmin IS NULL OR f.price >= s.pmin)
              AND (s.pmax IS NULL OR f.price <= s.pmax)
              AND (s.rmin IS NULL OR f.rating >= s.rmin)) m ON true"""
    ).format(
        with_rules=with_rules,
        price=price,
        rating=rating,
        schema=schema,
        rows=rows,
        joins=sql.SQL(" ").join(joins),
        state=_state_statement(schema, ratings),
        rank=sql.SQL(_rank("f", "s.tsq::tsquery", "s.qtext")),
        beyond_cursor=_placed("c", False, "true"),
        before_end=_placed("e", True, "NULL"),
    )
    return statement, params


def _key(words: list[str], query: SearchQuery, guests: tuple[GuestRule, ...]) -> tuple:
    """An answer's key in the cache: the query's words and fields, and the guest rules live."""
    return (tuple(words), *_query_key(query), guests)


def _set_key(words: list[str], query: SearchQuery, guests: tuple[GuestRule, ...]) -> tuple:
    """The key of a filtered set's ``total`` and facets in the cache (kept beside the answers,
    shared by every sort and page of the set): the query's words and filters, and the guest
    rules live."""
    return ("set", tuple(words), *_filters_key(query), guests)


def _query_key(query: SearchQuery) -> tuple[Any, ...]:
    """The query's fields but its text, hashable: its filters, then its sort and page."""
    return (*_filters_key(query), query.sort, query.limit, query.after)


def _filters_key(query: SearchQuery) -> tuple[Any, ...]:
    """The query's filters, hashable (``attributes`` is a dict): what selects its set."""
    return (
        query.category_id,
        query.price_min,
        query.price_max,
        query.rating_min,
        query.in_stock,
        tuple(sorted(query.attributes.items())),
    )


def _answer(
    row: dict[str, Any], query: SearchQuery, has_text: bool, counted: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The answer from the statement's ``row``; ``total`` and the facets from ``counted`` when
    the row has none."""
    items = row["items"] or []
    more = len(items) > query.limit
    items = items[: query.limit]
    last = items[-1] if more else None
    if counted is None:
        counted = {
            "total": row["total"],
            "facets": {
                "categories": row["categories"] or [],
                "attributes": _attributes(row["attributes"] or []),
                "price": {"min": row["price_min"], "max": row["price_max"]},
            },
        }
    return {
        "items": items,
        "total": counted["total"],
        "facets": counted["facets"],
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


#: ``_statement``'s ``total`` and facets, from the five parts ``_COUNTED`` or ``_KEPT`` give.
_FACETS = """{total} AS total,
          (SELECT jsonb_agg(jsonb_build_object('id', c, 'count', n) ORDER BY n DESC, c)
             FROM (SELECT c, n FROM ({categories}) cs
                   ORDER BY n DESC, c LIMIT {category_facets}) f) AS categories,
          (SELECT jsonb_agg(jsonb_build_object('name', name, 'value', value, 'count', n)
                            ORDER BY name COLLATE "C", n DESC, value COLLATE "C")
             FROM (SELECT name, value, n, row_number() OVER (PARTITION BY name
                          ORDER BY n DESC, value COLLATE "C") AS k,
                          dense_rank() OVER (ORDER BY name COLLATE "C") AS m
                   FROM (SELECT split_part(pair, '=', 1) AS name,
                                substr(pair, strpos(pair, '=') + 1) AS value, n
                         FROM ({pairs}) ps) g) v
             WHERE k <= {attribute_values} AND m <= {attribute_names}) AS attributes,
          {price_min} AS price_min,
          {price_max} AS price_max,
"""
#: Counted over the filtered set (``filtered``).
_COUNTED = {
    "total": "(SELECT count(*) FROM filtered)",
    "categories": "SELECT c, count(*) AS n FROM filtered, unnest(category_paths) c GROUP BY c",
    "pairs": "SELECT pair, count(*) AS n FROM filtered, unnest(attr_pairs) pair GROUP BY pair",
    "price_min": "(SELECT min(price)::text FROM filtered)",
    "price_max": "(SELECT max(price)::text FROM filtered)",
}
#: Read from the counts the view keeps for a browsing set (``{n}``: ``total`` or ``stocked``),
#: the price range from the statement's ``prices``.
_KEPT = {
    "total": "(SELECT coalesce(max({n}), 0) FROM {schema}.category_counts "
    "WHERE scope = %(scope)s AND category = %(scope)s)",
    "categories": "SELECT category AS c, {n} AS n FROM {schema}.category_counts "
    "WHERE scope = %(scope)s AND category <> %(all)s AND {n} > 0",
    "pairs": "SELECT pair, {n} AS n FROM {schema}.pair_counts WHERE scope = %(scope)s AND {n} > 0",
    "price_min": "(SELECT lo FROM prices)",
    "price_max": "(SELECT hi FROM prices)",
}


def _facets(parts: dict[str, str], **names: sql.Composable) -> sql.Composable:
    """``_FACETS`` from ``parts`` (each formatted with ``names``)."""
    return sql.SQL(_FACETS).format(
        **{k: sql.SQL(v).format(**names) for k, v in parts.items()},
        category_facets=sql.Literal(CATEGORY_FACETS),
        attribute_values=sql.Literal(ATTRIBUTE_VALUES),
        attribute_names=sql.Literal(ATTRIBUTE_NAMES),
    )


#: The same columns when the set's counts are known already (``search``'s ``counted``).
_NO_COUNTS = (
    "NULL::bigint AS total, NULL::jsonb AS categories, NULL::jsonb AS attributes, "
    "NULL::text AS price_min, NULL::text AS price_max,"
)


def _statement(
    schema: sql.Identifier,
    query: SearchQuery,
    alternatives: list[tuple[str, set[str]]],
    rules: list[GuestRule],
    ratings: bool,
    counts: bool = True,
) -> tuple[sql.Composable, dict[str, Any]]:
    """The search's statement: the page, and with ``counts`` ``total`` and the facets (the
    filtered set materialised once for all of them; without, the planner may read the page
    alone by an index). A browsing set (``browsing``) takes them from the counts the view
    keeps instead, and its page and price range by index."""
    params: dict[str, Any] = {}
    where = [sql.SQL("p.status = 'active'")]
    rank = sql.SQL("0::real")
    if alternatives:
        params["tsq"] = text.tsquery_literal(alternatives)
        where.append(sql.SQL("p.document @@ %(tsq)s::tsquery"))
    if alternatives and query.sort == "relevance":
        params["qtext"] = " ".join(w for w, _ in alternatives)
        # weights D, C, B, A: name above description above attributes
        rank = sql.SQL(_rank("p", "%(tsq)s::tsquery", "%(qtext)s"))
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
    kept = counts and browsing(query, alternatives)
    prices = sql.SQL("")
    if kept:
        # total and facets from the view's counts; the set is not materialised, so the page
        # (and the price range, with no rule: each an end of the price index) read by index
        counts, n = False, sql.SQL("stocked" if query.in_stock else "total")
        params["scope"] = query.category_id or ALL
        params["all"] = ALL
        prices = sql.SQL(
            ", prices AS (SELECT min(price)::text AS lo, max(price)::text AS hi FROM filtered)"
            if rules
            else ", prices AS (SELECT (SELECT min(p.base_amount) FROM {schema}.products p "
            "WHERE {where})::text AS lo, (SELECT max(p.base_amount) FROM {schema}.products p "
            "WHERE {where})::text AS hi)"
        ).format(schema=schema, where=sql.SQL(" AND ").join(where))
    statement = sql.SQL(
        """WITH {with_rules}matched AS (
            SELECT p.id, p.category_paths, p.attr_pairs, p.created_at,
                   {price} AS price, {rating} AS rating, {rank} AS rank
            FROM {schema}.products p {joins} WHERE {where}),
        filtered AS {materialized} (SELECT * FROM matched WHERE {after_filters}){prices}
        SELECT
          (SELECT row_to_json(st) FROM ({state}) st) AS at,
          {counts}
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
        materialized=sql.SQL("MATERIALIZED" if counts else "NOT MATERIALIZED"),
        prices=prices,
        counts=_facets(_KEPT, n=n, schema=schema)
        if kept
        else _facets(_COUNTED)
        if counts
        else sql.SQL(_NO_COUNTS),
        key=key,
        direction=direction,
        page_filter=page_filter,
        state=_state_statement(schema, ratings),
    )
    return statement, params


def browsing(query: SearchQuery, alternatives: list[tuple[str, set[str]]]) -> bool:
    """Whether the query's set is a browsing set, whose total and facets the view keeps
    (``projections/search_facets.py``): no text, no filter but a category and in-stock."""
    return not (
        alternatives
        or query.attributes
        or query.price_min is not None
        or query.price_max is not None
        or query.rating_min is not None
    )


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
