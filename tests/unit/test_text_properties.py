"""Property tests of the text pipeline (hypothesis)."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ttsgate.text import IncrementalSegmenter, TextNormalizer, split_segments

_ASCII_DIGIT = re.compile(r"[0-9]")
# Text that looks like what the rules see: digits, Han, Latin, and the symbols the rules key on.
_alphabet = st.sampled_from(
    list("0123456789０１２３４５６７８９")
    + list("年月日号点分秒个第元两万亿百千")
    + list("abcxyzGKQ")
    + list(" .,:：/-~～%％$¥€+=×÷<>±。，！？；、\n\"'\\()[]")
    + ["km", "kg", "℃", "GB", "W", "m²", "am", "pm", "电话", "验证码", "比分", "公元前"]
)
mixed_text = st.lists(_alphabet, max_size=40).map("".join)
any_text = st.text(max_size=60)
settings.register_profile("ttsgate", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("ttsgate")


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer(cache_size=0)


@given(text=st.one_of(any_text, mixed_text))
@settings(max_examples=300)
def test_zh_no_digits_and_idempotent(normalizer: TextNormalizer, text: str) -> None:
    once = normalizer.normalize(text, "zh")
    assert not _ASCII_DIGIT.search(once), once
    assert normalizer.normalize(once, "zh") == once


@given(text=st.one_of(any_text, mixed_text))
@settings(max_examples=300)
def test_en_no_digits_and_idempotent(normalizer: TextNormalizer, text: str) -> None:
    once = normalizer.normalize(text, "en")
    assert not _ASCII_DIGIT.search(once), once
    assert normalizer.normalize(once, "en") == once


_WS = re.compile(r"\s+")
_SPOKEN = re.compile(r"[^\W_]")


@given(text=st.one_of(any_text, mixed_text), cuts=st.lists(st.integers(0, 60), max_size=12))
@settings(max_examples=300)
def test_incremental_matches_whole(text: str, cuts: list[int]) -> None:
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    seg = IncrementalSegmenter()
    out: list[str] = []
    for a, b in itertools.pairwise(points):
        out += seg.feed(text[a:b])
    out += seg.flush()
    whole = split_segments(text)
    assert _WS.sub("", "".join(whole)) == _WS.sub("", text)
    # a stream drops only what has nothing to speak (closers after a released sentence)
    assert _SPOKEN.findall("".join(out)) == _SPOKEN.findall(text)
    assert all(s and s == s.strip() and _SPOKEN.search(s) for s in out)
