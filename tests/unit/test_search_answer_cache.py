"""The search answer cache's bookkeeping (``projections/search_answers.Answers``): which
answers a move of the views evicts or patches, and what a caller that read an older state
gets. What a patch computes: ``test_search_answer_patch.py``."""

from dataclasses import replace
from decimal import Decimal

import pytest

from projections.search_answers import Answers, Entry, Filter, Moved

NOTHING = lambda since, upto, filters: Moved({}, {})  # noqa: E731


def answer(*ids: str, total: int = 1) -> dict:
    return {
        "items": [{"id": i} for i in ids],
        "total": total,
        "facets": {"categories": [], "attributes": {}, "price": {"min": "1", "max": "9"}},
        "after": None,
    }


def query(name: str, in_stock: bool = False) -> Filter:
    """A filter told apart by its text (``name``): no page to place changes against."""
    return Filter(
        tsquery=name,
        qtext=name,
        category=None,
        attributes=(),
        price_min=None,
        price_max=None,
        rating_min=None,
        in_stock=in_stock,
        guests=(),
        key="newest",
        cursor=None,
        end=None,
        limit=1,
        page=False,
    )


A, B, S, T = query("a"), query("b"), query("s", in_stock=True), query("t", in_stock=True)


def cache_at(state=(1, 5, None), products=(10, 0)) -> Answers:  # noqa: ANN001
    c = Answers()
    c.at(state, products, NOTHING)
    c.put(state, products, ("a",), answer("p1", "p2"), A)
    c.put(state, products, ("b",), answer("p3"), B)
    c.put(state, products, ("s",), answer("p4"), S)
    c.put(state, products, ("t",), answer("p5"), T)
    return c


def row(product: str, entered: bool, price: str = "5") -> Entry:
    return Entry(product, entered, ("c1",), (), price, True, None)


def test_a_stock_move_evicts_what_it_cannot_patch_and_shows_flipped_products_as_they_are():
    """Given four answers, when a move flips p2 (shown by an answer not filtered on stock) and
    p9, which meets filter t in a way that cannot be patched, then t is evicted, the answer
    showing p2 shows it out of stock, and the other two are untouched."""
    c = cache_at()
    asked = []

    def flips(since, upto, filters):  # noqa: ANN001, ANN202
        asked.append((since, upto, filters))
        return Moved({"p2": False, "p9": True}, {filters.index(T): None})

    c.at((1, 5, None), (12, 0), flips)
    assert asked == [((10, 0), (12, 0), [A, B, S, T])]
    assert c.get((1, 5, None), (12, 0), ("a",))["items"] == [
        {"id": "p1"},
        {"id": "p2", "in_stock": False},
    ]
    assert c.get((1, 5, None), (12, 0), ("t",)) is None
    assert c.get((1, 5, None), (12, 0), ("b",)) == answer("p3")
    assert c.get((1, 5, None), (12, 0), ("s",)) == answer("p4")  # filtered on stock, not met
    assert (c.patched, c.evicted) == (1, 1)
    assert c.evictions == {"rules": 1}
    assert sum(c.moves) == 1 and c.moves_s > 0  # one move, timed


def test_a_content_change_patches_the_answers_its_rows_meet_and_evicts_those_showing_it():
    """Given four answers, when p9's price changes (its row before met a and b, its row after
    meets a and t) and p3's name changes (shown by b), then a is untouched (the same values
    left and entered), t gains p9, and b, showing p3, is evicted; s (not met) stays."""
    c = cache_at()

    def changes(since, upto, filters):  # noqa: ANN001, ANN202
        at = {f.qtext: i for i, f in enumerate(filters)}
        return Moved(
            {},
            {
                at["a"]: [row("p9", False), row("p9", True)],
                at["b"]: [row("p9", False)],
                at["t"]: [row("p9", True, price="7")],
            },
            frozenset({"p9", "p3"}),
        )

    c.at((1, 5, None), (11, 0), changes)
    assert c.get((1, 5, None), (11, 0), ("a",)) == answer("p1", "p2")
    assert c.get((1, 5, None), (11, 0), ("b",)) is None
    assert c.get((1, 5, None), (11, 0), ("t",))["total"] == 2
    assert c.get((1, 5, None), (11, 0), ("t",))["facets"]["categories"] == [
        {"id": "c1", "count": 1}
    ]
    assert c.get((1, 5, None), (11, 0), ("s",)) == answer("p4")
    assert (c.patched, c.evicted) == (1, 1)
    assert c.evictions == {"shown": 1}


def test_flips_no_longer_known_empty_the_cache():
    c = cache_at()
    c.at((1, 5, None), (11, 0), lambda since, upto, filters: None)
    assert all(c.get((1, 5, None), (11, 0), (k,)) is None for k in "abst")
    assert c.evictions == {"unknown": 4}


def test_a_content_move_empties_the_cache_and_a_rebuilt_view_is_a_new_state():
    for state in ((1, 6, None), (2, 5, None), (1, 5, 8)):
        c = cache_at(state=(1, 5, 7) if state[2] else (1, 5, None))
        c.at(state, (10, 0), NOTHING)
        assert c.get(state, (10, 0), ("b",)) is None


def test_a_caller_that_read_an_older_state_misses_without_moving_the_cache_back():
    c = cache_at(state=(1, 5, None), products=(10, 0))
    c.at((1, 4, None), (9, 0), NOTHING)
    assert c.get((1, 4, None), (9, 0), ("b",)) is None
    c.put((1, 4, None), (9, 0), ("c",), answer("p9"), A)  # not kept: the cache is past it
    assert c.get((1, 5, None), (10, 0), ("b",)) == answer("p3")
    assert c.get((1, 5, None), (10, 0), ("c",)) is None
    c.at((1, 5, None), (9, 0), NOTHING)  # products behind: nothing moves
    assert c.get((1, 5, None), (10, 0), ("b",)) == answer("p3")


def test_flips_are_read_with_the_lock_free_and_answers_put_meanwhile_are_judged_too():
    c = cache_at()

    def flips(since, upto, filters):  # noqa: ANN001, ANN202
        assert c.lock.acquire(timeout=1)  # the event loop's readers are not held up
        c.lock.release()
        c.put((1, 5, None), since, ("u",), answer("p7"), query("u", True))  # untested: goes
        c.put((1, 5, None), since, ("v",), answer("p8"), query("v"))  # stock alone moved: stays
        return Moved({"p1": False}, {})

    c.at((1, 5, None), (11, 0), flips)
    assert c.get((1, 5, None), (11, 0), ("u",)) is None
    assert c.get((1, 5, None), (11, 0), ("a",))["items"][0] == {"id": "p1", "in_stock": False}
    assert c.get((1, 5, None), (11, 0), ("v",)) == answer("p8")
    assert c.get((1, 5, None), (11, 0), ("s",)) == answer("p4")


def test_concurrent_misses_of_one_answer_run_one_search_and_share_its_answer():
    c = cache_at()
    key = ((1, 5, None), (10, 0), ("x",))
    flight, leading = c.board(key)
    again, second = c.board(key)
    assert leading and not second and again is flight
    other, third = c.board(((1, 5, None), (10, 0), ("y",)))
    assert third and other is not flight  # another query runs its own
    c.land(key, flight, answer=answer("p1"))
    assert again.result(timeout=1) == answer("p1")
    _, fourth = c.board(key)
    assert fourth  # landed: the next miss searches again


def test_a_failed_search_fails_its_waiters_too():
    c = cache_at()
    key = ((1, 5, None), (10, 0), ("x",))
    flight, _ = c.board(key)
    waiting, _ = c.board(key)
    c.land(key, flight, error=TimeoutError("statement timeout"))
    with pytest.raises(TimeoutError, match="statement timeout"):
        waiting.result(timeout=1)


def test_a_rating_change_evicts_only_the_answers_that_depend_on_that_rating():
    """Given answers filtered on a minimum rating, sorted by rating (a page, and a set's
    counts alone), showing p7, and none of these, when a move of the ratings generation
    changes p7's rating, then the first, second and fourth are evicted and the others kept
    as they were, without asking about product changes (the product generation did not
    move)."""
    rated = replace(A, tsquery="r", qtext="r", rating_min=Decimal("4"))
    by_rating = replace(A, tsquery="o", qtext="o", key="rating", page=True)
    counts = replace(A, tsquery="k", qtext="k", key="rating", page=False)
    c = cache_at(products=(10, 3))
    c.put((1, 5, None), (10, 3), ("r",), answer("p1"), rated)
    c.put((1, 5, None), (10, 3), ("o",), answer("p2"), by_rating)
    c.put((1, 5, None), (10, 3), ("k",), answer(), counts)
    c.put((1, 5, None), (10, 3), ("p",), answer("p7"), query("p"))
    kept = {k: c.get((1, 5, None), (10, 3), (k,)) for k in "abstk"}
    asked = []

    def ratings(since, upto, filters):  # noqa: ANN001, ANN202
        asked.append((since, upto))
        return Moved({}, {}, rated=frozenset({"p7"}))

    c.at((1, 5, None), (10, 4), ratings)
    assert asked == [((10, 3), (10, 4))]
    for k in "rop":
        assert c.get((1, 5, None), (10, 4), (k,)) is None, k
    for k, was in kept.items():
        assert c.get((1, 5, None), (10, 4), (k,)) is was, k
    assert (c.patched, c.evicted) == (0, 3)
    assert c.evictions == {"rating": 3}


def test_a_caller_that_read_older_ratings_misses_without_moving_the_cache_back():
    c = cache_at(products=(10, 3))
    c.at((1, 5, None), (10, 2), NOTHING)
    assert c.get((1, 5, None), (10, 2), ("b",)) is None
    assert c.get((1, 5, None), (10, 3), ("b",)) == answer("p3")
    c.put((1, 5, None), (10, 2), ("c",), answer("p9"), A)  # not kept: the cache is past it
    assert c.get((1, 5, None), (10, 3), ("c",)) is None
