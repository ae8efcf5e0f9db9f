"""Correlation and causation without a database: the request's id (``api.request_ids``) through
the gateway, the ids a process manager's step inherits (``commands.process_manager.Trigger``),
and ``order_id`` on payment events, old ones upcast."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import orjson
import pytest
from fastapi import Request

from api import request_ids
from api.errors import ApiError
from commands.context import CommandContext, event_id
from commands.process_manager import Trigger
from commands.steps import steps
from composition.bootstrap import ALL_EVENTS
from domain.payment import decide
from domain.payment.commands import CapturePayment, SettleRefund
from domain.payment.events import PaymentAuthorized, PaymentCaptured, RefundRequested
from domain.payment.state import PAYMENT
from eventstore.mapper import EventMapper, EventRegistry
from eventstore.recorded import EventMeta, RecordedEvent
from tests.unit.test_auth_gateway import bearer, make_app

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def headers(**named: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").lower().encode(), v.encode("latin-1")) for k, v in named.items()]


# ---- the request's id --------------------------------------------------------------------


def test_the_callers_correlation_id_is_the_request_id_before_its_own_request_id():
    given = headers(x_correlation_id="order-flow:42", x_request_id="rid-1")
    assert request_ids.request_id(given) == "order-flow:42"
    assert request_ids.request_id(headers(x_request_id="rid-1")) == "rid-1"
    made = request_ids.request_id([])
    assert len(made) == 32 and made != request_ids.request_id([])


@pytest.mark.parametrize("value", ["a", "x" * 128, "trace/7?a=b&c", "~!#$%^*()[]{}"])
def test_visible_ascii_up_to_128_characters_is_a_correlation_id(value):
    request_ids.check_correlation(headers(x_correlation_id=value))
    assert request_ids.request_id(headers(x_correlation_id=value)) == value


@pytest.mark.parametrize("value", ["", "x" * 129, "a b", "caf\u00e9", " lead"])
def test_anything_else_is_refused_with_its_own_code(value):
    with pytest.raises(ApiError) as refused:
        request_ids.check_correlation(headers(x_correlation_id=value))
    assert (refused.value.status, refused.value.code) == (422, "invalid_correlation_id")
    assert refused.value.details[0]["field"] == "X-Correlation-Id"
    # and a refused value is never taken as the request's id
    assert request_ids.request_id(headers(x_correlation_id=value)) != value


def test_a_control_character_is_refused_as_any_text_holding_one():
    with pytest.raises(ApiError) as refused:
        request_ids.check_correlation(headers(x_correlation_id="a\x85b"))
    assert (refused.value.status, refused.value.code) == (422, "invalid_text")


def gateway_client():
    from fastapi.testclient import TestClient

    app = make_app()

    @app.post("/api/v1/categories")
    async def seen(request: Request):
        return {"request_id": request.state.request_id}

    return TestClient(app, raise_server_exceptions=False)


def test_through_the_gateway_the_response_names_the_id_the_route_was_given():
    client = gateway_client()
    r = client.post("/api/v1/categories", headers={**bearer(), "X-Correlation-Id": "flow-9"})
    assert r.status_code == 200, r.text
    assert r.json()["request_id"] == r.headers["X-Request-Id"] == "flow-9"
    r = client.post("/api/v1/categories", headers=bearer())
    assert r.json()["request_id"] == r.headers["X-Request-Id"]


def test_through_the_gateway_a_bad_correlation_id_is_422_before_the_route_runs():
    client = gateway_client()
    r = client.post("/api/v1/categories", headers={**bearer(), "X-Correlation-Id": "x" * 129})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_correlation_id"
    assert r.headers["X-Request-Id"] != "x" * 129
    # without a token the caller learns nothing more than 401
    r = client.post("/api/v1/categories", headers={"X-Correlation-Id": "x" * 129})
    assert r.status_code == 401


# ---- contexts ----------------------------------------------------------------------------


def test_a_requests_command_is_correlated_and_caused_by_the_request():
    ctx = CommandContext.new("alice", request_id="req-1")
    assert (ctx.correlation_id, ctx.causation_id) == ("req-1", "req-1")
    made = CommandContext.new("cli")
    assert made.correlation_id == made.causation_id


def recorded(event, *, correlation: str, stream=None, version: int = 3, position: int = 40):
    return RecordedEvent(
        position,
        stream or uuid4(),
        event.stream_type,
        version,
        event.stored_name(),
        event.schema_version,
        EventMeta(NOW, "alice", correlation, "req-1"),
        event.model_dump(mode="json"),
        type(event),
    )


def test_a_managers_steps_keep_the_triggers_correlation_and_name_it_as_cause():
    stream = uuid4()
    event = RefundRequested(refund_id=uuid4(), amount=Decimal("1"), reason="r", deferred=True)
    trigger = Trigger("returns", recorded(event, correlation="req-1", stream=stream))
    ctx = trigger.context("refund", now=NOW)
    assert ctx.correlation_id == "req-1"
    assert ctx.causation_id == event_id(stream, 3) == f"{stream}@3"
    step = steps(ctx, "return:x")("restock")
    assert (step.correlation_id, step.causation_id) == ("req-1", f"{stream}@3")
    assert step.idempotency is not None and step.idempotency.key == "return:x:restock"


# ---- order_id on payment events ----------------------------------------------------------


def test_a_capture_and_a_refund_name_their_order():
    order_id = uuid4()
    authorized = PaymentAuthorized(order_id=order_id, amount=Decimal("10"), currency="USD",
                                   gateway="sandbox", gateway_reference="g",
                                   idempotency_key="k")  # fmt: skip
    state = PAYMENT.fold([authorized])
    capture = CapturePayment(order_id=order_id, capture_id=uuid4(), amount=Decimal("10"))
    [captured] = decide.capture(state, capture, gateway_reference="c")
    assert captured.order_id == order_id
    refund_id = uuid4()
    state = PAYMENT.fold(
        [captured, RefundRequested(refund_id=refund_id, amount=Decimal("4"), reason="r")], state
    )
    settle = SettleRefund(order_id=order_id, refund_id=refund_id, reason="r")
    [succeeded] = decide.settle_refund(state, settle, succeeded=True, gateway_reference="x")
    assert type(succeeded).__name__ == "RefundSucceeded" and succeeded.order_id == order_id


@pytest.mark.parametrize(
    ("topic", "data"),
    [
        ("payment.PaymentCaptured",
         {"capture_id": str(uuid4()), "amount": "5.00", "shipment_id": None,
          "gateway_reference": "c"}),
        ("payment.RefundSucceeded",
         {"refund_id": str(uuid4()), "amount": "5.00", "reason": "r", "gateway_reference": "x"}),
    ],
)  # fmt: skip
def test_a_version_1_event_reads_back_with_no_order(topic, data):
    mapper = EventMapper(EventRegistry(ALL_EVENTS))
    meta = EventMeta(NOW, "alice", "c", "c").as_json()
    state = orjson.dumps({"v": 1, "m": meta, "d": data})
    e = mapper.to_recorded(7, uuid4(), 2, topic, state)
    assert e.schema_version == 2 and e.data["order_id"] is None
    assert e.to_domain().order_id is None
    # and a current one keeps it
    order_id = uuid4()
    event = PaymentCaptured(order_id=order_id, capture_id=uuid4(), amount=Decimal("1"),
                            gateway_reference="c")  # fmt: skip
    stored = mapper.to_stored(uuid4(), 2, event, EventMeta(NOW, "alice", "c", "c"))
    assert orjson.loads(stored.state)["v"] == 2
    back = mapper.to_recorded(8, stored.originator_id, 2, stored.topic, stored.state)
    assert back.to_domain().order_id == order_id


def test_the_document_states_the_correlation_ids_format():
    from tests.unit.test_openapi_document import _header

    pattern = _header("x-correlation-id")["pattern"]
    assert pattern == request_ids.CORRELATION_ID_PATTERN
    assert re.search(pattern, "flow-9:a/b") and not re.search(pattern, "a b")
