"""SMS segmentation (GSM-7 160/153 with extension characters counting two, UCS-2 70/67 with
characters outside the BMP counting two, never split across parts)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.notification.sms_segments import GSM7_BASIC, GSM7_EXTENSION, segments

gsm_basic = st.text(alphabet=sorted(GSM7_BASIC), max_size=700)
gsm_any = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700)
ucs2 = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400).filter(
    lambda t: any(ch not in GSM7_BASIC and ch not in GSM7_EXTENSION for ch in t)
)


def test_the_edges_of_a_single_gsm7_message():
    assert segments("").segments == 1
    assert (segments("a" * 160).segments, segments("a" * 161).segments) == (1, 2)
    assert (segments("a" * 306).segments, segments("a" * 307).segments) == (2, 3)


def test_an_extension_character_counts_two_and_is_never_split():
    assert segments("€" * 80) == segments("€" * 80) and segments("€" * 80).units == 160
    assert segments("€" * 80).segments == 1 and segments("€" * 81).segments == 2
    # 152 septets then a two-septet character: it moves whole to the second part
    assert segments("a" * 152 + "€" + "a" * 7).segments == 2
    assert segments("a" * 152 + "€" + "a" * 152).segments == 3


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2():
    assert segments("a" * 69 + "ж").encoding == "ucs2"
    assert (segments("ж" * 70).segments, segments("ж" * 71).segments) == (1, 2)
    assert (segments("ж" * 134).segments, segments("ж" * 135).segments) == (2, 3)
    assert segments("😀" * 35).segments == 1 and segments("😀" * 36).segments == 2


@settings(max_examples=60)
@given(gsm_basic)
def test_plain_gsm7_parts_follow_the_153_septet_rule(text):
    got = segments(text)
    n = len(text)
    assert got.encoding == "gsm7" and got.units == n
    assert got.segments == (1 if n <= 160 else -(-n // 153))


@settings(max_examples=60)
@given(gsm_any)
def test_gsm7_parts_hold_every_septet_and_no_more_than_they_can(text):
    got = segments(text)
    assert got.units == len(text) + sum(ch in GSM7_EXTENSION for ch in text)
    if got.units <= 160:
        assert got.segments == 1
    else:
        assert -(-got.units // 153) <= got.segments <= -(-got.units // 152)


@settings(max_examples=60)
@given(ucs2)
def test_ucs2_parts_hold_every_code_unit_and_no_more_than_they_can(text):
    got = segments(text)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    assert got.encoding == "ucs2" and got.units == units
    if units <= 70:
        assert got.segments == 1
    else:
        assert -(-units // 67) <= got.segments <= -(-units // 66)


@settings(max_examples=40)
@given(gsm_any, gsm_any)
def test_a_longer_text_never_takes_fewer_segments(a, b):
    assert segments(a + b).segments >= segments(a).segments
