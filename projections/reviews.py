"""The reviews view (schema ``rm_reviews``): a row per review (what it says, its moderation
status, its helpful votes, the seller's response) and ``product_ratings``, a row per product
with at least one approved review: the average rating, the count and the histogram over its
APPROVED reviews only, recomputed from the review rows of each product a batch touched;
``generation``, which counts the batches that changed some product's rating, and
``rating_changes``, the products each of the last ``CHANGES_KEPT`` of them changed (one row
with no product for a batch that changed more than ``CHANGES_LOGGED``: a catch-up, a
rebuild). Other views (search) join ``product_ratings`` at query time, and the API's search
cache follows ``generation`` and its log, not the view's position (every pass of the views
moves that, whatever it held).

``product_rating`` and ``list_reviews`` are its queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.review import events as ev
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "reviews"
#: Ratings generations whose changed products are kept (``rating_changes``).
CHANGES_KEPT = 1_000
#: Products a batch logs at most; beyond, one row without a product stands for all.
CHANGES_LOGGED = 200
SORTS = ("newest", "helpful", "rating_desc", "rating_asc")
EMPTY_HISTOGRAM = {str(n): 0 for n in range(1, 6)}

_STATUS = {
    ev.ReviewApproved: "approved",
    ev.ReviewRejected: "rejected",
    ev.ReviewFlagged: "flagged",
}


class ReviewsView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in ev.REVIEW_EVENTS)
    ddl = """
    CREATE TABLE {schema}.reviews (
        id uuid PRIMARY KEY, product_id uuid NOT NULL, customer_id uuid NOT NULL,
        rating int NOT NULL, title text, text text NOT NULL, status text NOT NULL,
        verified boolean NOT NULL, order_id uuid, helpful_count int NOT NULL,
        unhelpful_count int NOT NULL, response text, responded_by text,
        responded_at timestamptz, version bigint NOT NULL, created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL);
    CREATE INDEX ON {schema}.reviews (product_id, status);
    CREATE TABLE {schema}.product_ratings (
        product_id uuid PRIMARY KEY, average numeric NOT NULL, review_count int NOT NULL,
        histogram jsonb NOT NULL);
    CREATE TABLE {schema}.generation (ratings bigint NOT NULL);
    INSERT INTO {schema}.generation VALUES (0);
    CREATE TABLE {schema}.rating_changes (generation bigint NOT NULL, product_id uuid);
    CREATE INDEX ON {schema}.rating_changes (generation);
    """
    comments = {
        "reviews": "One row per review: what it says, its moderation status, its votes.",
        "reviews.id": "The review's stream id.",
        "reviews.product_id": "The product reviewed (rm_product_catalog.products.id).",
        "reviews.customer_id": "The author.",
        "reviews.rating": "1 to 5, as it now stands.",
        "reviews.title": "Its title (NULL: none).",
        "reviews.text": "Its text.",
        "reviews.status": "pending, approved, rejected or flagged.",
        "reviews.verified": "The author had a delivered line of the product when submitting.",
        "reviews.order_id": "The order with that delivered line (NULL: unverified).",
        "reviews.helpful_count": "Customers who found it helpful.",
        "reviews.unhelpful_count": "Customers who did not.",
        "reviews.response": "The seller's response (NULL: none yet).",
        "reviews.responded_by": "Who wrote the response.",
        "reviews.responded_at": "Business time of the response.",
        "reviews.version": "Version of the review's stream the row reflects.",
        "reviews.created_at": "Business time of its submission.",
        "reviews.updated_at": "Business time of its last event.",
        "product_ratings": "Per product with an approved review: its rating over approved ones.",
        "product_ratings.product_id": "The product (rm_product_catalog.products.id).",
        "product_ratings.average": "Mean rating of its approved reviews, to 2 decimals.",
        "product_ratings.review_count": "How many approved reviews it has.",
        "product_ratings.histogram": 'Approved reviews per rating: {"1": n, ..., "5": n}.',
        "generation": "One row: what moves when some product's rating changes.",
        "generation.ratings": "Batches so far that changed a row of product_ratings.",
        "rating_changes": "The products each recent ratings generation changed (the last 1,000).",
        "rating_changes.generation": "The ratings generation.",
        "rating_changes.product_id": "A product whose rating it changed (NULL: too many to log).",
    }

    CREATE = """INSERT INTO {}.reviews VALUES (%s, %s, %s, %s, %s, %s, 'pending', %s, %s, 0, 0,
        NULL, NULL, NULL, 0, %s, %s) ON CONFLICT DO NOTHING"""
    #: Every event moves the row's version; an event at or below it was applied already.
    MOVE = """UPDATE {}.reviews SET version = %s, updated_at = %s WHERE id = %s AND version < %s
        RETURNING product_id"""
    EDIT = (
        "UPDATE {}.reviews SET rating = %s, title = %s, text = %s, status = 'pending' WHERE id = %s"
    )
    STATUS = "UPDATE {}.reviews SET status = %s WHERE id = %s"
    RESPOND = """UPDATE {}.reviews SET response = %s, responded_by = %s, responded_at = %s
        WHERE id = %s"""
    VOTE = """UPDATE {}.reviews SET helpful_count = helpful_count + %s,
        unhelpful_count = unhelpful_count + %s WHERE id = %s"""
    RATE = """INSERT INTO {0}.product_ratings AS r
        SELECT product_id, round(avg(rating), 2), count(*), jsonb_build_object(
            '1', count(*) FILTER (WHERE rating = 1), '2', count(*) FILTER (WHERE rating = 2),
            '3', count(*) FILTER (WHERE rating = 3), '4', count(*) FILTER (WHERE rating = 4),
            '5', count(*) FILTER (WHERE rating = 5))
        FROM {0}.reviews WHERE product_id = ANY(%s) AND status = 'approved' GROUP BY product_id
        ON CONFLICT (product_id) DO UPDATE SET average = excluded.average,
            review_count = excluded.review_count, histogram = excluded.histogram
        WHERE (r.average, r.review_count, r.histogram)
            IS DISTINCT FROM (excluded.average, excluded.review_count, excluded.histogram)
        RETURNING product_id"""
    UNRATE = """DELETE FROM {0}.product_ratings r WHERE r.product_id = ANY(%s) AND NOT EXISTS
        (SELECT 1 FROM {0}.reviews v WHERE v.product_id = r.product_id AND v.status = 'approved')
        RETURNING product_id"""
    #: the next ratings generation, logging its changed products and forgetting the oldest
    RATED = """WITH g AS (UPDATE {0}.generation SET ratings = ratings + 1 RETURNING ratings),
        logged AS (INSERT INTO {0}.rating_changes SELECT g.ratings, p FROM g, unnest(%s::uuid[]) p)
        DELETE FROM {0}.rating_changes c USING g WHERE c.generation <= g.ratings - %s"""

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> Cursor:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)
            return cur

        touched: set[UUID] = set()
        for e in events:
            event, at, review = e.to_domain(), e.meta.occurred_at, e.stream_id
            if isinstance(event, ev.ReviewSubmitted):
                run(self.CREATE, review, event.product_id, event.customer_id, event.rating,
                    event.title, event.text, event.verified, event.order_id, at, at)  # fmt: skip
            moved = run(self.MOVE, e.version, at, review, e.version).fetchone()
            if moved is None:
                continue
            match event:
                case ev.ReviewSubmitted():
                    pass
                case ev.ReviewEdited(rating=rating, title=title, text=text):
                    run(self.EDIT, rating, title, text, review)
                case ev.ReviewApproved() | ev.ReviewRejected() | ev.ReviewFlagged():
                    run(self.STATUS, _STATUS[type(event)], review)
                case ev.SellerResponded(text=text, responded_by=by):
                    run(self.RESPOND, text, by, at, review)
                    continue
                case ev.VoteCast(helpful=helpful):
                    run(self.VOTE, int(helpful), int(not helpful), review)
                    continue
                case ev.VoteChanged(helpful=helpful):
                    step = 1 if helpful else -1
                    run(self.VOTE, step, -step, review)
                    continue
            touched.add(moved["product_id"])  # the runner's cursor gives dict rows
        if touched:
            changed = [r["product_id"] for r in run(self.RATE, list(touched)).fetchall()]
            changed += [r["product_id"] for r in run(self.UNRATE, list(touched)).fetchall()]
            if changed:
                logged = changed if len(changed) <= CHANGES_LOGGED else [None]
                run(self.RATED, logged, CHANGES_KEPT)

    def compare_key(self) -> dict[str, str]:
        # ``generation`` counts batches, which a rebuild cuts differently: not compared
        return {"reviews": "id", "product_ratings": "product_id"}


def _schema() -> sql.Identifier:
    return sql.Identifier(live_schema(NAME))


def product_rating(pool: ConnectionPool, product_id: UUID) -> dict[str, Any]:
    """``{average, count, histogram}`` over the product's approved reviews (average None and
    every count 0 when it has none)."""
    query = "SELECT average, review_count, histogram FROM {}.product_ratings WHERE product_id = %s"
    with pool.connection() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL(query).format(_schema()), (product_id,))
        row = cur.fetchone()
    if row is None:
        return {"average": None, "count": 0, "histogram": dict(EMPTY_HISTOGRAM)}
    return {"average": float(row[0]), "count": row[1], "histogram": {**EMPTY_HISTOGRAM, **row[2]}}


#: Each sort as a key of three columns, all walked descending (so one keyset works for all).
_SORT_KEY = {
    "newest": "0 * rating",  # a constant (a bare 0 would name the 0th column)
    "helpful": "helpful_count",
    "rating_desc": "rating",
    "rating_asc": "-rating",
}


def list_reviews(
    pool: ConnectionPool,
    product_id: UUID,
    *,
    sort: str = "newest",
    limit: int = 50,
    after: tuple[int, datetime, UUID] | None = None,
) -> list[dict[str, Any]]:
    """The product's approved reviews in ``sort`` order (ties: newest first), after the
    ``after`` key; each row carries its ``sort_key`` for the next page."""
    key = sql.SQL(_SORT_KEY[sort])
    where, params = sql.SQL(""), [product_id]
    if after is not None:
        where = sql.SQL("AND ({}, created_at, id) < (%s, %s, %s)").format(key)
        params += list(after)
    query = sql.SQL(
        """SELECT *, {key} AS sort_key FROM {schema}.reviews
        WHERE product_id = %s AND status = 'approved' {where}
        ORDER BY {key} DESC, created_at DESC, id DESC LIMIT %s"""
    ).format(key=key, schema=_schema(), where=where)
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (*params, limit))
        return cur.fetchall()


def get_review(pool: ConnectionPool, review_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}.reviews WHERE id = %s").format(_schema()), (review_id,)
        )
        return cur.fetchone()
