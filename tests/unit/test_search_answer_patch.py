"""What a move of the products does to a cached search answer
(``projections/search_answers.patch``, ``net``): given an answer, when changed products' rows
enter or leave its set, then its ``total`` and facets move by them and its page stays, or,
where that is not certain from the answer alone, it is read again (None). That a patched
answer equals the answer searched afresh is ``tests/integration/test_product_search.py``'s
property."""

from __future__ import annotations

from uuid import UUID

from projections.search_answers import (
    ATTRIBUTE_NAMES,
    CATEGORY_FACETS,
    Entry,
    Filter,
    net,
    patch,
    patched,
)

END = ("2026-01-01 00:00:00+00", UUID(int=9))


def answer(**changes) -> dict:  # noqa: ANN003
    base = {
        "items": [{"id": "shown", "in_stock": True}],
        "total": 30,
        "facets": {
            "categories": [{"id": "c1", "count": 30}, {"id": "c2", "count": 12}],
            "attributes": {
                "color": [{"value": "red", "count": 9}, {"value": "blue", "count": 4}],
                "size": [{"value": "M", "count": 3}],
            },
            "price": {"min": "5.00", "max": "90.00"},
        },
        "after": END,
        "encoded": "{...}",
    }
    return {**base, **changes}


def page(limit: int = 1, cursor=None, end=END) -> Filter:  # noqa: ANN001
    return Filter(
        tsquery=None,
        qtext=None,
        category=None,
        attributes=(),
        price_min=None,
        price_max=None,
        rating_min=None,
        in_stock=True,
        guests=(),
        key="newest",
        cursor=cursor,
        end=end,
        limit=limit,
    )


def entry(entered: bool, **changes) -> Entry:  # noqa: ANN003
    base = {
        "product_id": "p",
        "entered": entered,
        "categories": ("c1", "c2"),
        "pairs": ("color=blue", "size=M"),
        "price": "20.00",
        "beyond_cursor": True,
        "before_end": False,
    }
    return Entry(**{**base, **changes})


def test_a_product_leaving_after_the_page_moves_total_and_facets_and_keeps_the_page():
    given = answer()
    moved = patch(given, page(), [entry(False)])
    assert moved == {
        "items": given["items"],
        "total": 29,
        "facets": {
            "categories": [{"id": "c1", "count": 29}, {"id": "c2", "count": 11}],
            "attributes": {
                "color": [{"value": "red", "count": 9}, {"value": "blue", "count": 3}],
                "size": [{"value": "M", "count": 2}],
            },
            "price": {"min": "5.00", "max": "90.00"},
        },
        "after": END,
    }
    assert "encoded" in given, "the cached answer itself is not changed"


def test_a_product_entering_after_the_page_adds_its_values_and_widens_the_price_range():
    moved = patch(
        answer(),
        page(),
        [entry(True, categories=("c1", "c3"), pairs=("color=green", "fit=slim"), price="2.50")],
    )
    assert moved is not None
    assert moved["total"] == 31
    assert moved["facets"]["categories"] == [
        {"id": "c1", "count": 31},
        {"id": "c2", "count": 12},
        {"id": "c3", "count": 1},
    ]
    attributes = moved["facets"]["attributes"]
    assert list(attributes) == ["color", "fit", "size"], "names in code point order"
    assert attributes["color"][-1] == {"value": "green", "count": 1}
    assert moved["facets"]["price"] == {"min": "2.50", "max": "90.00"}


def test_a_value_whose_last_product_leaves_goes_and_so_does_a_name_without_values():
    moved = patch(answer(), page(), [entry(False, pairs=("size=M",)) for _ in range(3)])
    assert moved is not None
    assert "size" not in moved["facets"]["attributes"]
    assert moved["facets"]["categories"][1] == {"id": "c2", "count": 9}


def test_the_page_changing_reads_the_answer_again():
    for moves in (
        [entry(False, product_id="shown", before_end=True)],  # it leaves the page
        [entry(True, before_end=True)],  # it sorts into the page
        [entry(True, before_end=None)],  # its key has no value to compare
        [entry(False, beyond_cursor=None)],
    ):
        assert patched(answer(), page(), moves) == "page", moves
    # the last page: a product entering after it makes a next page
    assert patched(answer(after=None), page(end=None), [entry(True, before_end=None)]) == "page"


def test_a_product_before_the_cursor_moves_the_set_but_not_the_page():
    cursor = ("2026-02-01 00:00:00+00", UUID(int=1))
    moved = patch(
        answer(after=None), page(cursor=cursor, end=None), [entry(True, beyond_cursor=False)]
    )
    assert moved is not None and moved["total"] == 31 and moved["after"] is None


def test_a_product_leaving_after_the_page_may_end_the_next_page():
    # page one of 30 with 29 left: a next page remains
    assert patch(answer(), page(limit=28), [entry(False)]) is not None
    # with 29 left and 29 shown, none remains: ``after`` would change
    assert patch(answer(), page(limit=29), [entry(False)]) is None
    # a later page does not know how many follow it
    cursor = ("2026-02-01 00:00:00+00", UUID(int=1))
    assert patch(answer(), page(cursor=cursor), [entry(False)]) is None


def test_a_product_leaving_at_an_end_of_the_price_range_reads_the_answer_again():
    for price in ("5.00", "90.00", "5.0"):
        assert patched(answer(), page(), [entry(False, price=price)]) == "price", price
    assert patch(answer(), page(), [entry(False, price=None)]) is not None


def test_a_product_entering_at_an_end_written_another_way_reads_the_answer_again():
    assert patch(answer(), page(), [entry(True, price="5.0")]) is None
    moved = patch(answer(), page(), [entry(True, price="5.00")])
    assert moved is not None and moved["facets"]["price"]["min"] == "5.00"


def test_a_truncated_facet_list_is_patched_only_where_nothing_outside_it_can_come_in():
    full = [{"id": f"c{i:03}", "count": 200 - i} for i in range(CATEGORY_FACETS)]
    floor = full[-1]["count"]
    given = answer(facets={**answer()["facets"], "categories": full})

    def moved(categories: tuple[str, ...], entered: bool):  # noqa: ANN202
        found = patch(given, page(), [entry(entered, categories=categories)])
        return None if found is None else found["facets"]["categories"]

    # a shown value gaining, and a value not shown losing: certain
    assert moved(("c050",), True)[50] == {"id": "c050", "count": 151}
    assert moved(("other",), False) == full
    # a shown value losing, still above every value not shown: certain
    assert moved(("c000",), False)[0] == {"id": "c000", "count": 199}
    # a value not shown gaining, or the last shown one losing: not certain
    assert moved(("other",), True) is None
    assert moved((full[-1]["id"],), False) is None
    assert floor == 101


def test_a_new_attribute_name_when_all_names_may_not_be_shown_reads_the_answer_again():
    names = {f"n{i:02}": [{"value": "x", "count": 5}] for i in range(ATTRIBUTE_NAMES)}
    given = answer(facets={**answer()["facets"], "attributes": names})
    assert patch(given, page(), [entry(True, pairs=("zz=1",))]) is None
    assert patch(given, page(), [entry(False, pairs=("zz=1",))]) is not None
    moved = patch(given, page(), [entry(True, pairs=("n07=x",))])
    assert moved is not None and moved["facets"]["attributes"]["n07"] == [
        {"value": "x", "count": 6}
    ]


def test_counts_the_answer_does_not_hold_read_it_again():
    # a value leaving that a complete list does not show: the answer is not what it seems
    assert patch(answer(), page(), [entry(False, categories=("c9",))]) is None
    assert patch(answer(total=0), page(), [entry(False)]) is None


def test_a_sets_counts_kept_without_a_page_move_whatever_the_page_would_have():
    """The counts kept for a filtered set (shared by its sorts and pages) have no page: a
    product entering or leaving anywhere moves them."""
    counts = answer(items=[], after=None)
    moves = [entry(True, before_end=None), entry(False, product_id="x", beyond_cursor=None)]
    counted = Filter(**{**page(end=None).__dict__, "page": False})
    moved = patch(counts, counted, moves)
    assert moved is not None and moved["total"] == 30 and moved["items"] == []
    assert patch(counts, page(end=None), moves) is None, "with a page, the same moves read again"


def test_a_row_before_and_after_that_the_answer_sees_alike_cancel():
    """A product renamed, or a stock flip seen by an answer not filtered on stock: its row
    before leaves and its row after enters with the same values and place; nothing moves."""
    pair = [entry(False), entry(True)]
    assert net(pair) == []
    assert net([*pair, entry(True, product_id="q")]) == [entry(True, product_id="q")]


def test_a_price_moved_inside_the_range_keeps_total_and_moves_no_count():
    """A product's price changed within the answer's price range, after its page: the row
    before leaves and the row after enters; ``total``, counts and range stay."""
    given = answer()
    moves = net([entry(False), entry(True, price="30.00")])
    assert len(moves) == 2
    moved = patch(given, page(), moves)
    assert moved is not None
    assert moved["total"] == 30 and moved["facets"] == given["facets"]
    assert moved["items"] == given["items"] and moved["after"] == given["after"]


def test_a_product_edited_into_another_category_moves_both_counts():
    given = answer()
    moved = patch(given, page(), net([entry(False), entry(True, categories=("c1",))]))
    assert moved is not None
    assert moved["facets"]["categories"] == [{"id": "c1", "count": 30}, {"id": "c2", "count": 11}]
