"""Categories through the command layer: unique slugs (also under a race), existing parents,
and the nested tree read model."""

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from commands.context import CommandContext
from domain.category.commands import CreateCategory
from domain.errors import Conflict, DomainError, InvalidCommand
from projections.category_tree import category_tree
from tests.factories import send


def make(container, slug, parent_id=None):
    command = CreateCategory(name=slug, slug=slug, parent_id=parent_id)
    return send(container, command, CommandContext.new("tester")).stream_id


def test_a_duplicate_slug_conflicts_and_writes_nothing(container):
    slug = f"dup-{uuid4().hex[:8]}"
    make(container, slug)
    head = container.store.head()
    with pytest.raises(Conflict) as err:
        make(container, slug)
    assert err.value.code == "duplicate_slug"
    assert container.store.head() == head


def test_a_missing_parent_is_refused(container):
    with pytest.raises(InvalidCommand) as err:
        make(container, f"orphan-{uuid4().hex[:8]}", parent_id=uuid4())
    assert err.value.code == "unknown_parent"


def test_concurrent_creates_of_one_slug_let_exactly_one_win(container):
    slug = f"race-{uuid4().hex[:8]}"

    def attempt(_):
        try:
            make(container, slug)
            return "ok"
        except DomainError as e:
            return e.code

    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    assert sorted(outcomes) == ["duplicate_slug"] * 5 + ["ok"]


def test_the_tree_nests_children_under_their_parents(container):
    tag = uuid4().hex[:8]
    root = make(container, f"root-{tag}")
    child = make(container, f"child-{tag}", parent_id=root)
    make(container, f"grandchild-{tag}", parent_id=child)
    container.runner.catch_up(["category_tree"])
    node = next(n for n in category_tree(container.pool) if n["id"] == root)
    assert [c["slug"] for c in node["children"]] == [f"child-{tag}"]
    assert [g["slug"] for g in node["children"][0]["children"]] == [f"grandchild-{tag}"]
