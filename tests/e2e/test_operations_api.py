"""Operations over HTTP: liveness, readiness, read model status, metrics and the event feed."""

from __future__ import annotations

from uuid import uuid4

import httpx

from tests.e2e.conftest import assert_error


def _register_locations(api, count: int) -> list[dict]:
    acks = []
    for i in range(count):
        body = {"code": f"OPS-{uuid4().hex[:8]}", "name": f"Ops {i}", "type": "store"}
        r = api.post("/locations", json=body)
        assert r.status_code == 201, r.text
        acks.append(r.json())
    return acks


def test_health_answers_at_the_root_and_under_the_api(api, server_url):
    assert httpx.get(f"{server_url}/health").json() == {"status": "ok"}
    assert api.get("/health").json() == {"status": "ok"}


def test_ready_reports_the_database_and_the_lag(api):
    r = api.get("/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready" and body["database"] is True and body["max_lag"] >= 0


def test_projections_list_name_position_lag_and_status(api):
    views = api.get("/projections").json()
    assert views and "locations" in {v["name"] for v in views}
    for v in views:
        assert set(v) >= {"name", "position", "lag", "status"}
        assert v["position"] >= 0 and v["lag"] >= 0
        assert v["status"] in {"live", "catching_up", "rebuilding"}


def test_rebuilding_an_unknown_projection_is_404(api):
    assert_error(api.post("/projections/no-such-view/rebuild"), 404, "projection_not_found")


def test_metrics_are_prometheus_text(api):
    r = api.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "# TYPE ecom_event_store_head gauge" in r.text
    assert 'ecom_projection_lag{name="locations"}' in r.text
    assert 'ecom_parked_events{follower="locations"}' in r.text


def test_the_feed_pages_with_a_cursor_in_position_order(api):
    start = api.get("/events", params={"limit": 1}).json()["head"]
    acks = _register_locations(api, 5)
    whole = api.get("/events", params={"after": start, "limit": 500}).json()["items"]
    paged, params = [], {"after": start, "limit": 2}
    while True:
        page = api.get("/events", params=params).json()
        paged += page["items"]
        if page["next_cursor"] is None:
            break
        params = {"cursor": page["next_cursor"], "limit": 2}
    positions = [e["position"] for e in paged]
    assert positions == sorted(set(positions))
    assert [e["position"] for e in whole] == positions[: len(whole)]
    assert {a["position"] for a in acks} <= set(positions)
    first = paged[0]
    for field in ("stream_id", "stream_type", "version", "type", "occurred_at", "data"):
        assert field in first


def test_a_streams_events_come_in_version_order_with_positions(api):
    [ack] = _register_locations(api, 1)
    body = api.get(f"/streams/{ack['id']}/events").json()
    assert [e["version"] for e in body["items"]] == [1]
    assert body["items"][0]["position"] == ack["position"]
    assert body["items"][0]["type"] == "location.LocationRegistered"


def test_an_unknown_stream_is_404(api):
    assert_error(api.get(f"/streams/{uuid4()}/events"), 404, "stream_not_found")


def test_a_bad_after_or_limit_is_422(api):
    assert_error(api.get("/events", params={"after": -1}), 422, "validation_error")
    assert_error(api.get("/events", params={"after": "abc"}), 422, "validation_error")
    assert_error(api.get("/events", params={"limit": 0}), 422, "validation_error")
    assert_error(api.get("/events", params={"limit": 501}), 422, "validation_error")


def test_a_malformed_cursor_is_400(api):
    assert_error(api.get("/events", params={"cursor": "not-ours"}), 400, "malformed_cursor")


def test_metrics_time_requests_per_route_template_and_count_responses_per_class(api):
    # Given a read of a stream's events, and a path no route serves
    [ack] = _register_locations(api, 1)
    assert api.get(f"/streams/{ack['id']}/events").status_code == 200
    assert api.get("/no-such-route").status_code == 404
    # when the metrics are scraped
    text = api.get("/metrics").text
    # then the request time is a histogram labelled by the route's template, not its path
    route = 'route="/api/v1/streams/{stream_id}/events"'
    assert "# TYPE ecom_http_request_duration_seconds histogram" in text
    assert f'ecom_http_request_duration_seconds_count{{method="GET",{route}}}' in text
    assert ack["id"] not in text
    assert 'ecom_http_request_duration_seconds_count{method="GET",route="unmatched"}' in text
    # and responses are counted per status class
    assert "# TYPE ecom_http_responses_total counter" in text
    counts = {
        line.split('"')[1]: float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("ecom_http_responses_total{")
    }
    assert counts["2xx"] >= 2 and counts["4xx"] >= 1
