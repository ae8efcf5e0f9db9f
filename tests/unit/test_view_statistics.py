"""When the runner analyzes a view's tables (``projections/statistics.py``)."""

from projections.statistics import Statistics


def test_a_schema_is_due_once_its_events_pass_a_threshold_that_doubles_up_to_the_most():
    s = Statistics(first=100, most=300)
    s.applied("rm_a", 99)
    assert s.due() == []
    s.applied("rm_a", 1)
    assert s.due() == ["rm_a"]
    assert s.due() == []  # counted afresh
    s.applied("rm_a", 199)
    assert s.due() == []
    s.applied("rm_a", 1)
    assert s.due() == ["rm_a"]  # after 200
    for _ in range(3):
        s.applied("rm_a", 300)
        assert s.due() == ["rm_a"]  # every 300 from then on


def test_schemas_are_counted_apart_and_a_forgotten_one_starts_again():
    s = Statistics(first=10)
    s.applied("rm_a", 10)
    s.applied("rm_b", 9)
    s.applied("rm_c", 0)
    assert s.due() == ["rm_a"]
    s.applied("rm_a", 10)
    s.forget("rm_a")
    s.applied("rm_a", 10)
    assert s.due() == ["rm_a"]  # its threshold is the first again
