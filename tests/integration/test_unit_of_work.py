"""The unit of work's savepoints (real store): rolling back to a mark undoes exactly what was
applied after it, on every stream, nested marks included, and a commit writes only what was
kept."""

from __future__ import annotations

from commands.executor import load
from commands.unit_of_work import UnitOfWork
from domain.ids import inventory_stream
from domain.inventory.state import INVENTORY
from tests.integration.test_snapshots import ctx, long_stream, reserve_in


def test_rolling_back_to_a_mark_undoes_what_came_after_it_on_every_stream(store):
    # given two stocked SKUs loaded in a unit of work, and one reservation kept on the first
    (a, wa), (b, wb) = long_stream(store, 1), long_stream(store, 1)
    sa, sb = inventory_stream(a), inventory_stream(b)
    uow = UnitOfWork(store)
    uow.load(INVENTORY, [sa, sb])
    reserve_in(uow, a, wa)
    first = uow.savepoint()
    kept = (uow.state(sa), uow.state(sb))
    # when more is applied to both after one mark, and to one after a second mark
    reserve_in(uow, a, wa, 2)
    reserve_in(uow, b, wb, 3)
    second = uow.savepoint()
    after_second = (uow.state(sa), uow.state(sb))
    reserve_in(uow, b, wb, 4)
    # then rolling back to the second mark undoes only the last step
    uow.rollback_to(second)
    assert (uow.state(sa), uow.state(sb)) == after_second
    # and rolling back to the first undoes both streams' later steps
    uow.rollback_to(first)
    assert (uow.state(sa), uow.state(sb)) == kept
    # and the commit writes only the reservation kept, leaving the second stream untouched
    uow.commit(ctx().meta())
    stored_a, stored_b = load(store, INVENTORY, sa), load(store, INVENTORY, sb)
    assert stored_a.state == kept[0] and stored_a.version == 2
    assert stored_b.state == kept[1] and stored_b.version == 1
