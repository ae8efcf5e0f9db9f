"""Personal data in events, encrypted per customer (crypto-shredding).

An event class names its personal fields in ClassVars: ``personal_data_fields`` (dotted paths
to string leaves, e.g. ``"shipping_address.name"``; a path to an object covers its string
leaves) and ``personal_data_subject`` (the field holding the customer id). The mapper replaces
each such leaf by ``{"$pd": base64(nonce || AES-256-GCM ciphertext)}`` under the subject's key
and records the subject in the stored body. Forgetting a customer destroys the key (the row
stays, keyless, as a tombstone): the ciphertext stays in the log, so the log replays and the
hash chain still verifies, but every read yields ``ERASED`` in place of each leaf.

A stream is linked to the customer whose key protects its later events (``personal_data_
streams``): when the customer's key is cached, the link is written with the events, in their
statement (``KeyRing.link_later``, ``eventstore/group_commit.py``), else in the statement that
fetches or creates the key, before them. A placement reads its customer's key with its other
facts (``EventStore.load_many_and_topics``); when it finds none, the writer makes the key and
writes it with the events too (``KeyRing.proposed_key``; the database function
``ecom_claim_keys`` fails the append if another writer made one first, and the writer then
encrypts again under that one).

Keys are cached per customer in the process (no database round trip per event); the cache is
dropped for a customer when it is forgotten here, when this process reads its
``customer.CustomerForgotten`` event, and after ``ttl_s`` at the latest (other processes).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import ConnectionPool

ERASED = "[erased]"
#: ``personal_data_subject`` for events that name no customer: the customer that the stream's
#: first personal event named (an order's ``OrderPlaced``) is the subject.
STREAM_OWNER = "@stream_owner"
#: The personal leaves of an address or of gift options, for classes that carry them nested.
ADDRESS_PARTS = ("name", "line1", "line2", "city", "region", "postal_code")
GIFT_PARTS = ("message", "recipient_name")
MARK = "$pd"
#: How long after a read found a subject with no key its writer may make one itself.
PROPOSE_WITHIN_S = 5.0
_NONCE = 12


def personal_paths(cls: type | None) -> tuple[str, ...]:
    return tuple(getattr(cls, "personal_data_fields", ()) or ())


def _leaves(value: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to every string leaf (and every encrypted leaf) under ``value``."""
    if isinstance(value, str) or (isinstance(value, dict) and MARK in value):
        return fn(value)
    if isinstance(value, dict):
        return {k: _leaves(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, fn) for v in value]
    return value


def map_paths(data: dict[str, Any], paths: tuple[str, ...], fn: Callable[[Any], Any]) -> None:
    """In place: replace the leaves at ``paths`` (missing or null paths are skipped)."""
    for path in paths:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict) and node.get(last) is not None:
            node[last] = _leaves(node[last], fn)


def encrypt_leaf(key: bytes | None, subject: str, value: str) -> Any:
    if key is None:  # already forgotten: never store the plaintext
        return ERASED
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), subject.encode())
    return {MARK: base64.b64encode(nonce + sealed).decode()}


def decrypt_leaf(key: bytes | None, subject: str, value: Any) -> Any:
    if not (isinstance(value, dict) and MARK in value):
        return value
    if key is None:
        return ERASED
    raw = base64.b64decode(value[MARK])
    try:
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], subject.encode()).decode()
    except InvalidTag:  # written under a key destroyed since (a forget raced the write)
        return ERASED


def scrub(data: dict[str, Any], paths: tuple[str, ...]) -> None:
    """In place: every leaf at ``paths`` becomes ``ERASED`` (for read model copies)."""
    map_paths(data, paths, lambda _: ERASED)


# One statement each, committed without waiting for the WAL flush (``set_config(...,
# true)`` lasts until the statement's own commit): the event that uses the key or the link
# commits after it, synchronously, which flushes this record too.
_ASYNC_COMMIT = "off AS (SELECT set_config('synchronous_commit', 'off', true))"
_KEY_INSERT = (
    "INSERT INTO customer_keys (customer_id, key) VALUES (%s, %s) "
    "ON CONFLICT (customer_id) DO UPDATE SET customer_id = excluded.customer_id RETURNING key"
)
_LINK_INSERT = (
    "INSERT INTO personal_data_streams (stream_id, customer_id) VALUES (%s, %s) "
    "ON CONFLICT (stream_id) DO NOTHING"
)
_CREATE_KEY = f"WITH {_ASYNC_COMMIT}, k AS ({_KEY_INSERT}) SELECT k.key FROM k, off"
_LINK = f"WITH {_ASYNC_COMMIT}, link AS ({_LINK_INSERT}) SELECT 1 FROM off"
_LINK_AND_KEY = (
    f"WITH {_ASYNC_COMMIT}, link AS ({_LINK_INSERT}), k AS ({_KEY_INSERT}) SELECT k.key FROM k, off"
)


def _new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


class KeyRing:
    """Per-customer data keys in ``customer_keys``, cached in the process."""

    def __init__(self, pool: ConnectionPool, *, ttl_s: float = 60.0, max_entries: int = 100_000):
        self.pool = pool
        self.ttl_s = ttl_s
        self.max_entries = max_entries  # per table: the process's memory stays bounded
        self._cache: dict[str, tuple[bytes | None, float]] = {}
        self._owners: dict[UUID, str] = {}
        #: Subjects this process knows are forgotten: their key is never cached again, even
        #: by a lookup that read it just before it was destroyed and remembers it after.
        self._forgotten: set[str] = set()
        #: Subjects a read found with no key, until when a writer may make one (``found``),
        #: and the key proposed for each (``proposed_key``).
        self._absent: dict[str, float] = {}
        self._proposed: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _cached(self, subject: str) -> tuple[bool, bytes | None]:
        if subject in self._forgotten:
            return True, None
        hit = self._cache.get(subject)
        if hit is None or hit[1] < time.monotonic():
            return False, None
        return True, hit[0]

    def _remember(self, subject: str, key: bytes | None) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            if subject in self._forgotten:
                return None
            if len(self._cache) >= self.max_entries:
                self._cache = {s: hit for s, hit in self._cache.items() if hit[1] >= now}
                if len(self._cache) >= self.max_entries:
                    self._cache = {}
            self._cache[subject] = (key, now + self.ttl_s)
        return key

    def _own(self, stream_id: UUID, subject: str) -> str:
        if len(self._owners) >= self.max_entries:
            self._owners = {}  # dropped owners are read again when needed
        self._owners[stream_id] = subject
        return subject

    def key_for_read(self, subject: str) -> bytes | None:
        """The subject's key, or None when forgotten (or never given one)."""
        found, key = self._cached(subject)
        if found:
            return key
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT key FROM customer_keys WHERE customer_id = %s", (UUID(subject),)
            ).fetchone()
        return self._remember(subject, None if row is None or row[0] is None else bytes(row[0]))

    def prefetch(self, subjects: Iterable[str]) -> None:
        """Fetch the keys of every subject not cached, in one query (a batch being decoded)."""
        missing = [s for s in subjects if not self._cached(s)[0]]
        if not missing:
            return
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT customer_id, key FROM customer_keys WHERE customer_id = ANY(%s)",
                ([UUID(s) for s in missing],),
            ).fetchall()
        found = {str(r[0]): (None if r[1] is None else bytes(r[1])) for r in rows}
        for subject in missing:
            self._remember(subject, found.get(subject))

    def has_cached(self, subject: str) -> bool:
        """Whether the subject's key (or that it has none any more) is known here."""
        return self._cached(subject)[0]

    def found(self, keys: dict[str, bytes | None], asked: Iterable[str] = ()) -> None:
        """Keys read elsewhere (a placement's read, ``EventStore.load_many_and_topics``), by
        subject; None for a destroyed key. Subjects ``asked`` and not found had no key then:
        for a while their next writer may make one and write it with its events
        (``proposed_key``)."""
        for subject, key in keys.items():
            self._remember(subject, key)
        now = time.monotonic()
        until = now + PROPOSE_WITHIN_S
        with self._lock:
            if len(self._absent) >= self.max_entries:
                self._absent = {s: t for s, t in self._absent.items() if t >= now}
                self._proposed = {s: k for s, k in self._proposed.items() if s in self._absent}
            for subject in asked:
                if subject not in keys and subject not in self._forgotten:
                    self._absent[subject] = until

    def proposed_key(self, subject: str) -> bytes | None:
        """A new key for a subject a read found without one moments ago, to be written with
        the events it encrypts (``eventstore/group_commit.py``: the append fails if another
        writer made one first, ``refused``); the same one to every writer in this process
        until it is committed (``made``). None when that is not known."""
        with self._lock:
            until = self._absent.get(subject)
            if until is None or until < time.monotonic() or subject in self._forgotten:
                return None
            key = self._proposed.get(subject)
            if key is None:
                key = self._proposed[subject] = _new_key()
            return key

    def made(self, keys: Iterable[tuple[str, bytes]]) -> None:
        """Proposed keys committed with their events."""
        for subject, key in keys:
            with self._lock:
                self._absent.pop(subject, None)
                self._proposed.pop(subject, None)
            self._remember(subject, key)

    def refused(self, subjects: Iterable[str]) -> None:
        """Proposed keys another writer beat (the subject has a key, or none any more): the
        next write reads the key there is."""
        with self._lock:
            for subject in subjects:
                self._absent.pop(subject, None)
                self._proposed.pop(subject, None)
                self._cache.pop(subject, None)

    def key_for_write(self, subject: str) -> bytes | None:
        """The subject's key, created on first use; None when the customer was forgotten."""
        found, key = self._cached(subject)
        if found and key is not None:
            return key
        with self.pool.connection() as conn:
            row = conn.execute(_CREATE_KEY, (UUID(subject), _new_key())).fetchone()
        return self._remember(subject, None if row[0] is None else bytes(row[0]))

    def link_stream(self, stream_id: UUID, subject: str) -> None:
        """Record that ``subject`` owns the personal data of ``stream_id``'s later events, and
        (in the same statement, one round trip) give the subject its key if none is cached:
        the events being written need it next (``key_for_write``)."""
        if self._owners.get(stream_id) == subject:
            return
        found, key = self._cached(subject)
        with self.pool.connection() as conn:
            if found and key is not None:
                conn.execute(_LINK, (stream_id, UUID(subject)))
            else:
                customer = UUID(subject)
                row = conn.execute(_LINK_AND_KEY, (stream_id, customer, customer, _new_key()))
                key_row = row.fetchone()
                self._remember(subject, None if key_row[0] is None else bytes(key_row[0]))
        self._own(stream_id, subject)

    def link_later(self, stream_id: UUID, subject: str) -> bool:
        """Whether the link of ``stream_id`` to ``subject`` may be written with the events
        that need it, in their transaction (no round trip of its own, and no link without
        its events): yes when it is not known to be written and the subject's key is cached
        (``key_for_write`` then needs no query either). The writer reports it with
        ``linked`` once committed."""
        if self._owners.get(stream_id) == subject:
            return False
        found, key = self._cached(subject)
        return found and key is not None

    def linked(self, stream_id: UUID, subject: str) -> None:
        """The link of ``stream_id`` to ``subject`` is committed (``link_later``)."""
        self._own(stream_id, subject)

    def owner_of_stream(self, stream_id: UUID) -> str | None:
        owner = self._owners.get(stream_id)
        if owner is None:
            with self.pool.connection() as conn:
                row = conn.execute(
                    "SELECT customer_id FROM personal_data_streams WHERE stream_id = %s",
                    (stream_id,),
                ).fetchone()
            if row is None:
                return None
            owner = self._own(stream_id, str(row[0]))
        return owner

    def destroy(self, subject: UUID) -> None:
        """Destroy the key for good (idempotent); later writes for the subject are erased."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO customer_keys (customer_id, key, forgotten_at) "
                "VALUES (%s, NULL, now()) ON CONFLICT (customer_id) DO UPDATE "
                "SET key = NULL, forgotten_at = coalesce(customer_keys.forgotten_at, now())",
                (subject,),
            )
        self.forgotten(str(subject))

    def invalidate(self, subject: str) -> None:
        with self._lock:
            self._cache.pop(subject, None)

    def forgotten(self, subject: str) -> None:
        """``subject``'s key is destroyed (this process destroyed it, or read the
        ``CustomerForgotten`` that says so): from now on it reads and writes as erased here."""
        with self._lock:
            if len(self._forgotten) >= self.max_entries:
                self._forgotten = set()  # dropped ones are read from the table again: NULL
            self._forgotten.add(subject)
            self._cache.pop(subject, None)
            self._absent.pop(subject, None)
            self._proposed.pop(subject, None)
