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


def test_a_large_schema_waits_for_a_tenth_of_its_rows_before_its_first_analyze():
    """Given a view whose tables already hold 50,000 rows when this process first counts it
    (a restart in steady state), its first ``ANALYZE`` comes after 5,000 events, not 1,000; a
    small or never analyzed one after the first 1,000 as before; and its size is asked once."""
    asked = []

    def rows(schema: str) -> float:
        asked.append(schema)
        return {"rm_big": 50_000.0, "rm_small": 300.0}.get(schema, 0.0)

    s = Statistics(first=1_000, most=1_000_000)
    for schema in ("rm_big", "rm_small", "rm_new"):
        s.applied(schema, 1_000)
    assert s.due(rows) == ["rm_small", "rm_new"]
    s.applied("rm_big", 3_999)
    assert s.due(rows) == []
    s.applied("rm_big", 1)
    assert s.due(rows) == ["rm_big"]
    assert sorted(asked) == ["rm_big", "rm_new", "rm_small"]
    s.applied("rm_big", 9_999)
    assert s.due(rows) == []  # then twice as many
    s.applied("rm_big", 1)
    assert s.due(rows) == ["rm_big"]
