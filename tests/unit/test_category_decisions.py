"""Category decisions: given past events, when CreateCategory, then an event or a named error."""

from uuid import UUID

import pytest
from pydantic import ValidationError

from domain.category.commands import CreateCategory
from domain.category.decide import create_category
from domain.category.events import CategoryCreated
from domain.category.state import CATEGORY
from domain.errors import Conflict, InvalidCommand

CID = UUID("00000000-0000-4000-8000-0000000000c1")
PARENT = UUID("00000000-0000-4000-8000-0000000000c0")


def create(state=None, *, parent_exists=False, **fields):
    command = CreateCategory(**{"name": "Kitchen", "slug": "kitchen", **fields})
    return create_category(state or CATEGORY.initial(), command, CID, parent_exists=parent_exists)


def test_creating_a_root_category_records_it():
    assert create() == [CategoryCreated(category_id=CID, name="Kitchen", slug="kitchen")]


def test_creating_under_an_existing_parent_records_the_parent():
    events = create(parent_id=PARENT, parent_exists=True)
    assert events[0].parent_id == PARENT
    assert CATEGORY.fold(events).parent_id == PARENT


def test_creating_under_a_missing_parent_is_refused():
    with pytest.raises(InvalidCommand) as err:
        create(parent_id=PARENT, parent_exists=False)
    assert err.value.code == "unknown_parent"


def test_a_category_cannot_be_its_own_parent():
    with pytest.raises(InvalidCommand) as err:
        create(parent_id=CID, parent_exists=True)
    assert err.value.code == "unknown_parent"


def test_creating_an_existing_category_conflicts():
    with pytest.raises(Conflict) as err:
        create(CATEGORY.fold(create()))
    assert err.value.code == "category_exists"


@pytest.mark.parametrize("slug", ["Kitchen", "two words", "-lead", "trail-", "a--b"])
def test_a_malformed_slug_is_refused(slug):
    with pytest.raises(InvalidCommand) as err:
        create(slug=slug)
    assert err.value.code == "invalid_slug"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": ""}, "slug"),
        ({"slug": "x" * 101}, "slug"),
        ({"name": ""}, "name"),
        ({"id": 1}, "id"),
    ],
)
def test_the_command_refuses_malformed_fields(fields, field):
    with pytest.raises(ValidationError) as err:
        CreateCategory(**{"name": "Kitchen", "slug": "kitchen", **fields})
    assert [e["loc"][0] for e in err.value.errors()] == [field]


def test_a_blank_name_is_refused():
    with pytest.raises(InvalidCommand) as err:
        create(name=" ")
    assert err.value.code == "invalid_name"
