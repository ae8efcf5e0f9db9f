"""The API process's cache of product search answers (``Answers``) and how a move of the
search view's product generation brings an answer up to date without searching again
(``patch``). Pure Python: the database side (the state read, the changes and what each changed
product is to each answer) is ``projections/product_search_query.py``.

**Why patch.** A product whose ``in_stock`` flips enters or leaves the set of every answer
filtered on stock whose other filters it meets; a product whose content changes (its price,
text, categories, attributes or status) leaves the sets its row before met and enters those
its row after meets. For a broad answer (no text, in stock: tens of thousands of products)
searching again costs hundreds of milliseconds, for a change of one in ``total``, one in a few
facet counts, and usually nothing on the page. So the cache reads, per answer and changed
product, what each of its two rows is to that answer (``Entry``: its facet values, its price,
where it sorts against the page) and applies the change when the change is certain; where it
is not (the page would change, a truncated facet list could gain or lose a value, the price
range's end could move inward, the page shows a product whose content changed) the answer is
evicted and searched again.

**Ratings.** A product's rating (from the ratings view) changes only the answers that depend
on it: those filtered on a minimum rating (the product may enter or leave), those whose page
sorts by rating (it may move into or out of the page), and those whose page shows it (the
item shows its rating). Those are evicted; every other answer stays as it is (the rank, the
facets and the price range do not depend on ratings).

**Generations.** The views' moves that answers are patched through are counted as
``Generations``: the search view's product generation and the ratings view's ratings
generation, each only ever growing."""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from uuid import UUID

#: Facet sizes: the most frequent values first (ties by value, in code point order).
CATEGORY_FACETS = 100
ATTRIBUTE_VALUES = 50
#: Attribute names shown: the first ones by name.
ATTRIBUTE_NAMES = 50
#: Answers kept per pool between two changes of the views.
ANSWERS = 2_000
#: The upper bounds, in seconds, of the moves' durations counted (``Answers.moves``).
MOVE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
#: Why a move of the generations evicted an answer (``Answers.evictions``).
REASONS = {
    "rating": "it depends on a rating that changed",
    "shown": "its page shows a product whose content changed",
    "untested": "it was put while the move was read, and may have missed what moved",
    "unknown": "the moves could not be read (too far behind): every answer went",
    "rules": "it was read under pricing rules no longer live",
    "stock": "its page shows a product whose stock flipped, and it is filtered on stock",
    "total": "its total would fall below zero",
    "page": "its page, or whether a page follows it, would change",
    "categories": "a category facet cut at its size could gain or lose a value",
    "attributes": "an attribute facet cut at its size could gain or lose a value",
    "price": "a product left at an end of its price range",
}


@dataclass(frozen=True)
class Filter:
    """What an answer selects, to test changed products' rows against: the text as a
    ``tsquery`` and its words for the rank (None: no text), the category, the attribute
    groups (each a list of ``name=value``: one of each group), the effective price range
    (under ``guests``, the rules live when it was read), the minimum rating and whether it
    keeps products in stock only; and where its page sits: the key it sorts by (``rank``,
    ``price_asc``, ``price_desc``, ``rating``, ``newest``), the query's cursor, the page's end
    (the answer's ``after``: None when no product follows) and its size; or no page at
    all."""

    tsquery: str | None
    qtext: str | None
    category: UUID | None
    attributes: tuple[tuple[str, ...], ...]
    price_min: Decimal | None
    price_max: Decimal | None
    rating_min: Decimal | None
    in_stock: bool
    guests: tuple[Any, ...]
    key: str
    cursor: tuple[str, UUID] | None
    end: tuple[str, UUID] | None
    limit: int
    #: False for a filtered set's ``total`` and facets kept without a page
    page: bool = True


@dataclass(frozen=True)
class Entry:
    """A changed product's row that meets an answer's filter: the row after the change
    (``entered`` the answer's set) or the row before it (left it); its categories with their
    ancestors, attribute pairs and effective price (as text, None without one); whether it
    sorts after the query's cursor (True with no cursor) and before the page's end (None with
    no end); None where the database cannot compare (a key without a value)."""

    product_id: str
    entered: bool
    categories: tuple[str, ...]
    pairs: tuple[str, ...]
    price: str | None
    beyond_cursor: bool | None
    before_end: bool | None


@dataclass(frozen=True)
class Moved:
    """What a move of the generations did: the products whose ``in_stock`` it changed,
    with their ``in_stock`` now; the products whose content it changed; and per answer (by
    its index in the list asked about) the changed products' rows that meet its filter (rows
    whose change is stock alone are tested against answers filtered on stock only); None for
    an answer that must be read again whatever they are (read under pricing rules no longer
    live)."""

    in_stock: dict[str, bool]
    met: dict[int, list[Entry] | None]
    content: frozenset[str] = frozenset()
    #: the products whose rating changed
    rated: frozenset[str] = frozenset()


#: (the search view's product generation, the ratings view's ratings generation)
Generations = tuple[int, int]

#: ``Answers.at``'s reader: (since, upto, filters) → what moved; None when unknown.
Changes = Callable[[Generations, Generations, list[Filter]], Moved | None]


def patch(answer: dict[str, Any], f: Filter, entries: list[Entry]) -> dict[str, Any] | None:
    """``answer`` (filtered by ``f``) after ``entries`` entered or left its set: the
    same page, ``total`` and facets moved by them; None when the change is not certain from
    what the answer holds (then it is read again)."""
    moved = patched(answer, f, entries)
    return None if isinstance(moved, str) else moved


def patched(answer: dict[str, Any], f: Filter, entries: list[Entry]) -> dict[str, Any] | str:
    """``patch``, saying why when the change is not certain: ``page`` (the page or its
    ``after`` would change), ``total`` (it would fall below zero), ``categories`` or
    ``attributes`` (a facet list cut at its size could gain or lose a value), ``price`` (a
    row left at an end of the price range)."""
    total = answer["total"] + sum(1 if e.entered else -1 for e in entries)
    if total < 0:
        return "total"
    shown = {i["id"] for i in answer["items"]}
    for e in entries if f.page else ():
        if e.beyond_cursor is None:
            return "page"
        if not e.beyond_cursor:
            continue  # sorts before this page: the set moves, the page does not
        if e.entered:
            # it joins the page, or makes a last page no longer last, unless it sorts after
            if f.end is None or e.before_end is not False:
                return "page"
        elif e.product_id in shown or f.end is None or e.before_end is not False:
            return "page"
        elif f.cursor is not None or total <= f.limit:
            return "page"  # a later page may now be the last: ``after`` would change
    facets = answer["facets"]
    categories = _top(
        facets["categories"],
        "id",
        _deltas((e.categories, e.entered) for e in entries),
        CATEGORY_FACETS,
    )
    if categories is None:
        return "categories"
    attributes = _attributes(facets["attributes"], _deltas((e.pairs, e.entered) for e in entries))
    if attributes is None:
        return "attributes"
    price = _price(facets["price"], entries)
    if price is None:
        return "price"
    return {
        "items": answer["items"],
        "total": total,
        "facets": {"categories": categories, "attributes": attributes, "price": price},
        "after": answer["after"],
    }


def net(entries: list[Entry]) -> list[Entry]:
    """``entries`` without the pairs that change nothing: a product's row before and row after
    that both meet the answer's filter with the same facet values, price and place (its
    stock flipped, or a field the answer does not see changed)."""
    rows: dict[str, list[Entry]] = {}
    for e in entries:
        rows.setdefault(e.product_id, []).append(e)
    out: list[Entry] = []
    for pair in rows.values():
        if len(pair) == 2 and pair[0].entered != pair[1].entered:
            left, entered = sorted(pair, key=lambda e: e.entered)
            if replace(left, entered=True) == entered:
                continue
        out.extend(pair)
    return out


def restock(answer: dict[str, Any], in_stock: dict[str, bool]) -> dict[str, Any]:
    """``answer`` (not filtered on stock) with its page's flipped products shown as they are
    now: nothing else in it depends on stock."""
    return {
        **{k: v for k, v in answer.items() if k != "encoded"},
        "items": [
            {**i, "in_stock": in_stock[i["id"]]} if i["id"] in in_stock else i
            for i in answer["items"]
        ],
    }


def _deltas(changes: Iterable[tuple[tuple[str, ...], bool]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for values, entered in changes:
        for v in values:
            out[v] += 1 if entered else -1
    return out


def _top(
    rows: list[dict[str, Any]], field: str, deltas: dict[str, int], limit: int
) -> list[dict[str, Any]] | None:
    """A facet list (``limit`` most frequent ``field`` values, ties by value) moved by
    ``deltas``; None when the list may have held only the first ``limit`` and a value outside
    it could now belong in it (or one inside fall out of it)."""
    counts = {r[field]: r["count"] for r in rows}
    full = len(rows) >= limit
    floor = rows[-1]["count"] if rows else 0
    for value, d in deltas.items():
        if d == 0:
            continue
        if value in counts:
            n = counts[value] + d
            if n < 0 or (full and d < 0 and n <= floor):
                return None
            if n:
                counts[value] = n
            else:
                del counts[value]
        elif full:
            if d > 0:
                return None  # from outside the list, it may now belong in it
        elif d > 0:
            counts[value] = d
        else:
            return None  # a value leaving that the whole list does not hold
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{field: v, "count": n} for v, n in ordered]


def _attributes(
    facet: dict[str, list[dict[str, Any]]], deltas: dict[str, int]
) -> dict[str, list[dict[str, Any]]] | None:
    """The attribute facets (per name, first ``ATTRIBUTE_NAMES`` names) moved by the pair
    ``deltas``; None when not certain (``_top``)."""
    by_name: dict[str, dict[str, int]] = {}
    for pair, d in deltas.items():
        name, value = pair.split("=", 1)
        by_name.setdefault(name, {})[value] = d
    names_full = len(facet) >= ATTRIBUTE_NAMES
    out = dict(facet)
    for name, values in by_name.items():
        if not any(values.values()):
            continue
        rows = facet.get(name)
        if rows is None:
            if names_full:
                if any(d > 0 for d in values.values()):
                    return None  # a name beyond the shown ones may now be among them
                continue
            rows = []
        moved = _top(rows, "value", values, ATTRIBUTE_VALUES)
        if moved is None:
            return None
        if moved:
            out[name] = moved
        elif names_full:
            return None  # a shown name went: the next one would come in
        else:
            del out[name]
    return {n: out[n] for n in sorted(out)[:ATTRIBUTE_NAMES]}


def _price(price: dict[str, str | None], entries: list[Entry]) -> dict[str, str | None] | None:
    """The effective price range moved by ``entries``; None when a product left at one of its
    ends (the next one in is unknown) or entered at an end written another way."""
    low, high = price["min"], price["max"]
    for e in entries:
        if e.price is None:
            continue
        p = Decimal(e.price)
        if not e.entered:
            if low is None or high is None or p <= Decimal(low) or p >= Decimal(high):
                return None
            continue
        if low is None or high is None:
            low = high = e.price
            continue
        if any(p == Decimal(end) and e.price != end for end in (low, high)):
            return None  # which of two equal prices the aggregate shows is not known
        if p < Decimal(low):
            low = e.price
        if p > Decimal(high):
            high = e.price
    return {"min": low, "max": high}


class Answers:
    """One pool's read cache of answers, at one state of the views: the search view's table
    (a rebuilt view is a new state) and content generation (categories and pricing rules),
    and the ratings view's table; a change of that state empties it, so an answer is never
    older than the views it was read at. Within a state, a move of the generations changes
    only the answers it may change: those a changed product's row before or after meets are
    patched (``patch``) or evicted, those showing a product whose stock alone changed show its
    stock as it is now, and those depending on a rating that changed are evicted (``rates``).
    ``changes`` reads what moved, from the search view's ``product_changes`` and the ratings
    view's ``rating_changes``; when it cannot say, everything goes. At most ``ANSWERS``
    answers are kept, the least recently used leaving first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: notified when a move of the product generation ends (one caller moves it at a time)
        self.moved = threading.Condition(self.lock)
        self.moving = False
        self.state: tuple[Any, ...] | None = None
        #: the generations the answers are at
        self.products: Generations | None = None
        self.rules: list[Any] | None = None
        #: (state, products, query key) → the search running for it
        self.flights: dict[tuple[Any, ...], Future] = {}
        #: key → (answer, its filter, the ids its page shows)
        self.answers: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], Filter, frozenset]] = (
            OrderedDict()
        )
        #: answers patched by product moves so far (for tests and benchmarks)
        self.patched = 0
        #: answers evicted by product moves so far, by why (``REASONS``)
        self.evictions: Counter[str] = Counter()
        #: the moves' durations (reading what moved, patching): a count per ``MOVE_BUCKETS``
        #: bound (the last, beyond them all) and their sum; the readers of the new
        #: generations wait for a move
        self.moves = [0] * (len(MOVE_BUCKETS) + 1)
        self.moves_s = 0.0

    def at(self, state: tuple[Any, ...], products: Generations, changes: Changes) -> None:
        """Bring the cache to ``state`` and generations ``products``.
        ``changes(since, upto, filters)``: what the generations after ``since`` up to ``upto``
        moved (``Moved``) for the ``filters`` of the answers; None when unknown. ``changes``
        reads the database with the lock released (the event loop's readers take it); callers
        arriving meanwhile wait for that move rather than start their own."""
        with self.lock:
            while True:
                if self.state is not None and _behind(state, self.state):
                    return  # read before another caller moved the cache on: it misses
                if state != self.state or self.products is None:
                    self.state, self.products, self.rules = state, products, None
                    self.answers.clear()
                    return
                if not_after(products, self.products):
                    return  # a caller that read before another moved the cache on: it misses
                if not self.moving:
                    break
                self.moved.wait(timeout=5.0)
            self.moving = True
            since = self.products
            kept = [(k, f) for k, (_, f, _) in self.answers.items()]
        started = time.perf_counter()
        try:
            found = changes(since, products, [f for _, f in kept])
        except BaseException:
            with self.lock:
                self.moving = False
                self.moved.notify_all()
            raise
        with self.lock:
            self.moving = False
            self.moved.notify_all()
            if (self.state, self.products) != (state, since):
                return  # emptied meanwhile (the views moved on)
            self.products = products
            if found is None:
                self._evict("unknown", len(self.answers))
                self.answers.clear()
            else:
                self._apply(found, {k: i for i, (k, _) in enumerate(kept)})
            took = time.perf_counter() - started
            self.moves[bisect.bisect_left(MOVE_BUCKETS, took)] += 1
            self.moves_s += took

    def _apply(self, found: Moved, tested: dict[tuple[Any, ...], int]) -> None:
        """Patch or evict what ``found`` changes (the lock held). An answer put during the
        move was not tested: it goes unless nothing it depends on moved."""
        flipped = found.in_stock.keys()
        for k, (answer, f, ids) in list(self.answers.items()):
            new: dict[str, Any] | str = answer
            i = tested.get(k)
            if found.rated and (rates(f) or not ids.isdisjoint(found.rated)):
                new = "rating"  # depends on a rating that changed
            elif not ids.isdisjoint(found.content):
                new = "shown"  # shows a product whose content changed
            elif i is None:
                # put during the move: it may have missed what moved, unless what moved was
                # stock alone and it is not filtered on stock
                new = "untested" if f.in_stock or found.content else answer
            elif i in found.met:
                entries = found.met[i]
                entries = None if entries is None else net(entries)
                if entries is None:
                    new = "rules"
                elif entries:
                    new = patched(answer, f, entries)
            if not isinstance(new, str) and not ids.isdisjoint(flipped):
                # a product shown in an answer filtered on stock that flipped left it (and
                # was met, so the patch has already said why not); a safe default otherwise
                new = "stock" if f.in_stock else restock(new, found.in_stock)
            if isinstance(new, str):
                del self.answers[k]
                self._evict(new)
            elif new is not answer:
                self.answers[k] = (new, f, ids)  # keeps its place in the LRU order
                self.patched += 1

    @property
    def evicted(self) -> int:
        """Answers evicted by product moves so far, whatever why."""
        return sum(self.evictions.values())

    def _evict(self, why: str, n: int = 1) -> None:
        self.evictions[why] += n

    def board(self, key: tuple[Any, ...]) -> tuple[Future, bool]:
        """The search running for ``key`` (state, product generation, query), and whether the
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

    def keep_rules(self, state: tuple[Any, ...], rules: list[Any]) -> None:
        with self.lock:
            if state == self.state:
                self.rules = rules

    def get(
        self, state: tuple[Any, ...], products: Generations, key: tuple[Any, ...]
    ) -> dict | None:
        with self.lock:
            if (state, products) != (self.state, self.products) or key not in self.answers:
                return None
            self.answers.move_to_end(key)
            return self.answers[key][0]

    def put(
        self,
        state: tuple[Any, ...],
        products: Generations,
        key: tuple[Any, ...],
        answer: dict[str, Any],
        f: Filter,
    ) -> None:
        """Keep ``answer`` (to the query ``f`` describes), read after ``state`` and
        ``products`` were: unless the cache has moved on since (the answer might then miss a
        change the cache has already dealt with)."""
        with self.lock:
            if (state, products) == (self.state, self.products):
                ids = frozenset(i["id"] for i in answer["items"])
                self.answers[key] = (answer, f, ids)
                while len(self.answers) > ANSWERS:
                    self.answers.popitem(last=False)


def rates(f: Filter) -> bool:
    """Whether an answer to ``f`` depends on every product's rating: filtered on a minimum
    rating, or a page sorted by rating (its page may gain or lose a product whose rating
    changed; a set's counts alone depend on ratings only through the filter)."""
    return f.rating_min is not None or (f.page and f.key == "rating")


def not_after(a: Generations, b: Generations) -> bool:
    """Whether every generation of ``a`` is at or before ``b``'s (each only grows, so two
    readings are ordered alike in each)."""
    return all(x <= y for x, y in zip(a, b, strict=True))


def _behind(state: tuple[Any, ...], than: tuple[Any, ...]) -> bool:
    """Whether ``state`` is an earlier state of the same views than ``than``: the same search
    view's table and ratings view's table, a content generation not after it."""
    if state == than or state[0] != than[0] or state[2] != than[2]:
        return False
    return state[1] <= than[1]
