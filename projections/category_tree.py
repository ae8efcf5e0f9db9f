"""Read model: the categories, and the query that nests them into a tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.category.events import CategoryCreated
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema


class CategoryTreeView(Projection):
    name = "category_tree"
    topics = ("category.CategoryCreated",)
    ddl = """
    CREATE TABLE {schema}.categories (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text UNIQUE NOT NULL,
        parent_id uuid,
        version bigint NOT NULL,
        created_at timestamptz NOT NULL
    );
    """
    comments = {
        "categories": "One row per catalog category; parent_id makes the tree.",
        "categories.id": "The category's stream id.",
        "categories.name": "Display name.",
        "categories.slug": "Unique URL-safe name.",
        "categories.parent_id": "Parent category (NULL for a root).",
        "categories.version": "Version of the category's stream this row reflects.",
        "categories.created_at": "When it was created (business time).",
    }

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        rows = [
            (e.stream_id, c.name, c.slug, c.parent_id, e.version, e.meta.occurred_at)
            for e in events
            if isinstance(c := e.to_domain(), CategoryCreated)
        ]
        if rows:
            cur.executemany(
                sql.SQL(
                    "INSERT INTO {}.categories VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (id) DO NOTHING"
                ).format(sql.Identifier(schema)),
                rows,
            )

    def compare_key(self) -> dict[str, str]:
        return {"categories": "id"}


def category_tree(pool: ConnectionPool) -> list[dict[str, Any]]:
    """Root categories, each with its ``children`` nested, siblings ordered by name."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            sql.SQL(
                "SELECT id, name, slug, parent_id, version FROM {}.categories ORDER BY name, id"
            ).format(sql.Identifier(live_schema("category_tree")))
        )
        rows = cur.fetchall()
    nodes = {r["id"]: {**r, "children": []} for r in rows}
    roots = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent is not None else roots).append(node)
    return roots
