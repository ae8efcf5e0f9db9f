"""Fixtures shared by the integration tests of more than one module."""

import pytest

from eventstore.group_commit import GroupCommitter


@pytest.fixture
def new_committer(store):
    """A group committer of the test's own (its counters start at zero), closed after."""
    made: list[GroupCommitter] = []

    def make(**settings) -> GroupCommitter:
        made.append(GroupCommitter(store.recorder, **settings))
        return made[-1]

    yield make
    for c in made:
        c.close()
