"""How many SMS segments a text takes (3GPP TS 23.038).

A text written only in the GSM 7-bit default alphabet and its extension table is sent GSM-7:
160 septets in a single message, 153 per part of a concatenated one (the user data header
takes the rest), each extension character (``^ { } \\ [ ~ ] | €`` and form feed) costing two,
never split across parts. Any other character makes the whole text UCS-2: 70 code units in a
single message, 67 per part, a character outside the Basic Multilingual Plane taking two units,
never split across parts. The empty text is one segment."""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True, slots=True)
class Segmentation:
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _pack(costs: list[int], single: int, part: int) -> int:
    """Parts needed when no character's units may be split between two parts."""
    if sum(costs) <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def segments(text: str) -> Segmentation:
    if is_gsm7(text):
        costs = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return Segmentation("gsm7", sum(costs), _pack(costs, GSM7_SINGLE, GSM7_PART))
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return Segmentation("ucs2", sum(costs), _pack(costs, UCS2_SINGLE, UCS2_PART))
