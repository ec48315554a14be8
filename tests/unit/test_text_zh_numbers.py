"""Chinese numbers next to signs, hyphens, tildes and dots (ranges, scores, year-months, money said
once, trailing zeros, generations) and Traditional text: the rules behind the rows of
tests/data/text_normalization_zh.tsv, checked on generated inputs nobody wrote down."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttsgate.text import TextNormalizer
from ttsgate.text.numbers_zh import cardinal, decimal
from ttsgate.text.script_zh import SIMPLIFIED, is_traditional, to_traditional

_DIGIT = re.compile(r"[0-9]")
_NUMERAL = "零一二三四五六七八九十百千万萬亿億两兩幺点點"
#: A connector or sign the voice would drop, left next to a spoken number.
_BARE = re.compile(rf"[{_NUMERAL}]\s*[-~+—–]\s*[{_NUMERAL}负負正]|(?<![{_NUMERAL}])[-~+.][{_NUMERAL}]")


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer(cache_size=0)


_symbols = st.sampled_from(
    list("0123456789") * 3
    + list("年月日号號点點分个個张張人米元天后後周第半")
    + list("-~—–+.:/%%$¥€ ，。")
    + ["℃", "km", "kg", "km/h", "比分", "以", "队", "取胜", "平", "平米", "赛季", "到", "至", "次日", "上午"]
    + ["星期", "周一", "周五", "口径", "万", "亿", "=", "×", "至今", "现在", "2024.1.1", "2023.09"]
)
zh_number_text = st.lists(_symbols, max_size=24).map("".join)


@given(text=zh_number_text)
@settings(max_examples=400)
def test_no_digits_idempotent(normalizer: TextNormalizer, text: str) -> None:
    once = normalizer.normalize(text, "zh")
    assert not _DIGIT.search(once), once
    assert normalizer.normalize(once, "zh") == once


_UNIT_READING = {"天": "天", "个": "个", "元": "元", "km": "公里", "kg": "千克", "℃": "摄氏度", "%": None}


@given(
    low=st.integers(0, 9999),
    span=st.integers(1, 500),
    sep=st.sampled_from(["-", "~", "—", " - ", "～", "－"]),
    unit=st.sampled_from(sorted(_UNIT_READING)),
    prefix=st.sampled_from(["", "约", "大概", "需要"]),
)
def test_ranges_read_to_and_never_the_dash(
    normalizer: TextNormalizer, low: int, span: int, sep: str, unit: str, prefix: str
) -> None:
    high = low + span
    got = normalizer.normalize(f"{prefix}{low}{sep}{high}{unit}", "zh")
    assert not _BARE.search(got), got
    reading = _UNIT_READING[unit]
    if reading is None:  # percent: each end is a percentage
        assert got == f"{prefix}百分之{cardinal(str(low))}到百分之{cardinal(str(high))}"
    elif 1000 <= low <= 2999 and high <= low + 100 and unit in "天个":  # no unit of a year span
        assert "到" in got
    else:
        assert got.startswith(prefix), got
        assert got.endswith(reading), got
        assert "到" in got, got
        assert cardinal(str(high)).replace("两", "二") in got.replace("两", "二")


@given(
    hour=st.integers(0, 22),
    minute=st.sampled_from(["00", "05", "30", "45"]),
    later=st.integers(1, 3),
    sep=st.sampled_from(["-", "~", "—", "——", "至", "到"]),
)
def test_time_ranges(normalizer: TextNormalizer, hour: int, minute: str, later: int, sep: str) -> None:
    end = min(hour + later, 24)
    got = normalizer.normalize(f"开放时间{hour}:{minute}{sep}{end}:00", "zh")
    connector = sep if sep in "至到" else "到"
    assert got.startswith("开放时间"), got
    assert got.endswith(connector + cardinal(str(end), liang=True) + "点"), got
    assert not _BARE.search(got)


@given(
    amount=st.decimals(min_value=0, max_value=99999, places=2).map(str),
    symbol=st.sampled_from([("¥", "元"), ("$", "美元"), ("€", "欧元"), ("£", "英镑")]),
    written_after=st.booleans(),
)
def test_currency_said_once_without_trailing_zeros(
    normalizer: TextNormalizer, amount: str, symbol: tuple[str, str], written_after: bool
) -> None:
    sign, name = symbol
    text = f"{sign}{amount}{name if written_after else ''}"
    got = normalizer.normalize(text, "zh")
    assert got == decimal(amount, liang=True, trim=True) + name, (text, got)
    assert got.count(name) == 1
    assert not _BARE.search(got)
    if "点" in got:  # a fraction is said without its trailing zeros
        assert not got.endswith("零" + name), (text, got)
    else:
        assert float(amount) == int(float(amount)), (text, got)


@pytest.mark.parametrize(
    ("number", "trimmed", "kept"),
    [
        ("3.50", "三点五", "三点五零"),
        ("100.00", "一百", "一百点零零"),
        ("2.0", "两", "二点零"),
        ("0.05", "零点零五", "零点零五"),
    ],
)
def test_decimal_trim(number: str, trimmed: str, kept: str) -> None:
    assert decimal(number, liang=True, trim=True) == trimmed
    assert decimal(number) == kept


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("主队3-0取胜", "主队三比零取胜"),  # score words after
        ("中国队以2:0获胜", "中国队以二比零获胜"),  # 以 right before
        ("比分最终定格在3-2", "比分最终定格在三比二"),  # 比分 up to 8 characters before
        ("以3-5人为一组", "以三到五人为一组"),  # a measure word after: a range
        ("你可以在9:30来", "你可以在九点三十分来"),  # 以 not right before: a time
        ("以9:05为准", "以九点零五分为准"),  # minutes need more than 以
        ("面积3-5平米", "面积三到五平米"),  # 平 of 平米 is no draw
    ],
)
def test_score_or_range_or_time(normalizer: TextNormalizer, text: str, want: str) -> None:
    assert normalizer.normalize(text, "zh") == want


@given(year=st.integers(1900, 2099), month=st.integers(1, 12), zero=st.booleans())
def test_year_month_with_hyphen(normalizer: TextNormalizer, year: int, month: int, zero: bool) -> None:
    mm = f"{month:02d}" if zero else str(month)
    got = normalizer.normalize(f"{year}-{mm}发布", "zh")
    spoken_year = "".join("零一二三四五六七八九"[int(d)] for d in str(year))
    assert got == f"{spoken_year}年{cardinal(str(month))}月发布"


@given(
    whole=st.integers(1000, 2999),
    frac=st.integers(1, 12),
    unit=st.sampled_from(["米", "元", "公里", "kg", "%"]),
)
def test_decimal_before_unit_is_no_date(normalizer: TextNormalizer, whole: int, frac: int, unit: str) -> None:
    got = normalizer.normalize(f"{whole}.{frac:02d}{unit}", "zh")
    assert "年" not in got, got
    assert "月" not in got, got
    assert "点" in got, got


@given(gen=st.sampled_from(["00", "05", "60", "70", "80", "85", "90", "95"]))
def test_generations_digit_by_digit(normalizer: TextNormalizer, gen: str) -> None:
    digits = "".join("零一二三四五六七八九"[int(d)] for d in gen)
    assert normalizer.normalize(f"{gen}后的年轻人", "zh") == f"{digits}后的年轻人"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("有2個人", "有兩個人"),
        ("共2000張票", "共兩千張票"),
        ("3.5萬人", "三點五萬人"),
        ("溫度-3℃", "溫度負三攝氏度"),
        ("時間是9:30", "時間是九點三十分"),
        ("有2个人", "有两个人"),  # Simplified stays Simplified
        ("有2人", "有两人"),  # no telling characters: Simplified
    ],
)
def test_traditional_keeps_its_characters(normalizer: TextNormalizer, text: str, want: str) -> None:
    assert normalizer.normalize(text, "zh") == want


@given(
    n=st.integers(0, 10**9),
    frac=st.sampled_from(["", ".5", ".25"]),
    tail=st.sampled_from(["個人", "萬", "張", "點", "℃", "%", "元", "公里", "分鐘"]),
)
def test_traditional_output_has_no_simplified_number_words(
    normalizer: TextNormalizer, n: int, frac: str, tail: str
) -> None:
    got = normalizer.normalize(f"這裡有{n}{frac}{tail}", "zh")
    assert not set(got) & SIMPLIFIED, got


def test_script_detection() -> None:
    assert is_traditional("這裡有2個人")
    assert not is_traditional("这里有2个人")
    assert not is_traditional("有2人")
    assert not is_traditional("")
    assert to_traditional("两千点五万负三") == "兩千點五萬負三"
    assert to_traditional("一加一等于二") == "一加一等於二"
