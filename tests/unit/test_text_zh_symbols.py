"""Measure words (两), Chinese date conventions, symbols and operators (measures_zh, dates_zh,
symbols_zh, operators_zh) and the English forms (forms_en), on generated inputs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttsgate.text import TextNormalizer
from ttsgate.text.dates_zh import md_name
from ttsgate.text.measures_zh import MEASURE_MULTI, MEASURE_WORDS
from ttsgate.text.numbers_zh import cardinal
from ttsgate.text.symbols_zh import SYMBOLS

_DIGIT = re.compile(r"[0-9]")
_MEASURES = sorted(set(MEASURE_WORDS) | set(MEASURE_MULTI))


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer(cache_size=0)


@pytest.mark.parametrize("word", _MEASURES)
def test_two_before_every_measure_word_is_liang(normalizer: TextNormalizer, word: str) -> None:
    assert normalizer.normalize("2" + word, "zh")[0] in "两兩"
    assert normalizer.normalize("第2" + word, "zh").startswith("第二")
    assert normalizer.normalize("有12" + word, "zh").startswith("有十二")


@pytest.mark.parametrize("text", ["2年级", "2等奖", "2月", "2号", "2两", "2G网络", "CO2排放", "2.5米"])
def test_two_that_names_or_orders_stays_er(normalizer: TextNormalizer, text: str) -> None:
    assert not normalizer.normalize(text, "zh").startswith("两")


@given(month=st.integers(1, 12), day=st.integers(1, 28), sep=st.sampled_from(".·/"))
def test_festival_dates_are_names(normalizer: TextNormalizer, month: int, day: int, sep: str) -> None:
    if sep == "·":
        sep = "."
    got = normalizer.normalize(f"{month}{sep}{day}纪念日", "zh")
    assert got == md_name(str(month), str(day)) + "纪念日"


@given(month=st.integers(1, 12), day=st.integers(1, 31), sep=st.sampled_from("./"))
def test_month_day_with_date_words(normalizer: TextNormalizer, month: int, day: int, sep: str) -> None:
    want = cardinal(str(month)) + "月" + cardinal(str(day)) + "日"
    assert normalizer.normalize(f"请于{month}{sep}{day}前提交", "zh") == f"请于{want}前提交"


_pieces = st.sampled_from(
    list("0123456789") * 2
    + list(SYMBOLS)
    + list("<>+-^$/.′'\"½¼⁻²³abx ")
    + [
        "零下",
        "华氏",
        "°F",
        "满",
        "湖人",
        "勇士",
        "时长",
        "端口",
        "RTX ",
        "A",
        "V",
        "h",
        "min",
        "s",
        "万",
        "人",
    ]
)


@given(text=st.lists(_pieces, max_size=20).map("".join))
@settings(max_examples=400)
def test_symbols_read_no_digits_idempotent(normalizer: TextNormalizer, text: str) -> None:
    once = normalizer.normalize(text, "zh")
    assert not _DIGIT.search(once), once
    assert normalizer.normalize(once, "zh") == once
    assert not re.search("[" + re.escape("".join(SYMBOLS)) + "]", once), once


@given(a=st.integers(1, 4000), b=st.integers(1, 4000))
def test_products_read_both_numbers_one_way(normalizer: TextNormalizer, a: int, b: int) -> None:
    assert normalizer.normalize(f"{a}x{b}", "zh") == cardinal(str(a)) + "乘" + cardinal(str(b))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Louis XIV", "Louis the fourteenth"),
        ("Part III", "Part three"),
        ("Main St.", "Main Street"),
        ("St. Louis", "Saint Louis"),
        ("6'2\"", "six foot two"),
        ("y > 5", "y greater than five"),
        ("2.5M users", "two point five million users"),
        ("2h15m", "two hours fifteen minutes"),
    ],
)
def test_english_forms(normalizer: TextNormalizer, text: str, want: str) -> None:
    assert normalizer.normalize(text, "en") == want
