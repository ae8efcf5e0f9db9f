"""ecom-verify: check an ecom audit export, an inclusion proof or a consistency proof, offline.

This file is the whole verifier. It needs Python 3.11+ and the ``cryptography`` package, imports
nothing else from the ecom project, and talks to no server: copy it, read it, run it::

    python ecom_verify.py export events.jsonl --public-key pinned.pub
    python ecom_verify.py proof proof.json --head head.json --public-key pinned.pub
    python ecom_verify.py consistency old_head.json new_head.json proof.json --public-key pinned.pub

Exit status: 0 when every check passes (a JSON summary on standard output), 1 when one fails
(the report names the first bad position, or ``tree_head`` / ``export_header``, and what is
wrong), 2 when the command itself is unusable (no readable key, unreadable file).

The pinned key
    ``--public-key`` is the Ed25519 public key you obtained out of band (``ecom audit
    public-key`` on the operator's machine, or ``GET /audit/public-key``) and kept: its base64
    (32 raw bytes), a file holding that base64, a file holding the JSON ``{"public_key": ...}``
    that ``GET /audit/public-key`` answers, or a PEM public key. A key written inside an export
    is never trusted: the export only names the key's fingerprint (``sha256:`` + hex SHA-256
    of the 32 raw bytes), and that must be the pinned key's fingerprint.

The tree (RFC 9162, section 2.1)
    The log is a Merkle tree over positions 1..N in order (leaf index = position - 1).
    ``leaf hash = SHA-256(0x00 || leaf)``, ``node hash = SHA-256(0x01 || left || right)``; a tree
    of n > 1 leaves is split at k, the largest power of two below n. A *leaf* is the event as
    stored: UTF-8 JSON, keys sorted, holding position, stream_id, stream_type, version, type,
    occurred_at, recorded_at (the server's clock when written), actor, correlation_id,
    causation_id, schema_version, data and subject. Personal data stays encrypted in the leaf
    (the key is per customer; forgetting a customer destroys the key, never changes a leaf).
    A position no event holds (an insert that rolled back used its number) has the leaf
    ``{"gap":true,"position":p}``: its record shows every other field as null.

    A *signed tree head* is ``{tree_size, root_hash, timestamp, signature}``: ``signature`` is
    base64 Ed25519 over the UTF-8 bytes of ``{"root_hash":…,"timestamp":…,"tree_size":…}`` (JSON,
    keys sorted, no spaces; root_hash hex, timestamp milliseconds since the Unix epoch).

Export files (JSON lines, or CSV with the same content)
    1. a header: the format name, a fixed note, ``first_position`` F and ``prefix``: the hashes
       of the complete subtrees covering positions 1..F-1 (empty when F = 1, which is the
       default; a time-bounded export starts later and carries these instead of the earlier
       events, so its root still covers the whole log from position 1);
    2. one record per event, positions F..N: the view an auditor reads (position, stream_id,
       stream_type, version, type, occurred_at, recorded_at, actor, correlation_id,
       causation_id, data), ``leaf`` (base64 of the exact bytes hashed) and ``leaf_hash`` (hex);
    3. the signed tree head for N and the signing key's fingerprint.
    In CSV the first row names the columns, then a ``#export`` row and at the end a
    ``#tree_head`` row carry the header and the head as JSON in the ``data`` column; ``data`` in
    records is canonical JSON text, an absent value an empty cell.

Checks on an export (``export``), in file order; the first failure is reported:
    - header: exactly the expected fields, this format, the fixed note, a prefix of one hash
      per set bit of F-1. (The prefix is proved by the root check below.)
    - each record has exactly the view fields plus ``leaf`` and ``leaf_hash``, nothing else
      (every shown field is a checked one);
    - positions run F, F+1, ... without gaps, duplicates or reordering: a record's position
      must be the next expected one (a deletion, a duplicate or a swap is named at that slot);
    - ``leaf_hash = SHA-256(0x00 || leaf)``: the hash listed is the hash of the bytes listed;
    - the leaf is one JSON object (no duplicate keys) whose ``position`` is the slot's: a leaf
      moved from elsewhere cannot stand in;
    - the view equals the leaf field by field (same JSON value and type; in CSV, the same
      cell text): what you read is what is hashed, so an edited amount, actor or time shows;
    - the tree head: exactly its fields, integer tree_size and timestamp, 64-hex root_hash;
      the fingerprint is the pinned key's; tree_size = N (fewer records: truncated, named at
      the first missing position); the root recomputed over the prefix and every leaf hash
      equals root_hash; the signature verifies with the pinned key. Together: these exact
      events are positions 1..N of the log whose head the key holder signed, and no record was
      added, dropped or changed after signing; nothing may follow the head.
    What it does not prove alone: that the signed log was not rewritten *before* signing. Keep
    heads you trusted earlier and check the new one extends them (``consistency``).

Checks on an inclusion proof (``proof PROOF.json --head HEAD.json``), as ``GET
/audit/proof/{position}`` returns it ``{position, tree_size, leaf, leaf_hash, audit_path,
root_hash}`` (a fetched head or proof may carry more fields: they are ignored, never trusted):
the head is signed by the pinned key; the proof is for the head's tree_size;
``1 <= position <= tree_size``; ``leaf_hash = SHA-256(0x00 || leaf)``; the leaf names that
position; walking the audit path from the leaf hash (RFC 9162 2.1.3.2) gives the head's
root_hash (a ``root_hash`` in the proof must equal it too). Then the decoded leaf is printed
(``event``): that event, every field of it, is at that position in the signed log.

Checks on a consistency proof (``consistency OLD NEW PROOF``), as ``GET /audit/consistency``
returns it ``{from, to, proof}``: both heads are signed by the pinned key; from = old
tree_size <= to = new tree_size; the proof (RFC 9162 2.1.4.2) rebuilds both roots. Then the
newer log is the older one with events appended: nothing before old tree_size changed.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import csv
import hashlib
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "ecom-audit-export/1"
NOTE = (
    "Each record's view (position .. data) must equal the fields of its leaf, the exact bytes "
    "hashed into the Merkle tree; personal data is shown as stored, encrypted, so that every "
    "shown field is covered. Verify with ecom-verify and a pinned public key."
)
VIEW_FIELDS = (
    "position",
    "stream_id",
    "stream_type",
    "version",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "correlation_id",
    "causation_id",
    "data",
)
COLUMNS = (*VIEW_FIELDS, "leaf", "leaf_hash")
HEADER_FIELDS = ("format", "note", "first_position", "prefix")
HEAD_FIELDS = ("tree_size", "root_hash", "timestamp", "signature")
CSV_HEADER_MARK = "#export"
CSV_HEAD_MARK = "#tree_head"
EMPTY_ROOT = hashlib.sha256(b"").digest()


# --- hashing (RFC 9162 2.1.1) -------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The root of a growing tree in O(log n) memory: the hashes of its complete subtrees,
    largest (leftmost) first. Appending a leaf merges equal-sized subtrees; the root folds
    them right to left, which is the RFC's split at the largest power of two."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.hashes: list[bytes] = []

    @classmethod
    def of_prefix(cls, size: int, hashes: list[bytes]) -> Frontier:
        """The frontier after ``size`` leaves from its subtree hashes (one per set bit)."""
        f = cls()
        f.sizes = [1 << b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]
        if len(f.sizes) != len(hashes):
            raise ValueError(f"a prefix of {size} leaves has {len(f.sizes)} subtree hashes")
        f.hashes = list(hashes)
        return f

    def append(self, h: bytes) -> None:
        size = 1
        while self.sizes and self.sizes[-1] == size:
            self.sizes.pop()
            h = node_hash(self.hashes.pop(), h)
            size *= 2
        self.sizes.append(size)
        self.hashes.append(h)

    def size(self) -> int:
        return sum(self.sizes)

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        acc = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            acc = node_hash(h, acc)
        return acc


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root the audit path leads to from leaf hash ``leaf`` at ``index``
    of a tree of ``size`` leaves; None when the path has the wrong length."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def consistent(first: int, second: int, first_root: bytes, second_root: bytes, proof: list) -> bool:
    """RFC 9162 2.1.4.2: whether ``proof`` shows the tree of ``second`` leaves with root
    ``second_root`` extends the tree of ``first`` leaves with root ``first_root``."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # first is a power of two: its root is a node of the path
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


# --- keys and signed tree heads -----------------------------------------------------------


class Unusable(Exception):
    """The command cannot run (no usable key, unreadable file): exit 2."""


def load_public_key(text_or_path: str) -> Ed25519PublicKey:
    """The pinned key from base64, a file holding it, ``{"public_key": …}`` JSON, or PEM."""
    text = text_or_path
    if os.path.isfile(text_or_path):
        with open(text_or_path, encoding="utf-8") as f:
            text = f.read()
    text = text.strip()
    try:
        if text.startswith("-----BEGIN PUBLIC KEY-----"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise Unusable("the PEM key is not an Ed25519 key")
            return key
        if text.startswith("{"):
            text = json.loads(text)["public_key"]
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise Unusable(f"no Ed25519 public key in {text_or_path[:60]!r}: {exc}") from None


def raw_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return "sha256:" + hashlib.sha256(raw_key(key)).hexdigest()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hex32(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64 or value != value.lower():
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def head_problem(head: Any, key: Ed25519PublicKey, exact: bool = True) -> str | None:
    """Why ``head`` is not a tree head signed by ``key`` (None when it is). In an export it
    has exactly the signed fields and the signature; a head fetched from the service may
    carry more (``exact=False``), which are then ignored, never trusted."""
    if not isinstance(head, dict) or not set(HEAD_FIELDS) <= set(head):
        return f"a tree head has the fields {', '.join(HEAD_FIELDS)}"
    if exact and len(head) != len(HEAD_FIELDS):
        return f"a tree head in an export has exactly the fields {', '.join(HEAD_FIELDS)}"
    if not _is_int(head["tree_size"]) or head["tree_size"] < 0:
        return "tree_size is not a non-negative integer"
    if not _is_int(head["timestamp"]):
        return "timestamp is not an integer (milliseconds since the epoch)"
    if _hex32(head["root_hash"]) is None:
        return "root_hash is not 64 lowercase hex digits"
    message = json.dumps(
        {k: head[k] for k in ("root_hash", "timestamp", "tree_size")},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    try:
        key.verify(base64.b64decode(head["signature"], validate=True), message)
    except (InvalidSignature, TypeError, ValueError, binascii.Error):
        return "the signature does not verify with the pinned public key"
    return None


# --- export files -------------------------------------------------------------------------


@dataclass
class Report:
    ok: bool
    events_checked: int = 0
    first_bad_position: int | None = None
    where: str | None = None  # "position 17", "tree_head" or "export_header"
    problem: str | None = None
    detail: str | None = None
    tree_size: int | None = None
    root_hash: str | None = None
    timestamp: int | None = None
    key_fingerprint: str | None = None
    event: dict[str, Any] | None = None  # the leaf an inclusion proof proved, decoded

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "ok"}


class Bad(Exception):
    def __init__(self, position: int | None, where: str, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.position, self.where, self.problem, self.detail = position, where, problem, detail


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key")
    return obj


_STRICT = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)


def strict_json(raw: bytes | str) -> Any:
    """JSON text (UTF-8 bytes or str) refusing duplicate keys (ValueError)."""
    return _STRICT.decode(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def canonical(value: Any) -> str:
    """One text per JSON value (keys sorted, no spaces): equal texts, equal values and types."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def cell(value: Any) -> str:
    """A leaf field as a CSV cell: text and integers as written, absent as empty, any other
    value (data) as canonical JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if _is_int(value):
        return str(value)
    return canonical(value)


def _json_items(lines: Iterable[bytes]) -> Iterator[tuple[str, Any]]:
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = strict_json(line)
        except ValueError as exc:
            yield "unreadable", str(exc)
            continue
        if isinstance(obj, dict) and "export" in obj and len(obj) == 1:
            yield "header", obj["export"]
        elif isinstance(obj, dict) and "tree_head" in obj:
            yield "head", obj
        else:
            yield "record", obj


def _csv_items(text: Iterable[str]) -> Iterator[tuple[str, Any]]:
    reader = csv.reader(text)
    columns = next(reader, None)
    if columns is None or tuple(columns) != COLUMNS:
        yield "unreadable", f"the CSV columns are not {', '.join(COLUMNS)}"
        return
    data_at = COLUMNS.index("data")
    for row in reader:
        if len(row) != len(COLUMNS):
            yield "unreadable", f"a row of {len(row)} cells, not {len(COLUMNS)}"
            continue
        mark = row[0]
        if mark in (CSV_HEADER_MARK, CSV_HEAD_MARK):
            if any(c for i, c in enumerate(row) if i not in (0, data_at)):
                yield "unreadable", f"the {mark} row has text outside its data cell"
                continue
            try:
                obj = strict_json(row[data_at])
            except ValueError as exc:
                yield "unreadable", str(exc)
                continue
            yield ("header", obj) if mark == CSV_HEADER_MARK else ("head", obj)
        else:
            yield "record", dict(zip(COLUMNS, row, strict=True))


def _check_header(header: Any) -> Frontier:
    def bad(detail: str) -> Bad:
        return Bad(None, "export_header", "bad_header", detail)

    if not isinstance(header, dict) or sorted(header) != sorted(HEADER_FIELDS):
        raise bad(f"the header has exactly the fields {', '.join(HEADER_FIELDS)}")
    if header["format"] != FORMAT:
        raise bad(f"format {header['format']!r} is not {FORMAT!r}")
    if header["note"] != NOTE:
        raise bad("the note is not this format's note")
    first = header["first_position"]
    if not _is_int(first) or first < 1:
        raise bad("first_position is not a positive integer")
    prefix = header["prefix"]
    hashes = [_hex32(h) for h in prefix] if isinstance(prefix, list) else [None]
    if any(h is None for h in hashes):
        raise bad("prefix is not a list of 64-hex-digit hashes")
    try:
        return Frontier.of_prefix(first - 1, hashes)
    except ValueError as exc:
        raise bad(str(exc)) from None


def _check_record(record: Any, position: int, as_csv: bool) -> bytes:
    """The leaf hash of the record at ``position`` once every record check passes."""

    def bad(problem: str, detail: str) -> Bad:
        return Bad(position, f"position {position}", problem, detail)

    if not isinstance(record, dict) or sorted(record) != sorted(COLUMNS):
        raise bad("bad_record", f"a record has exactly the fields {', '.join(COLUMNS)}")
    shown = record["position"]
    if shown != (str(position) if as_csv else position):
        raise bad(
            "position_out_of_order",
            f"expected position {position}, found {shown!r} (a gap, duplicate or reordering)",
        )
    try:
        leaf = base64.b64decode(record["leaf"], validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise bad("bad_leaf", "leaf is not base64") from None
    h = leaf_hash(leaf)
    if record["leaf_hash"] != h.hex():
        raise bad("leaf_hash_mismatch", "leaf_hash is not SHA-256(0x00 || leaf)")
    try:
        fields = strict_json(leaf)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise bad("bad_leaf", "the leaf is not one JSON object without duplicate keys")
    if fields.get("position") != position or not _is_int(fields.get("position")):
        raise bad("leaf_position_mismatch", f"the leaf is the event at {fields.get('position')!r}")
    if as_csv:
        differs = [n for n in VIEW_FIELDS if record[n] != cell(fields.get(n))]
    elif canonical([record[n] for n in VIEW_FIELDS]) != canonical(
        [fields.get(n) for n in VIEW_FIELDS]
    ):  # one comparison of the whole view; then find the field for the report
        differs = [n for n in VIEW_FIELDS if canonical(record[n]) != canonical(fields.get(n))]
    else:
        differs = []
    if differs:
        name = differs[0]
        raise bad(
            "view_differs_from_leaf",
            f"{name}: shown {record[name]!r}, the leaf holds {fields.get(name)!r}",
        )
    return h


def check_export(items: Iterable[tuple[str, Any]], key: Ed25519PublicKey, as_csv: bool) -> Report:
    """Every check on an export, in file order (see the module's docstring)."""
    report = Report(ok=True, key_fingerprint=fingerprint(key))
    try:
        it = iter(items)
        kind, header = next(it, ("missing", None))
        if kind != "header":
            raise Bad(None, "export_header", "bad_header", "the file does not start with a header")
        frontier = _check_header(header)
        position = header["first_position"]
        head_doc = None
        for kind, obj in it:
            if head_doc is not None:
                raise Bad(None, "tree_head", "content_after_head", "lines follow the tree head")
            if kind == "head":
                head_doc = obj
            elif kind == "record":
                frontier.append(_check_record(obj, position, as_csv))
                position += 1
                report.events_checked += 1
            else:
                what = "a second header" if kind == "header" else f"unreadable: {obj}"
                raise Bad(position, f"position {position}", "unreadable", what)
        if head_doc is None:
            raise Bad(position, f"position {position}", "truncated", "no signed tree head")
        _check_head(head_doc, key, frontier, position - 1, report)
    except Bad as exc:
        report.ok = False
        report.first_bad_position, report.where = exc.position, exc.where
        report.problem, report.detail = exc.problem, exc.detail
    return report


def _check_head(
    doc: Any, key: Ed25519PublicKey, frontier: Frontier, last: int, report: Report
) -> None:
    def bad(problem: str, detail: str) -> Bad:
        return Bad(None, "tree_head", problem, detail)

    if sorted(doc) != ["public_key_fingerprint", "tree_head"]:
        raise bad("bad_head", "the last line has exactly tree_head and public_key_fingerprint")
    if doc["public_key_fingerprint"] != fingerprint(key):
        raise bad(
            "other_key",
            f"signed by the key {doc['public_key_fingerprint']!r}, not the pinned "
            f"{fingerprint(key)}",
        )
    head = doc["tree_head"]
    if not isinstance(head, dict) or not _is_int(head.get("tree_size")):
        raise bad("bad_head", "tree_size is not an integer")
    if head["tree_size"] > last:
        raise Bad(
            last + 1,
            f"position {last + 1}",
            "truncated",
            f"the head covers {head['tree_size']} events, the file ends at {last}",
        )
    if head["tree_size"] < last:
        raise bad("head_too_small", f"the head covers {head['tree_size']} events, not {last}")
    problem = head_problem(head, key)
    if problem is not None:
        raise bad("bad_head", problem)
    if frontier.root().hex() != head["root_hash"]:
        raise bad("root_mismatch", "the root over the leaves is not the signed root_hash")
    report.tree_size, report.root_hash = head["tree_size"], head["root_hash"]
    report.timestamp = head["timestamp"]


def check_export_file(path: str, key: Ed25519PublicKey) -> Report:
    """Check an export file, JSON lines or CSV (told apart by the first byte), streaming."""
    try:
        with open(path, "rb") as f:
            as_csv = not f.read(1).startswith(b"{")
            f.seek(0)
            if as_csv:
                text = io.TextIOWrapper(f, encoding="utf-8", newline="")
                return check_export(_csv_items(text), key, as_csv=True)
            return check_export(_json_items(f), key, as_csv=False)
    except (OSError, UnicodeDecodeError) as exc:
        raise Unusable(f"cannot read {path}: {exc}") from None


def check_export_text(content: bytes, key: Ed25519PublicKey) -> Report:
    """The same checks on an export held in memory."""
    if content.startswith(b"{"):
        return check_export(_json_items(content.splitlines()), key, as_csv=False)
    text = io.StringIO(content.decode("utf-8"), newline="")
    return check_export(_csv_items(text), key, as_csv=True)


# --- proofs -------------------------------------------------------------------------------


def check_inclusion(proof: Any, head: Any, key: Ed25519PublicKey) -> Report:
    """An inclusion proof against a signed head (see the module's docstring)."""
    report = Report(ok=True, key_fingerprint=fingerprint(key))

    def fail(problem: str, detail: str, where: str = "proof") -> Report:
        report.ok, report.where, report.problem, report.detail = False, where, problem, detail
        return report

    problem = head_problem(head, key, exact=False)
    if problem is not None:
        return fail("bad_head", problem, "tree_head")
    needed = ("position", "tree_size", "leaf", "leaf_hash", "audit_path")
    if not isinstance(proof, dict) or not set(needed) <= set(proof):
        return fail("bad_proof", f"a proof has the fields {', '.join(needed)}")
    position, size = proof["position"], proof["tree_size"]
    if not _is_int(position) or not _is_int(size):
        return fail("bad_proof", "position and tree_size are integers")
    report.first_bad_position = position
    if size != head["tree_size"]:
        return fail(
            "other_tree_size", f"the proof is for {size} events, the head for {head['tree_size']}"
        )
    if not 1 <= position <= size:
        return fail("position_out_of_range", f"position {position} is not in 1..{size}")
    raw_path = proof["audit_path"]
    path = [_hex32(h) for h in raw_path] if isinstance(raw_path, list) else [None]
    if any(h is None for h in path):
        return fail("bad_proof", "audit_path is a list of 64-hex-digit hashes")
    try:
        leaf = base64.b64decode(proof["leaf"], validate=True)
    except (TypeError, ValueError, binascii.Error):
        return fail("bad_leaf", "leaf is not base64")
    if proof["leaf_hash"] != leaf_hash(leaf).hex():
        return fail("leaf_hash_mismatch", "leaf_hash is not SHA-256(0x00 || leaf)")
    try:
        fields = strict_json(leaf)
    except ValueError:
        fields = None
    if not isinstance(fields, dict) or fields.get("position") != position:
        return fail("leaf_position_mismatch", "the leaf is not the event at that position")
    if "root_hash" in proof and proof["root_hash"] != head["root_hash"]:
        return fail("root_mismatch", "the proof's root_hash is not the head's")
    root = root_from_inclusion(position - 1, size, leaf_hash(leaf), path)
    if root is None or root.hex() != head["root_hash"]:
        return fail("root_mismatch", "the audit path does not lead to the signed root")
    report.first_bad_position = None
    report.events_checked, report.tree_size, report.root_hash = 1, size, head["root_hash"]
    report.timestamp = head["timestamp"]
    report.event = fields
    return report


def check_consistency(old: Any, new: Any, proof: Any, key: Ed25519PublicKey) -> Report:
    """A consistency proof between two signed heads (see the module's docstring)."""
    report = Report(ok=True, key_fingerprint=fingerprint(key))

    def fail(problem: str, detail: str, where: str = "proof") -> Report:
        report.ok, report.where, report.problem, report.detail = False, where, problem, detail
        return report

    for name, head in (("old_head", old), ("new_head", new)):
        problem = head_problem(head, key, exact=False)
        if problem is not None:
            return fail("bad_head", problem, name)
    if not isinstance(proof, dict) or not {"from", "proof", "to"} <= set(proof):
        return fail("bad_proof", "a consistency proof has the fields from, to and proof")
    if proof["from"] != old["tree_size"] or proof["to"] != new["tree_size"]:
        return fail("other_tree_size", "from/to are not the two heads' tree sizes")
    hashes = [_hex32(h) for h in proof["proof"]] if isinstance(proof["proof"], list) else [None]
    if any(h is None for h in hashes):
        return fail("bad_proof", "proof is a list of 64-hex-digit hashes")
    old_root, new_root = bytes.fromhex(old["root_hash"]), bytes.fromhex(new["root_hash"])
    if not consistent(old["tree_size"], new["tree_size"], old_root, new_root, hashes):
        return fail("inconsistent", "the newer head does not extend the older one")
    report.tree_size, report.root_hash = new["tree_size"], new["root_hash"]
    report.timestamp = new["timestamp"]
    return report


# --- command line -------------------------------------------------------------------------


def _read_json(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            return strict_json(f.read())
    except (OSError, ValueError) as exc:
        raise Unusable(f"cannot read {path}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="ecom-verify", description=__doc__.splitlines()[0] if __doc__ else None
    )
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="check an export file (JSON lines or CSV)")
    e.add_argument("file")
    i = sub.add_parser("proof", help="check an inclusion proof against a signed head")
    i.add_argument("proof")
    i.add_argument("--head", required=True, help="the signed tree head (GET /audit/digest)")
    c = sub.add_parser("consistency", help="check that a newer signed head extends an older one")
    c.add_argument("old_head")
    c.add_argument("new_head")
    c.add_argument("proof")
    for s in (e, i, c):
        s.add_argument("--public-key", required=True, help="the pinned key (base64 or a file)")
    args = p.parse_args(argv)
    try:
        key = load_public_key(args.public_key)
        if args.command == "export":
            report = check_export_file(args.file, key)
        elif args.command == "proof":
            report = check_inclusion(_read_json(args.proof), _read_json(args.head), key)
        else:
            old, new = _read_json(args.old_head), _read_json(args.new_head)
            report = check_consistency(old, new, _read_json(args.proof), key)
    except Unusable as exc:
        print(f"ecom-verify: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    if not report.ok:
        print(f"ecom-verify: FAILED at {report.where}: {report.detail}", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
