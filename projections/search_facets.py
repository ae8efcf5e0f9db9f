"""The facet counts the search view keeps for its browsing sets (``rm_product_search``'s
``category_counts`` and ``pair_counts``), so a search with no text and no filter but a
category and in-stock reads its ``total`` and facets from a few rows instead of counting them
over tens of thousands of products.

A browsing set is the active products, or the active products in one category (with its
descendants), each with or without ``in_stock``. For every such scope (the whole catalog is
scope ``ALL``, a category is its own id) the view keeps:

- ``category_counts (scope, category, total, stocked)``: how many active products of the
  scope have the category in their paths (all of them / those in stock). A scope's own row
  (``category = scope``) is its total; ``ALL``'s total is ``(ALL, ALL)``.
- ``pair_counts (scope, pair, total, stocked)``: the same per attribute pair (``color=red``).

A row counting nothing is deleted, so a rebuilt view holds exactly the live one's rows.

The view adds each changed product's row after and subtracts its row before
(``FacetDeltas``), in memory over the batch, and writes the sums once (``write``). The query
(``projections/product_search_query.py``) reads them in the same statement as the page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from uuid import UUID

from psycopg import Cursor, sql

#: The scope of the whole catalog (no category filter).
ALL = UUID(int=0)

DDL = """
    CREATE TABLE {schema}.category_counts (
        scope uuid NOT NULL,
        category uuid NOT NULL,
        total int NOT NULL,
        stocked int NOT NULL,
        PRIMARY KEY (scope, category)
    );
    CREATE TABLE {schema}.pair_counts (
        scope uuid NOT NULL,
        pair text NOT NULL,
        total int NOT NULL,
        stocked int NOT NULL,
        PRIMARY KEY (scope, pair)
    );
"""

COMMENTS = {
    "category_counts": "Active products per browsing scope and category in their paths.",
    "category_counts.scope": "A category (its products with descendants), or the zero id: all.",
    "category_counts.category": "A category in the products' paths (the scope's own: its total).",
    "category_counts.total": "How many active products of the scope have it.",
    "category_counts.stocked": "How many of those are in stock.",
    "pair_counts": "Active products per browsing scope and attribute pair.",
    "pair_counts.scope": "A category (its products with descendants), or the zero id: all.",
    "pair_counts.pair": "name=value of an attribute.",
    "pair_counts.total": "How many active products of the scope have it.",
    "pair_counts.stocked": "How many of those are in stock.",
}


def recount(cur: Cursor, schema: sql.Identifier) -> None:
    """Fill the (empty) count tables from the products as they are: an older view's schema
    brought up to this one (``ProductSearchView.upgrade``), and what the tests hold the kept
    counts to."""
    scopes = "unnest(%(all)s::uuid || p.category_paths)"
    cur.execute(
        sql.SQL(
            "INSERT INTO {0}.category_counts SELECT s, c, count(*), count(*) FILTER (WHERE "
            "p.in_stock) FROM {0}.products p, " + scopes + " s, " + scopes + " c "
            "WHERE p.status = 'active' AND (c <> %(all)s OR s = %(all)s) GROUP BY s, c"
        ).format(schema),
        {"all": ALL},
    )
    cur.execute(
        sql.SQL(
            "INSERT INTO {0}.pair_counts SELECT s, pair, count(*), count(*) FILTER (WHERE "
            "p.in_stock) FROM {0}.products p, " + scopes + " s, unnest(p.attr_pairs) pair "
            "WHERE p.status = 'active' GROUP BY s, pair"
        ).format(schema),
        {"all": ALL},
    )


class FacetDeltas:
    """What a batch changes in the counts: each product row it changed, subtracted as it was
    and added as it is (rows of inactive products count nothing)."""

    def __init__(self) -> None:
        self.categories: Counter[tuple[UUID, UUID]] = Counter()
        self.categories_stocked: Counter[tuple[UUID, UUID]] = Counter()
        self.pairs: Counter[tuple[UUID, str]] = Counter()
        self.pairs_stocked: Counter[tuple[UUID, str]] = Counter()

    def row(
        self,
        status: str | None,
        in_stock: bool,
        paths: Iterable[UUID],
        pairs: Iterable[str],
        sign: int,
    ) -> None:
        """Count a product's row (``sign`` +1: as it is now, -1: as it was)."""
        if status != "active":
            return
        self._count(paths, pairs, sign, total=True, stocked=in_stock)

    def stock(self, paths: Iterable[UUID], pairs: Iterable[str], sign: int) -> None:
        """An active product's ``in_stock`` turned on (+1) or off (-1), nothing else."""
        self._count(paths, pairs, sign, total=False, stocked=True)

    def _count(
        self, paths: Iterable[UUID], pairs: Iterable[str], sign: int, total: bool, stocked: bool
    ) -> None:
        paths = list(paths)
        pairs = list(pairs)
        scopes = [ALL, *paths]
        for counts, on in ((self.categories, total), (self.categories_stocked, stocked)):
            if not on:
                continue
            counts[(ALL, ALL)] += sign
            for s in scopes:
                for c in paths:
                    counts[(s, c)] += sign
        for counts, on in ((self.pairs, total), (self.pairs_stocked, stocked)):
            if not on:
                continue
            for s in scopes:
                for p in pairs:
                    counts[(s, p)] += sign

    def write(self, cur: Cursor, schema: sql.Identifier) -> None:
        """Add the batch's sums to the counts (one statement per table); rows left counting
        nothing are deleted."""
        for table, key, kind, total, stocked in (
            ("category_counts", "category", "uuid", self.categories, self.categories_stocked),
            ("pair_counts", "pair", "text", self.pairs, self.pairs_stocked),
        ):
            keys = [k for k in total.keys() | stocked.keys() if total[k] or stocked[k]]
            if not keys:
                continue
            cur.execute(
                sql.SQL(
                    "MERGE INTO {table} t USING (SELECT * FROM unnest(%s::uuid[], %s::{kind}[], "
                    "%s::int[], %s::int[]) AS d(scope, key, total, stocked)) d "
                    "ON t.scope = d.scope AND t.{key} = d.key "
                    "WHEN MATCHED AND t.total + d.total = 0 THEN DELETE "
                    "WHEN MATCHED THEN UPDATE SET total = t.total + d.total, "
                    "stocked = t.stocked + d.stocked "
                    "WHEN NOT MATCHED THEN INSERT VALUES (d.scope, d.key, d.total, d.stocked)"
                ).format(
                    table=sql.SQL("{}.{}").format(schema, sql.Identifier(table)),
                    kind=sql.SQL(kind),
                    key=sql.Identifier(key),
                ),
                (
                    [k[0] for k in keys],
                    [k[1] for k in keys],
                    [total[k] for k in keys],
                    [stocked[k] for k in keys],
                ),
            )
