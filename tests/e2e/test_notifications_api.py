"""Notifications over HTTP against a server sending to a real SMTP server and a real HTTP SMS
receiver: an order's life tells the customer by the channels they consented to, once per
event and channel, even when the notification manager replays the log; templates are checked
in the sandbox."""

from __future__ import annotations

from uuid import uuid4

import httpx
import psycopg
import pytest

from commands.notification_queuer import NotificationQueuer
from commands.process_manager import Trigger
from commands.unsubscribe_tokens import UnsubscribeTokens
from domain.notification.templates import DEFAULTS
from tests.e2e.conftest import assert_error, client_for, running_server
from tests.e2e.test_fulfillment_api import (
    deliver,
    dispatch,
    eventually,
    location,
    settled,
    stocked_sku,
)
from tests.e2e.test_order_saga import ADDRESS
from tests.notification_sinks import mails, sms_receiver, smtp_server


@pytest.fixture(scope="module")
def sinks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mail")
    with smtp_server(folder) as smtp, sms_receiver() as sms:
        yield folder, smtp, sms


@pytest.fixture(scope="module")
def napi(database_url, container, sinks, tmp_path_factory):
    folder, smtp, sms = sinks
    env = {
        "ECOM_PAYMENT_TIMEOUT_S": "0.3",
        "ECOM_SMTP_URL": smtp.url,
        "ECOM_MAIL_DIR": str(folder),
        "ECOM_SMS_URL": sms.url,
        "ECOM_DATA_DIR": str(tmp_path_factory.mktemp("data")),
    }
    with running_server(database_url, **env) as base:
        with client_for(base, timeout=60) as client:
            yield client


def customer(api, *, consents: tuple[str, ...]) -> dict:
    email = f"n-{uuid4().hex[:10]}@example.com"
    phone = f"+4915{uuid4().int % 10**9:09d}"
    r = api.post("/customers", json={"email": email, "name": "Nora Notified", "phone": phone})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for channel in consents:
        r = api.post(f"/customers/{cid}/consents", json={"channel": channel, "granted": True})
        assert r.status_code == 200, r.text
    return {"id": cid, "email": email, "phone": phone}


def place(api, container, customer_id: str, **extra) -> tuple[str, dict]:  # noqa: ANN003
    wh = location(api, 1)
    sku = stocked_sku(container, api, (wh, 5))
    body = {
        "customer_id": customer_id,
        "currency": "USD",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": ADDRESS,
        "payment": {"method": "card", "token": "tok_visa"},
        **extra,
    }
    r = api.post("/orders", json=body)
    assert r.status_code == 201, r.text
    order = settled(api, r.json()["id"])
    assert order["status"] == "confirmed", order
    return wh, order


def delivered(api, order_id: str, count: int) -> list[dict]:
    return eventually(
        lambda: api.get("/notifications", params={"order_id": order_id}).json()["items"],
        lambda items: len(items) == count and all(n["status"] == "delivered" for n in items),
        timeout_s=30,
    )


def test_an_orders_life_is_told_once_by_each_consented_channel(napi, container, sinks):
    folder, _smtp, sms = sinks
    who = customer(napi, consents=("email", "sms"))
    wh, order = place(napi, container, who["id"])
    shipment = dispatch(napi, order["id"], wh, order["lines"][0]["line_id"], 1)
    r = napi.post(
        f"/shipments/{shipment['id']}/delivery-attempts",
        json={"outcome": "customer_not_home", "failure_reason": "nobody answered"},
    )
    assert r.status_code == 201, r.text
    deliver(napi, shipment["id"])
    items = delivered(napi, order["id"], 8)
    kinds = ["order_confirmed", "shipment_dispatched", "delivery_failed", "order_delivered"]
    assert sorted(n["template"] for n in items) == sorted(kinds * 2)
    got = mails(folder, who["email"])
    assert len(got) == 4 and len({m["Message-ID"] for m in got}) == 4
    for m in got:
        assert m["Date"] and m["List-Unsubscribe"].startswith("<http")
        assert m.get_body(("plain",)) is not None and m.get_body(("html",)) is not None
        assert str(order["number"]) in m["Subject"]
    texts = sms.to(who["phone"])
    assert len(texts) == 4 and all(t["segments"] == 1 for t in texts)
    one = napi.get(f"/notifications/{items[0]['id']}").json()
    assert set(one) == {"id", "channel", "template", "to", "status", "attempts", "source_position"}
    assert one["attempts"] == 1


def test_consent_decides_the_channels_and_a_guest_needs_a_contact_email(
    napi, container, sinks, database_url
):
    folder, _smtp, sms = sinks
    who = customer(napi, consents=("email",))
    _wh, order = place(napi, container, who["id"])
    items = delivered(napi, order["id"], 1)
    assert items[0]["channel"] == "email" and items[0]["to"] == who["email"]
    assert sms.to(who["phone"]) == []
    guest_mail = f"g-{uuid4().hex[:10]}@example.com"
    _wh, guest = place(napi, container, str(uuid4()), contact_email=guest_mail)
    assert [n["to"] for n in delivered(napi, guest["id"], 1)] == [guest_mail]
    assert len(mails(folder, guest_mail)) == 1
    _wh, silent = place(napi, container, str(uuid4()))
    nobody = customer(napi, consents=())
    _wh, unconsented = place(napi, container, nobody["id"])
    manager_caught_up(database_url)
    r = napi.get("/notifications", params={"order_id": silent["id"]})
    assert r.status_code == 200 and r.json()["items"] == []
    assert napi.get("/notifications", params={"order_id": unconsented["id"]}).json()["items"] == []


def test_a_malformed_contact_email_is_refused_and_nothing_is_written(napi):
    r = napi.post(
        "/orders",
        json={
            "customer_id": str(uuid4()),
            "currency": "USD",
            "lines": [{"sku": "NOPE", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment": {"method": "card", "token": "tok_visa"},
            "contact_email": "not an address",
        },
    )
    assert r.status_code == 422, r.text


def test_a_replay_of_the_log_by_the_manager_and_a_rebuild_of_the_view_send_nothing_twice(
    napi, container, sinks, database_url
):
    folder, _smtp, sms = sinks
    who = customer(napi, consents=("email", "sms"))
    _wh, order = place(napi, container, who["id"])
    delivered(napi, order["id"], 2)
    before = (len(mails(folder)), sms.requests)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE process_tracking SET position = 0 WHERE name = 'notifications'")
        head = conn.execute("SELECT max(notification_id) FROM stored_events").fetchone()[0]
        eventually(
            lambda: conn.execute(
                "SELECT position FROM process_tracking WHERE name = 'notifications'"
            ).fetchone()[0],
            lambda p: p >= head,
            timeout_s=60,
        )
    assert (len(mails(folder)), sms.requests) == before
    items = napi.get("/notifications", params={"order_id": order["id"]}).json()["items"]
    r = napi.post("/projections/notifications/rebuild")
    assert r.status_code == 202, r.text
    eventually(
        lambda: napi.get("/projections").json(),
        lambda views: any(
            v["name"] == "notifications" and v["status"] != "rebuilding"
            for v in (views["items"] if isinstance(views, dict) else views)
        ),
        timeout_s=60,
    )
    assert napi.get("/notifications", params={"order_id": order["id"]}).json()["items"] == items
    assert (len(mails(folder)), sms.requests) == before


def test_templates_are_checked_in_the_sandbox_and_a_change_is_a_decision(napi):
    name = "order_refunded"
    r = napi.get(f"/notification-templates/{name}")
    assert r.status_code == 200 and r.json()["subject"] == DEFAULTS[name][0]
    for subject, body in (
        ("{{ order.nonexistent }}", "x"),
        ("ok", "{{ ''.__class__.__mro__ }}"),
        ("ok", "{{ order.__class__ }}"),
        ("ok", "{% for x in range(3) %}{{ cycler.__init__.__globals__ }}{% endfor %}"),
        ("ok", "{{ unknown_top_level }}"),
        ("ok", "{% broken"),
        ("x" * 201, "fine"),
    ):
        r = napi.put(f"/notification-templates/{name}", json={"subject": subject, "body": body})
        assert_error(r, 422)
    assert napi.get(f"/notification-templates/{name}").json()["version"] == 0
    assert_error(napi.put("/notification-templates/nope", json={"subject": "a", "body": "b"}), 404)
    subject, body = "Refund {{ refund.amount }} for {{ order.number }}", "Hi {{ customer.name }}"
    r = napi.put(f"/notification-templates/{name}", json={"subject": subject, "body": body})
    assert r.status_code == 200, r.text
    got = napi.get(f"/notification-templates/{name}", params={"min_position": r.json()["position"]})
    assert (got.json()["subject"], got.json()["version"]) == (subject, 1)
    default_subject, default_body = DEFAULTS[name]  # put back: others' messages use it
    r = napi.put(
        f"/notification-templates/{name}", json={"subject": default_subject, "body": default_body}
    )
    assert r.status_code == 200, r.text


def test_a_retry_of_a_notification_that_did_not_fail_is_refused(napi, container):
    who = customer(napi, consents=("email",))
    _wh, order = place(napi, container, who["id"])
    item = delivered(napi, order["id"], 1)[0]
    assert_error(napi.post(f"/notifications/{item['id']}/retry"), 409)
    assert_error(napi.get(f"/notifications/{uuid4()}"), 404)
    assert_error(napi.post(f"/notifications/{uuid4()}/retry"), 404)


def manager_caught_up(database_url: str) -> None:
    """Wait until the notification manager has taken up every event written so far."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        head = conn.execute("SELECT max(notification_id) FROM stored_events").fetchone()[0]
        eventually(
            lambda: conn.execute(
                "SELECT position FROM process_tracking WHERE name = 'notifications'"
            ).fetchone()[0],
            lambda p: p >= head,
            timeout_s=60,
        )


def test_the_unsubscribe_link_withdraws_email_consent_and_a_forged_one_does_nothing(
    napi, container, sinks, database_url
):
    folder, _smtp, _sms = sinks
    who = customer(napi, consents=("email",))
    _wh, order = place(napi, container, who["id"])
    delivered(napi, order["id"], 1)
    [mail] = mails(folder, who["email"])
    link = mail["List-Unsubscribe"].strip("<>")
    token = link.rsplit("/", 1)[1]
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    anonymous = httpx.Client(base_url=link.split("/api/v1/")[0] + "/api/v1", timeout=30)
    with anonymous:
        assert_error(anonymous.get(f"/unsubscribe/{forged}"), 404, "unsubscribe_token_invalid")
        r = anonymous.get(f"/unsubscribe/{token}")
        assert r.status_code == 200 and r.json() == {"channel": "email", "withdrawn": True}
    eventually(
        lambda: napi.get(f"/customers/{who['id']}").json()["consents"]["email"]["granted"],
        lambda granted: granted is False,
    )
    _wh, later = place(napi, container, who["id"])
    manager_caught_up(database_url)
    assert napi.get("/notifications", params={"order_id": later["id"]}).json()["items"] == []


def test_a_batch_renders_what_each_of_its_events_renders_on_its_own(napi, container):
    """The manager reads a batch's orders, shipments, contacts and templates once for the
    batch, before rendering: every message comes out as the event alone would make it (a
    registered customer by two channels, a guest, a silent guest, a failed delivery attempt and
    the successful one, which tells nothing)."""
    head = container.store.head()
    who = customer(napi, consents=("email", "sms"))
    wh, order = place(napi, container, who["id"])
    shipment = dispatch(napi, order["id"], wh, order["lines"][0]["line_id"], 1)
    r = napi.post(
        f"/shipments/{shipment['id']}/delivery-attempts",
        json={"outcome": "customer_not_home", "failure_reason": "nobody answered"},
    )
    assert r.status_code == 201, r.text
    deliver(napi, shipment["id"])
    place(napi, container, str(uuid4()), contact_email=f"g-{uuid4().hex[:10]}@example.com")
    place(napi, container, str(uuid4()))
    queuer = NotificationQueuer(container.store, UnsubscribeTokens(b"k" * 32), "http://shop")
    events = container.store.read_all(head, limit=1000, topics=queuer.topics)
    triggers = [Trigger(queuer.name, e) for e in events]
    alone = [queuer.commands(t) for t in triggers]
    reads = queuer.prefetched(triggers)
    read = (set(reads.firsts), set(reads.contacts), set(reads.templates))
    together = [queuer.commands(t, reads) for t in triggers]
    assert together == alone
    # and the batch read everything beforehand: rendering read nothing more
    assert (set(reads.firsts), set(reads.contacts), set(reads.templates)) == read
    assert sum(map(len, alone)) == 2 * 4 + 1  # 2 channels x 4 kinds, and the guest's email
