"""Locations over HTTP: register, list, duplicates and bad input."""

from tests.e2e.conftest import assert_error


def test_register_then_list_with_read_your_writes(api):
    r = api.post(
        "/locations", json={"code": "E2E-WH1", "name": "Main", "type": "warehouse", "priority": 1}
    )
    assert r.status_code == 201, r.text
    position = r.json()["position"]
    listed = api.get("/locations", params={"min_position": position}).json()["items"]
    assert "E2E-WH1" in [loc["code"] for loc in listed]


def test_duplicate_code_conflicts_and_writes_nothing(api):
    body = {"code": "E2E-DUP", "name": "A", "type": "store", "priority": 2}
    assert api.post("/locations", json=body).status_code == 201
    head = api.get("/events", params={"limit": 1}).json()["head"]
    assert_error(api.post("/locations", json=body), 409, "location_exists")
    assert api.get("/events", params={"limit": 1}).json()["head"] == head


def test_bad_input_is_a_4xx_with_a_code(api):
    assert_error(
        api.post("/locations", json={"code": "bad code!", "name": "x", "type": "warehouse"}),
        422,
        "validation_error",
    )
    assert_error(api.post("/locations", json={"code": "OK", "name": "x", "type": "moon"}), 422)
    assert_error(
        api.post("/locations", json={"code": "OK2", "name": "x", "type": "store", "extra": 1}), 422
    )
    assert_error(
        api.post("/locations", content=b"{not json", headers={"content-type": "application/json"}),
        400,
    )


def test_idempotency_key_replays_the_first_answer(api):
    body = {"code": "E2E-IDEM", "name": "I", "type": "store", "priority": 3}
    h = {"Idempotency-Key": "loc-e2e-idem-1"}
    first = api.post("/locations", json=body, headers=h)
    second = api.post("/locations", json=body, headers=h)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    other = api.post("/locations", json={**body, "name": "other"}, headers=h)
    assert_error(other, 422, "idempotency_key_reused")
