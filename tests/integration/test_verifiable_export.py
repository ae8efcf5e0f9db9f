"""Exports checked by the standalone verifier (audit/ecom_verify.py) against a pinned key.

A varied history (products, orders with personal data, their sagas, captures and refunds) is
written to a real PostgreSQL database of this module's own (so that no other test's rolled-back
insert leaves a gap in its positions), exported, then edited in Python with a seeded random
generator: a thousand single-field edits of any field of any record or of the head, plus
deletions, reorderings, duplications and truncations. Every edited file is refused, at the first
bad position (or at the tree head for head-level edits and for a record rewritten with its hash
recomputed, which only the signed root can expose). A history rewritten and re-signed with
another key is refused against the pinned key. The history has a gap (a rolled-back insert):
its position is exported with the gap leaf.
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import ecom_verify as ev
from audit import merkle, tree_head
from audit.checkpoint import public_key_of
from audit.export import export_events
from audit.leaf import gap_leaf
from commands.context import CommandContext
from composition import cli
from composition.bootstrap import build
from composition.settings import Settings
from domain.order.commands import ModifyOrder, PlaceOrder, RequestedLine
from domain.order.values import Address, GiftOptions, PaymentRef
from domain.payment.events import PaymentCaptured, RefundSucceeded
from eventstore.recorded import EventMeta
from tests.factories import active_product, send

SEED = 20261205
EDITS = 1000


@pytest.fixture(scope="module")
def own_url(database_url):
    name = f"ecom_export_{uuid4().hex[:10]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(database_url, dbname=name)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _address(rng: random.Random, tag: str) -> Address:
    return Address(
        name=f"Customer {tag}",
        line1=f"{rng.randint(1, 999)} Secret Street {tag}",
        city="Lyon",
        postal_code=f"69{rng.randint(100, 999)}",
        country="FR",
    )


def _captured(order_id: UUID) -> PaymentCaptured:
    """A capture of 19.99 (naming its order where the event carries one)."""
    fields = {"capture_id": uuid4(), "amount": Decimal("19.99"), "gateway_reference": "cap"}
    if "order_id" in PaymentCaptured.model_fields:
        fields["order_id"] = order_id
    return PaymentCaptured(**fields)


def _history(c) -> None:
    rng = random.Random(SEED)
    products = [active_product(c, price=f"{rng.randint(100, 5000) / 100:.2f}") for _ in range(8)]
    with c.pool.connection() as conn, conn.transaction(force_rollback=True):
        conn.execute(  # rolled back: its position stays unused, a gap in the log
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (gen_random_uuid(), 1, 'test.Gap', convert_to('{}', 'UTF8'))"
        )
    ctx = CommandContext.new("clerk")
    orders = []
    for i in range(90):
        tag = uuid4().hex[:8]
        lines = [
            RequestedLine(sku=rng.choice(products)[1], quantity=rng.randint(1, 3))
            for _ in range(rng.randint(1, 3))
        ]
        placed = send(
            c,
            PlaceOrder(
                customer_id=uuid4(),
                currency="USD",
                lines=lines,
                shipping_address=_address(rng, tag),
                gift=GiftOptions(wrap=True, message=f"Dear {tag}", recipient_name=tag)
                if i % 3 == 0
                else None,
                payment=PaymentRef(token="tok"),
            ),
            CommandContext.new(f"customer-{i}"),
        )
        orders.append(placed.stream_id)
        if i % 4 == 0:
            send(
                c,
                ModifyOrder(
                    order_id=placed.stream_id,
                    reason="moved",
                    shipping_address=_address(rng, tag + "m"),
                ),
                ctx,
            )
    c.processes.catch_up()
    pending = []
    for order_id in orders[:60]:  # captured and refunded payments, written through the mapper
        payment = uuid4()
        meta = EventMeta(
            occurred_at=datetime.now(UTC),
            actor="gateway",
            correlation_id=str(order_id),
            causation_id=str(uuid4()),
        )
        refund = RefundSucceeded(
            refund_id=uuid4(), amount=Decimal("19.99"), reason="damaged", gateway_reference="r"
        )
        for version, event in enumerate((_captured(order_id), refund), start=1):
            pending.append(c.store.mapper.to_stored(payment, version, event, meta))
    c.store.recorder.insert_events(pending)


@pytest.fixture(scope="module")
def exported(own_url):
    """(key, the JSON-lines export, the CSV export, the number of events)."""
    c = build(Settings(database_url=own_url, pool_size=4), url=own_url)
    c.migrate()
    try:
        _history(c)
        key = Ed25519PrivateKey.generate()
        jsonl, table = io.BytesIO(), io.BytesIO()
        now = int(time.time() * 1000)
        count = export_events(c.pool, key, jsonl, now_ms=now)
        export_events(c.pool, key, table, fmt="csv", now_ms=now)
        prefix_checked = {}
        for first in (2, 97, count):
            part = io.BytesIO()
            written = export_events(c.pool, key, part, from_position=first, now_ms=now)
            prefix_checked[first] = (written, part.getvalue())
    finally:
        c.close()
    assert count >= 300
    return key, jsonl.getvalue(), table.getvalue(), count, prefix_checked


def _pinned(key: Ed25519PrivateKey):
    return ev.load_public_key(public_key_of(key))


def _parse(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.splitlines()]


def _dump(docs: list[dict]) -> bytes:
    return b"".join(json.dumps(d, ensure_ascii=False).encode() + b"\n" for d in docs)


def test_the_untouched_export_verifies_and_shows_what_the_leaf_holds(exported):
    key, content, table, count, _ = exported
    report = ev.check_export_text(content, _pinned(key))
    assert report.ok, report
    assert report.events_checked == report.tree_size == count
    assert ev.check_export_text(table, _pinned(key)).ok
    docs = _parse(content)
    assert docs[0]["export"]["note"] == ev.NOTE and docs[-1]["tree_head"]["tree_size"] == count
    hashes = [bytes.fromhex(d["leaf_hash"]) for d in docs[1:-1]]
    assert docs[-1]["tree_head"]["root_hash"] == merkle.root_of(hashes).hex()
    assert tree_head.verify(docs[-1]["tree_head"], public_key_of(key))
    for doc in docs[1:-1]:
        leaf = json.loads(base64.b64decode(doc["leaf"]))
        assert {f: leaf.get(f) for f in ev.VIEW_FIELDS} == {f: doc[f] for f in ev.VIEW_FIELDS}
        assert leaf.get("recorded_at") is not None or leaf.get("gap") is True
    gaps = [d for d in docs[1:-1] if d["type"] is None]
    assert len(gaps) == 1
    assert base64.b64decode(gaps[0]["leaf"]) == gap_leaf(gaps[0]["position"])
    assert b"Secret Street" not in content and b"Secret Street" not in table  # ciphertext
    assert any(
        (d["type"] or "").startswith("order") and d["data"].get("shipping_address")
        for d in docs[1:-1]
    )


def test_an_export_from_a_later_position_carries_the_prefix_and_signs_the_same_root(exported):
    key, content, _, count, parts = exported
    whole_root = _parse(content)[-1]["tree_head"]["root_hash"]
    for first, (written, part) in parts.items():
        report = ev.check_export_text(part, _pinned(key))
        assert report.ok and report.events_checked == written == count - first + 1, report
        assert report.root_hash == whole_root and report.tree_size == count
        docs = _parse(part)
        docs[0]["export"]["prefix"][0] = "00" * 32
        assert ev.check_export_text(_dump(docs), _pinned(key)).problem == "root_mismatch"


# --- edits --------------------------------------------------------------------------------


def _changed(value, rng: random.Random):
    """A different JSON value of the same shape where possible."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice((-1, 1, 1000))
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        if value and rng.random() < 0.5:
            i = rng.randrange(len(value))
            return value[:i] + ("X" if value[i] != "X" else "Y") + value[i + 1 :]
        return value + rng.choice((" ", "0", "é"))
    if value is None:
        return rng.choice(("", 0, "x"))
    if isinstance(value, dict):
        if value and rng.random() < 0.85:
            k = rng.choice(sorted(value))
            return {**value, k: _changed(value[k], rng)}
        return {**value, "added": 1}
    if isinstance(value, list):
        if value and rng.random() < 0.85:
            i = rng.randrange(len(value))
            return [*value[:i], _changed(value[i], rng), *value[i + 1 :]]
        return [*value, 1]
    raise AssertionError(value)


def _edit(docs: list[dict], rng: random.Random) -> tuple[int, dict, int | str]:
    """One single-field edit: the index of the line edited, its edited copy, and where the
    edit must be found."""
    records = docs[1:-1]
    target = rng.random()
    if target < 0.08:  # the head line
        tail = copy.deepcopy(docs[-1])
        field = rng.choice([*ev.HEAD_FIELDS, "public_key_fingerprint"])
        if field == "public_key_fingerprint":
            tail[field] = _changed(tail[field], rng)
        elif field == "signature":
            sig = bytearray(base64.b64decode(tail["tree_head"][field]))
            sig[rng.randrange(len(sig))] ^= 1 << rng.randrange(8)
            tail["tree_head"][field] = base64.b64encode(bytes(sig)).decode()
        else:
            tail["tree_head"][field] = _changed(tail["tree_head"][field], rng)
        size = tail["tree_head"]["tree_size"]
        if field == "tree_size" and isinstance(size, int) and size > len(records):
            return len(docs) - 1, tail, len(records) + 1  # claims more events than it holds
        return len(docs) - 1, tail, "tree_head"
    if target < 0.10:  # the header
        field = rng.choice(ev.HEADER_FIELDS)
        header = copy.deepcopy(docs[0])
        header["export"][field] = _changed(header["export"][field], rng)
        return 0, header, "export_header"
    i = rng.randrange(len(records))
    record, position = copy.deepcopy(records[i]), records[i]["position"]
    kind = rng.random()
    if kind < 0.70:  # a field of the view, data nested anywhere
        field = rng.choice(ev.VIEW_FIELDS)
        record[field] = _changed(record[field], rng)
    elif kind < 0.82:  # the leaf's bytes
        leaf = bytearray(base64.b64decode(record["leaf"]))
        leaf[rng.randrange(len(leaf))] ^= 1 << rng.randrange(7)
        record["leaf"] = base64.b64encode(bytes(leaf)).decode()
    elif kind < 0.90:  # the leaf hash
        record["leaf_hash"] = _changed(record["leaf_hash"], rng)
    else:  # leaf, its hash and the view rewritten together: only the signed root sees it
        leaf = json.loads(base64.b64decode(record["leaf"]))
        field = rng.choice([f for f in ev.VIEW_FIELDS if f != "position"])
        leaf[field] = record[field] = _changed(leaf.get(field), rng)
        raw = json.dumps(leaf, sort_keys=True, separators=(",", ":")).encode()
        record["leaf"], record["leaf_hash"] = (
            base64.b64encode(raw).decode(),
            merkle.leaf_hash(raw).hex(),
        )
        return i + 1, record, "tree_head"
    return i + 1, record, position


def _expect(report: ev.Report, where: int | str) -> None:
    assert not report.ok
    if isinstance(where, int):
        assert report.first_bad_position == where, report
        assert report.where == f"position {where}", report
    else:
        assert report.where == where and report.first_bad_position is None, report


def test_a_thousand_single_field_edits_are_each_refused_at_their_position(exported):
    key, content, *_ = exported
    pinned, docs, rng = _pinned(key), _parse(content), random.Random(SEED)
    lines = _dump(docs).splitlines(keepends=True)
    kinds: dict[str, int] = {}
    for _ in range(EDITS):
        index, edited, where = _edit(docs, rng)
        changed = [*lines[:index], _dump([edited]), *lines[index + 1 :]]
        report = ev.check_export_text(b"".join(changed), pinned)
        _expect(report, where)
        kinds[report.problem] = kinds.get(report.problem, 0) + 1
    assert {"view_differs_from_leaf", "leaf_hash_mismatch", "root_mismatch"} <= set(kinds)


def test_deletions_reorderings_duplications_and_truncations_are_refused(exported):
    key, content, *_ = exported
    pinned, rng = _pinned(key), random.Random(SEED + 1)
    docs = content.splitlines(keepends=True)  # header, records 1..n, head

    def check(lines: list[bytes]) -> ev.Report:
        return ev.check_export_text(b"".join(lines), pinned)

    n = len(docs) - 2
    for _ in range(100):
        i = rng.randrange(n)
        _expect(check(docs[: 1 + i] + docs[2 + i :]), i + 1)  # record i + 1 deleted
        j = rng.randrange(n)
        if i != j:
            swapped = list(docs)
            swapped[1 + i], swapped[1 + j] = swapped[1 + j], swapped[1 + i]
            _expect(check(swapped), min(i, j) + 1)
        _expect(check(docs[: 2 + i] + [docs[1 + i]] + docs[2 + i :]), i + 2)  # duplicated
        cut = rng.randrange(1, n + 1)  # the last `cut` lines dropped, the head with them
        _expect(check(docs[: len(docs) - cut]), n - cut + 2)
        _expect(check(docs[: 1 + n - cut] + docs[-1:]), n - cut + 1)  # records only
    _expect(check(docs + [docs[5]]), "tree_head")
    _expect(check(docs[1:]), "export_header")


def test_the_issues_refund_edit_is_refused_in_json_lines_and_in_csv(exported):
    key, content, table, *_ = exported
    docs = _parse(content)
    refund = next(d for d in docs[1:-1] if (d["type"] or "").endswith("RefundSucceeded"))
    assert refund["data"]["amount"] == "19.99"
    refund["data"]["amount"] = "1999.00"
    _expect(ev.check_export_text(_dump(docs), _pinned(key)), refund["position"])

    rows = list(csv.reader(io.StringIO(table.decode(), newline="")))
    data_at, at = ev.COLUMNS.index("data"), ev.COLUMNS.index("actor")
    row = next(r for r in rows if r[ev.COLUMNS.index("type")].endswith("RefundSucceeded"))
    assert '"amount":"19.99"' in row[data_at]
    for column, new in ((data_at, row[data_at].replace("19.99", "1999.00")), (at, "someone")):
        edited = [list(r) for r in rows]
        edited[rows.index(row)][column] = new
        out = io.StringIO(newline="")
        csv.writer(out).writerows(edited)
        _expect(ev.check_export_text(out.getvalue().encode(), _pinned(key)), int(row[0]))


def test_random_csv_cell_edits_are_refused_at_their_position(exported):
    key, _, table, *_ = exported
    rows = list(csv.reader(io.StringIO(table.decode(), newline="")))
    rng, pinned = random.Random(SEED + 2), _pinned(key)
    for _ in range(200):
        edited = [list(r) for r in rows]
        i = rng.randrange(2, len(rows) - 1)
        column = rng.randrange(len(ev.COLUMNS))
        edited[i][column] = _changed(edited[i][column], rng)
        out = io.StringIO(newline="")
        csv.writer(out).writerows(edited)
        _expect(ev.check_export_text(out.getvalue().encode(), pinned), int(rows[i][0]))


def test_a_rewritten_history_signed_with_another_key_is_refused_against_the_pinned_key(exported):
    key, content, *_ = exported
    docs = _parse(content)
    for doc in docs[1:-1]:  # every refund rewritten, leaves and hashes recomputed
        if (doc["type"] or "").endswith("RefundSucceeded"):
            leaf = json.loads(base64.b64decode(doc["leaf"]))
            leaf["data"]["amount"] = doc["data"]["amount"] = "1999.00"
            raw = json.dumps(leaf, sort_keys=True, separators=(",", ":")).encode()
            doc["leaf"] = base64.b64encode(raw).decode()
            doc["leaf_hash"] = merkle.leaf_hash(raw).hex()
    root = merkle.root_of([bytes.fromhex(d["leaf_hash"]) for d in docs[1:-1]])
    forger = Ed25519PrivateKey.generate()
    docs[-1] = {
        "tree_head": tree_head.sign(forger, len(docs) - 2, root, int(time.time() * 1000)),
        "public_key_fingerprint": ev.fingerprint(forger.public_key()),
    }
    assert ev.check_export_text(_dump(docs), _pinned(forger)).ok  # consistent in itself
    report = ev.check_export_text(_dump(docs), _pinned(key))
    _expect(report, "tree_head")
    assert report.problem == "other_key"
    docs[-1]["public_key_fingerprint"] = ev.fingerprint(key.public_key())
    report = ev.check_export_text(_dump(docs), _pinned(key))
    assert report.problem == "bad_head" and "signature" in report.detail


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_the_clis_exit_codes(exported, own_url, tmp_path, monkeypatch, capsys):
    key, content, *_ = exported
    monkeypatch.setenv("ECOM_DATABASE_URL", own_url)
    key_file = tmp_path / "audit.pem"
    key_file.write_bytes(_pem(key))
    export, table = tmp_path / "events.jsonl", tmp_path / "events.csv"
    assert cli.main(["events", "export", "--key", str(key_file), "--out", str(export)]) == 0
    assert (
        cli.main(
            ["events", "export", "--key", str(key_file), "--format", "csv", "--out", str(table)]
        )
        == 0
    )
    pinned = tmp_path / "pinned.pub"  # as `ecom audit public-key` prints it
    pinned.write_text(public_key_of(key) + "\n")
    capsys.readouterr()

    assert cli.main(["audit", "verify", "--file", str(export)]) == 2  # no pinned key: refused
    assert "--public-key" in capsys.readouterr().err
    assert cli.main(["audit", "verify", "--file", str(export), "--public-key", str(pinned)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert cli.main(["audit", "verify", "--file", str(table), "--public-key", str(pinned)]) == 0

    docs = _parse(export.read_bytes())
    docs[3]["actor"] = "someone else"
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(_dump(docs))
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--file", str(tampered), "--public-key", str(pinned)]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_position"] == docs[3]["position"]

    script = [sys.executable, "-I", ev.__file__, "export"]
    for path, code in ((export, 0), (table, 0), (tampered, 1)):
        out = subprocess.run([*script, str(path), "--public-key", str(pinned)], capture_output=True)
        assert out.returncode == code, out.stderr
    other = public_key_of(Ed25519PrivateKey.generate())
    out = subprocess.run([*script, str(export), "--public-key", other], capture_output=True)
    assert out.returncode == 1 and json.loads(out.stdout)["problem"] == "other_key"
