"""A past decision state as JSON (``commands.time_travel.jsonable``, what the audit API's
``/state`` answers with): a SKU's state, whose reservation maps are persistent maps, given
reservations, when made JSON-ready, then it encodes, each map in key order."""

from __future__ import annotations

from uuid import UUID

import orjson

from commands.time_travel import jsonable
from domain.inventory.events import StockReceived, StockReserved
from domain.inventory.state import INVENTORY


def test_a_skus_state_with_reservations_is_json_ready_its_maps_in_key_order():
    ids = [UUID(int=n) for n in (7, 3, 5)]
    given = [StockReceived(sku="S", location="WH1", quantity=10)] + [
        StockReserved(
            sku="S",
            reservation_id=rid,
            order_id=UUID(int=100 + i),
            line_id=UUID(int=200 + i),
            location="WH1",
            quantity=1,
            expires_at=None,
        )
        for i, rid in enumerate(ids)
    ]
    doc = jsonable(INVENTORY.fold(given))
    assert orjson.loads(orjson.dumps(doc)) == doc
    assert list(doc["reservations"]) == sorted(str(rid) for rid in ids)
    assert doc["reservations"][str(ids[0])]["remaining"] == 1
    assert doc["levels"]["WH1"] == {"on_hand": 10, "reserved": 3}
    assert list(doc["by_order"]) == sorted(str(UUID(int=100 + i)) for i in range(3))
