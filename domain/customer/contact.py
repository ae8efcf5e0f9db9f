"""The rules a customer's email, phone number and name follow, each refusal with its code.

- email: ``local@domain`` as mail systems take it (RFC 5321 sizes: at most 254 characters, the
  local part at most 64), a domain of dot-separated labels with a letter-only top level;
  ``invalid_email``. Uniqueness ignores case (``email_key``).
- phone: E.164, ``+`` then 8 to 15 digits, the first not 0; ``invalid_phone``.
- name: 1 to 200 characters once trimmed (``invalid_name``, ``name_too_long``): letters, marks,
  digits, spaces and ``' ’ - . ,`` only (``invalid_name``, naming the first odd character)."""

from __future__ import annotations

import re
import unicodedata

from domain.errors import InvalidCommand

MAX_EMAIL = 254
MAX_NAME = 200
_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_PHONE = re.compile(r"\+[1-9][0-9]{7,14}")
_NAME_PUNCTUATION = frozenset(" '’-.,")


def valid_email(raw: str) -> str:
    email = raw.strip()
    match = _EMAIL.fullmatch(email)
    if len(email) > MAX_EMAIL or match is None or len(match["local"]) > 64:
        raise InvalidCommand(
            "The email is not a valid address (local@domain.tld, at most 254 characters).",
            code="invalid_email",
            details={"field": "email"},
        )
    return email


def email_key(email: str) -> str:
    """What uniqueness compares: the trimmed address, case folded."""
    return email.strip().lower()


def valid_phone(raw: str) -> str:
    if _PHONE.fullmatch(raw) is None:
        raise InvalidCommand(
            "The phone number is not in E.164 form (+ and 8 to 15 digits, e.g. +15551234567).",
            code="invalid_phone",
            details={"field": "phone"},
        )
    return raw


def valid_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidCommand("The name is empty.", code="invalid_name", details={"field": "name"})
    if len(name) > MAX_NAME:
        raise InvalidCommand(
            f"The name is longer than {MAX_NAME} characters.",
            code="name_too_long",
            details={"field": "name", "max_length": MAX_NAME},
        )
    for ch in name:
        if ch not in _NAME_PUNCTUATION and unicodedata.category(ch)[0] not in "LMN":
            raise InvalidCommand(
                f"The name holds a character a name does not: {ch!r}.",
                code="invalid_name",
                details={"field": "name", "character": f"U+{ord(ch):04X}"},
            )
    return name
