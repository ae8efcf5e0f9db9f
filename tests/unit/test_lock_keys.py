"""Every advisory lock key comes from one registry and no two registered followers share one."""

from __future__ import annotations

import re
from pathlib import Path

from commands.fulfillment_saga import FulfillmentSaga
from commands.line_edit_manager import LineEditManager
from commands.placement_saga import OrderPlacementSaga
from eventstore import lock_keys
from projections.registry import all_projections

ROOT = Path(__file__).resolve().parents[2]


def test_no_two_registered_followers_share_a_lock_key():
    keys = lock_keys.registered(
        projections=[p.name for p in all_projections()],
        processes=[OrderPlacementSaga.name, FulfillmentSaga.name, LineEditManager.name],
        chains=["event_chain"],
        relays=["", "staging-"],
    )
    assert len(keys) == len(set(keys.values())), "two followers share an advisory lock key"
    assert all(-(2**63) <= k < 2**63 for k in keys.values())


def test_the_same_name_of_another_kind_has_another_key():
    names = ["order_placement", "fulfillment", "event_chain", "locations", ""]
    keys = [lock_keys.key(kind, n) for kind in lock_keys.KINDS for n in names]
    assert len(keys) == len(set(keys))
    assert lock_keys.projection("locations") == lock_keys.projection("locations")


def test_no_module_takes_an_advisory_lock_with_a_key_of_its_own():
    """Every ``pg_*advisory*lock`` call passes a key from ``eventstore.lock_keys``: no module
    but the registry (and the Kafka consumer, whose fixed key the registry lists) spells a
    numeric key literal next to an advisory lock."""
    literal = re.compile(r"^\s*[A-Z_]*LOCK_KEY\s*=\s*\d", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (
            "api",
            "audit",
            "commands",
            "composition",
            "eventstore",
            "migrations",
            "projections",
            "scaleout",
        )
        for path in (ROOT / folder).rglob("*.py")
        if literal.search(path.read_text())
        and path.relative_to(ROOT).as_posix() != "scaleout/consumer.py"
    ]
    assert offenders == []


def test_the_fixed_keys_are_the_ones_their_users_take():
    from migrations import MIGRATION_LOCK_KEY
    from scaleout.consumer import SCHEMA_LOCK_KEY

    assert MIGRATION_LOCK_KEY == lock_keys.MIGRATION
    assert SCHEMA_LOCK_KEY == lock_keys.KAFKA_SCHEMA
