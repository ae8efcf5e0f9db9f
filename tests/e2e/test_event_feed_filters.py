"""The event feed answers questions: each filter of ``GET /events`` (and combinations of
them), walked page by page over HTTP, equals a brute-force filter of the whole unfiltered
feed; bad filters are ``422``; one stream's events page by version.

The log is varied on purpose (seeded): several stream types, actors and correlation ids, and
business times spread over days and written with different UTC offsets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from commands.context import CommandContext
from domain.inventory.commands import AdjustStock, ReceiveStock
from domain.location.commands import RegisterLocation
from domain.product.commands import UpdateProductDetails
from tests.e2e.conftest import assert_error
from tests.factories import active_product, send

SEED = 20261205
ACTORS = ("feed-alice", "feed-bob", "feed-carol")
CORRELATIONS = ("corr-feed-1", "corr-feed-2", "corr-feed-3")
OFFSETS = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7)))


@pytest.fixture(scope="module")
def varied_log(container):
    """About 80 events of products, locations and stock, by three actors under three
    correlation ids (or their own), at business times over ten days in three offsets."""
    rng = random.Random(SEED)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    products = [active_product(container) for _ in range(3)]
    codes: list[str] = []
    for i in range(70):
        now = (base + timedelta(minutes=rng.randrange(0, 14400))).astimezone(rng.choice(OFFSETS))
        ctx = CommandContext.new(
            rng.choice(ACTORS),
            now=now,
            request_id=rng.choice((*CORRELATIONS, None)),
        )
        product_id, sku = rng.choice(products)
        kind = rng.choice(("location", "receipt", "adjustment", "product")) if codes else "location"
        if kind == "location":
            codes.append(f"FEED-{uuid4().hex[:8]}")
            command = RegisterLocation(code=codes[-1], name=f"Feed {i}", type="store")
        elif kind == "receipt":
            command = ReceiveStock(sku=sku, location=rng.choice(codes), quantity=rng.randint(1, 9))
        elif kind == "adjustment":
            command = AdjustStock(sku=sku, location=rng.choice(codes), delta=1, reason="count")
        else:
            command = UpdateProductDetails(product_id=product_id, name=f"Renamed {i}")
        send(container, command, ctx)
    return products


def walk(api, params: dict, limit: int) -> list[int]:
    """Every position of the filtered feed, following ``next_cursor`` to the end."""
    positions, cursor = [], None
    for _ in range(10_000):
        page = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = api.get("/events", params=page)
        assert r.status_code == 200, r.text
        body = r.json()
        positions += [e["position"] for e in body["items"]]
        assert len(body["items"]) <= limit
        cursor = body["next_cursor"]
        if cursor is None:
            return positions
    raise AssertionError("the feed never ended")


def whole_feed(api) -> list[dict]:
    events, after = [], 0
    while True:
        items = api.get("/events", params={"after": after, "limit": 500}).json()["items"]
        if not items:
            return events
        events += items
        after = items[-1]["position"]


def matches(e: dict, f: dict) -> bool:
    """The brute force: what each filter means, in plain Python."""
    at = datetime.fromisoformat(e["occurred_at"])
    return (
        ("type" not in f or e["type"] in f["type"])
        and ("stream_type" not in f or e["stream_type"] in f["stream_type"])
        and ("stream_id" not in f or e["stream_id"] == f["stream_id"])
        and ("correlation_id" not in f or e["correlation_id"] == f["correlation_id"])
        and ("actor" not in f or e["actor"] == f["actor"])
        and ("from" not in f or at >= datetime.fromisoformat(f["from"]))
        and ("to" not in f or at < datetime.fromisoformat(f["to"]))
    )


def as_params(f: dict, rng: random.Random) -> dict:
    """The filter as query parameters, lists sometimes repeated, sometimes comma-joined."""
    params = {}
    for key, value in f.items():
        if isinstance(value, list):
            params[key] = value if rng.random() < 0.5 else ",".join(value)
        else:
            params[key] = value
    return params


def random_filter(rng: random.Random, events: list[dict]) -> dict:
    mine = [e for e in events if e["actor"] in ACTORS] or events
    f: dict = {}
    choices = ["type", "stream_type", "stream_id", "correlation_id", "actor", "from", "to"]
    for key in rng.sample(choices, rng.randint(1, 3)):
        if key == "type":
            f[key] = sorted({rng.choice(mine)["type"] for _ in range(rng.randint(1, 3))})
        elif key == "stream_type":
            f[key] = sorted({rng.choice(mine)["stream_type"] for _ in range(rng.randint(1, 2))})
        elif key in ("from", "to"):
            at = datetime.fromisoformat(rng.choice(mine)["occurred_at"])
            f[key] = at.astimezone(rng.choice(OFFSETS)).isoformat()
        else:
            f[key] = rng.choice(mine)[key] if rng.random() < 0.9 else f"absent-{key}"
    if f.get("stream_id", "").startswith("absent"):
        f["stream_id"] = str(uuid4())
    return f


def test_each_filter_alone_equals_the_brute_force_over_the_whole_feed(api, varied_log):
    events = whole_feed(api)
    assert len(events) >= 70
    some = next(e for e in events if e["actor"] in ACTORS)
    singles = [
        {"type": [some["type"]]},
        {"stream_type": [some["stream_type"]]},
        {"stream_id": some["stream_id"]},
        {"correlation_id": some["correlation_id"]},
        {"actor": some["actor"]},
        {"from": "2026-03-04T00:00:00+02:00"},
        {"to": "2026-03-06T12:00:00Z"},
        {"from": "2026-03-03T00:00:00-07:00", "to": "2026-03-05T00:00:00+05:30"},
    ]
    for f in singles:
        expected = [e["position"] for e in events if matches(e, f)]
        assert expected, f  # the log holds events that match, and events that do not
        assert len(expected) < len(events), f
        assert walk(api, f, limit=7) == expected, f


def test_random_combinations_walked_in_pages_equal_the_brute_force(api, varied_log):
    events = whole_feed(api)
    rng = random.Random(SEED + 1)
    nonempty = 0
    for _ in range(60):
        f = random_filter(rng, events)
        expected = [e["position"] for e in events if matches(e, f)]
        nonempty += bool(expected)
        got = walk(api, as_params(f, rng), limit=rng.choice((1, 3, 10, 500)))
        assert got == expected, f
    assert nonempty >= 20


def test_after_starts_the_filtered_feed_past_a_position(api, varied_log):
    events = whole_feed(api)
    f = {"actor": ACTORS[0]}
    expected = [e["position"] for e in events if matches(e, f)]
    middle = expected[len(expected) // 2]
    body = api.get("/events", params={**f, "after": middle, "limit": 500}).json()
    assert [e["position"] for e in body["items"]] == [p for p in expected if p > middle]
    assert body["next_cursor"] is None and body["head"] >= events[-1]["position"]
    item = body["items"][0]
    assert set(item) >= {"position", "stream_id", "stream_type", "version", "type",
                         "occurred_at", "data", "actor", "correlation_id"}  # fmt: skip


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"typ": "order.OrderPlaced"}, "unknown_parameter"),
        ({"correlation": "x"}, "unknown_parameter"),
        ({"type": "order.NoSuchThing"}, "unknown_event_type"),
        ({"type": "order.OrderPlaced,"}, None),  # an empty item is ignored: valid
        ({"stream_type": "ordr"}, "unknown_stream_type"),
        ({"stream_id": "not-a-uuid"}, "validation_error"),
        ({"from": "2026-03-01T00:00:00"}, "validation_error"),  # no offset
        ({"to": "2026-03-01"}, "validation_error"),
        ({"from": "yesterday"}, "validation_error"),
        ({"after": "-1"}, "validation_error"),
        ({"after": str(2**63)}, "validation_error"),
        ({"limit": "0"}, "validation_error"),
        ({"limit": "501"}, "validation_error"),
        ({"actor": ""}, "validation_error"),
    ],
)
def test_bad_filters_are_422_with_a_code(api, params, code):
    r = api.get("/events", params=params)
    if code is None:
        assert r.status_code == 200, r.text
        return
    body = assert_error(r, 422, code)
    if code == "unknown_parameter":
        assert body["details"]["parameters"] == list(params)


def test_a_long_stream_pages_by_version(api, container):
    product_id, _ = active_product(container)
    ctx = CommandContext.new("feed-pager")
    for i in range(60):
        send(container, UpdateProductDetails(product_id=product_id, name=f"Name {i}"), ctx)
    whole = api.get(f"/streams/{product_id}/events").json()
    assert whole["next_cursor"] is None
    versions = [e["version"] for e in whole["items"]]
    assert versions == list(range(1, 64))
    walked, cursor = [], None
    while True:
        r = api.get(f"/streams/{product_id}/events", params={"limit": 8, "cursor": cursor or ""}
                    if cursor else {"limit": 8})  # fmt: skip
        assert r.status_code == 200, r.text
        walked += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert walked == whole["items"]
    page = api.get(f"/streams/{product_id}/events", params={"after": 60, "limit": 2}).json()
    assert [e["version"] for e in page["items"]] == [61, 62] and page["next_after"] == 62
    past = api.get(f"/streams/{product_id}/events", params={"after": 63}).json()
    assert past["items"] == [] and past["next_cursor"] is None
    assert_error(api.get(f"/streams/{product_id}/events", params={"page": 2}), 422,
                 "unknown_parameter")  # fmt: skip
    assert_error(api.get(f"/streams/{uuid4()}/events"), 404, "stream_not_found")
    huge = api.get(f"/streams/{product_id}/events", params={"cursor": str(2**64)})
    assert_error(huge, 400, "malformed_cursor")
