"""Read model: the pricing rules, one row each with its current definition and status, folded
from the typed PricingRule events; ``get_rule`` and ``list_rules`` are its queries. (Prices
are decided from the write side, ``commands/price_rules.py``; this view is for reading.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from domain.pricing.events import (
    PRICING_RULE_EVENTS,
    PricingRuleCreated,
    PricingRuleDeactivated,
    PricingRuleUpdated,
)
from eventstore.recorded import RecordedEvent
from projections.base import Projection, live_schema

NAME = "pricing_rules"
COLUMNS = (
    "id, name, type, status, priority, scope, config, valid_from, valid_to, "
    "deactivation_reason, version, created_at, updated_at"
)


class PricingRulesView(Projection):
    name = NAME
    topics = tuple(cls.stored_name() for cls in PRICING_RULE_EVENTS)
    ddl = """
    CREATE TABLE {schema}.rules (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        status text NOT NULL,
        priority int NOT NULL,
        scope jsonb NOT NULL,
        config jsonb NOT NULL,
        valid_from timestamptz,
        valid_to timestamptz,
        deactivation_reason text,
        version bigint NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
    );
    CREATE INDEX rules_by_created ON {schema}.rules (created_at, id);
    """
    comments = {
        "rules": "One row per pricing rule: its current definition and status.",
        "rules.id": "The rule's stream id (its rule_id on order lines).",
        "rules.name": "Display name.",
        "rules.type": "tiered, segment, geographic, time_based or cost_plus.",
        "rules.status": "active or inactive (deactivated rules never price a line).",
        "rules.priority": "Among matching rules the highest priority wins.",
        "rules.scope": "SKUs, product ids and category ids it applies to (all empty: every SKU).",
        "rules.config": "The type's configuration as checked (tiers, segments, regions, ...).",
        "rules.valid_from": "Start of validity, inclusive (null: always was).",
        "rules.valid_to": "End of validity, exclusive (null: open-ended).",
        "rules.deactivation_reason": "Why it was deactivated, when it was and one was given.",
        "rules.version": "Version of the rule's stream this row reflects.",
        "rules.created_at": "When it was created (business time).",
        "rules.updated_at": "When it last changed (business time).",
    }
    CREATE = (
        "INSERT INTO {}.rules VALUES (%s,%s,%s,'active',%s,%s,%s,%s,%s,NULL,%s,%s,%s) "
        "ON CONFLICT (id) DO NOTHING"
    )
    UPDATE = (
        "UPDATE {}.rules SET name = %s, priority = %s, scope = %s, config = %s, "
        "valid_from = %s, valid_to = %s, version = %s, updated_at = %s "
        "WHERE id = %s AND version < %s"
    )
    DEACTIVATE = (
        "UPDATE {}.rules SET status = 'inactive', deactivation_reason = %s, version = %s, "
        "updated_at = %s WHERE id = %s AND version < %s"
    )

    def apply(self, cur: Cursor, schema: str, events: Sequence[RecordedEvent]) -> None:
        def run(statement: str, *args: object) -> None:
            cur.execute(sql.SQL(statement).format(sql.Identifier(schema)), args)

        for e in events:
            at, v, stream = e.meta.occurred_at, e.version, e.stream_id
            match e.to_domain():
                case PricingRuleCreated() as c:
                    scope = Jsonb(c.scope.model_dump(mode="json"))
                    run(
                        self.CREATE,
                        *(stream, c.name, c.rule_type, c.priority, scope, Jsonb(c.config)),
                        *(c.valid_from, c.valid_to, v, at, at),
                    )
                case PricingRuleUpdated() as u:
                    scope = Jsonb(u.scope.model_dump(mode="json"))
                    run(
                        self.UPDATE,
                        *(u.name, u.priority, scope, Jsonb(u.config), u.valid_from, u.valid_to),
                        *(v, at, stream, v),
                    )
                case PricingRuleDeactivated(reason=reason):
                    run(self.DEACTIVATE, reason, v, at, stream, v)

    def compare_key(self) -> dict[str, str]:
        return {"rules": "id"}


def _schema() -> sql.Identifier:
    return sql.Identifier(live_schema(NAME))


def get_rule(pool: ConnectionPool, rule_id: UUID) -> dict[str, Any] | None:
    query = sql.SQL(f"SELECT {COLUMNS} FROM {{}}.rules WHERE id = %s").format(_schema())
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (rule_id,))
        return cur.fetchone()


def list_rules(
    pool: ConnectionPool,
    *,
    status: str | None,
    rule_type: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Rules in creation order, filtered, after the (created_at, id) of ``after``."""
    where, args = ["true"], []
    if status is not None:
        where.append("status = %s")
        args.append(status)
    if rule_type is not None:
        where.append("type = %s")
        args.append(rule_type)
    if after is not None:
        where.append("(created_at, id) > (%s::timestamptz, %s::uuid)")
        args.extend(after)
    query = sql.SQL(
        f"SELECT {COLUMNS} FROM {{}}.rules WHERE {' AND '.join(where)} "
        "ORDER BY created_at, id LIMIT %s"
    ).format(_schema())
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, (*args, limit))
        return cur.fetchall()
