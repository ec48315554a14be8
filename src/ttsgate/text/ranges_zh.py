"""What a ``-``, ``~`` or ``:`` between numbers means in Chinese text, decided while every number
is still digits (``rules_zh`` runs these before it reads any number).

A Mandarin speaker never says the hyphen or the tilde; what it stands for depends on the numbers
around it and the words after them:

- a range of written dates (``date_ranges``, before the dates are read): 2024.1.1-2024.1.3,
  2023.09-2024.06 → …到…, 2024.1.1-1.3 → …到一月三日, 2023.09-至今 → …至今;
- a year and a month (``year_spans``): 2019-11发布 → 二零一九年十一月发布; a span of years:
  2023-2024赛季, 2023-24赛季, 1990-1995 → 二零二三到二零二四赛季 … (both sides plausible years);
- a score (``scores``), when the words around it say so (比分…, 以/队 right before, 取胜/平/负于 …
  right after, ``tables_zh.SCORE_*``): 主队3-0取胜 → 三比零, 比分2:1 → 二比一;
- a range (``ranges``): the connector becomes 到 and each side is read later by its own rule:
  9:00-10:30 → 九点到十点三十分, 9点-10点, 3月-5月, -3℃~5℃, 5kg-10kg, 第3章-第5章, 3-5天;
- a descending pair of integers with no unit or date word after it is a numbered item, read with
  杠 as Chinese reads a hyphen in a label: 图3-1 → 图三杠一;
- three or more hyphenated digit groups are a code, read digit by digit with 杠: 978-7-111 → …;
- weekdays (``weekday_ranges``): 周一-周五 → 周一到周五.

A connector already written as 到 or 至 is kept. ``measure_follows`` / ``quantity_follows`` look
past a range's second number (2-3个 → 两到三个, 1.50-2.50元 → 一点五到二点五元).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ttsgate.text.measures_zh import MEASURE_MULTI, MEASURE_RE, MEASURE_WORDS
from ttsgate.text.numbers_zh import cardinal, digit_string, year
from ttsgate.text.tables_zh import (
    CURRENCY_PREFIX,
    QUANTITY_WORDS,
    SCORE_AFTER,
    SCORE_AFTER_NOT,
    SCORE_CONTEXT,
    SCORE_LEAD,
    SEASON_WORDS,
    TIME_OF_DAY,
    UNITS,
)


def alt(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


DASH = r"(?:——|--|[-~—–])"
SEP = r"\s*" + DASH + r"\s*"
_NUM = r"\d+(?:\.\d+)?"
#: A number that does not continue a code, a version, a time or an expression.
_START = r"(?<![A-Za-z0-9.:/\-+±×÷*=<>^_])"
_END = r"(?![\d.:/]|\s*[-~—–]\s*\d|\s*[=+×*÷<>≤≥≈≠^])"
_UNIT_SYMBOLS = r"(?:[%‰]|(?:" + alt(UNITS) + r")(?![A-Za-z]))"
_QUANTITY_WORD = alt(MEASURE_MULTI + QUANTITY_WORDS)
_HAN_SUFFIX = "[" + MEASURE_WORDS + "人米克吨升斤里度秒分元块时時日号號月岁歲年]"
_SUFFIX = (
    r"(?:" + _UNIT_SYMBOLS + r"|点半|點半|[点點](?:\d{1,2}分)?|月(?:\d{1,2}[日号號])?|"
    + _QUANTITY_WORD + "|" + _HAN_SUFFIX + "{1,2})"
)  # fmt: skip
_CURRENCY = r"(?:(?:" + alt(CURRENCY_PREFIX) + r")\s?)?"
_MEASURE = MEASURE_RE
_QUANTITY = re.compile(
    r"\s?(?:" + _UNIT_SYMBOLS + "|" + alt(MEASURE_MULTI + QUANTITY_WORDS) + "|[" + MEASURE_WORDS + "])"
)
_UNIT = re.compile(r"\s?(?:" + _UNIT_SYMBOLS + "|" + alt(QUANTITY_WORDS) + ")")
_DATE_WORD = re.compile(r"\s?(?:[月日号號点點时時]|" + alt(SEASON_WORDS) + ")")
_MONEY_BEFORE = re.compile(r"(?:" + alt(CURRENCY_PREFIX) + r")\s?$")
_TAIL = re.compile(r"\s*(?:[到至]|" + DASH + r")\s*[-+]?" + _NUM)

_YEAR_SPAN = re.compile(_START + r"(\d{4})\s*(——|--|[-~—–到至])\s*(\d{4}|\d{1,2})(?![\d.:/]|\s*[-~—–]\s*\d)")
_PAIR = re.compile(
    _START + r"(\d{1,3})\s*([-–—:])\s*(\d{1,3})(?![\d.:]|\s*[-~—–:]\s*\d|\s?(?:[ap]\.?m|[AP]M))"
)
_CHAIN = re.compile(_START + r"\d+(?:-\d+){2,}(?![\d.])")
_TIME_RANGE = re.compile(
    r"(?<![A-Za-z0-9.:])(\d{1,2}:\d{2}(?::\d{2})?)" + SEP + r"(?=(?:" + alt(TIME_OF_DAY) + r")?\s?\d)"
)
_SUFFIXED = re.compile(
    _START + r"(" + _CURRENCY + r"[-+]?" + _NUM + r"(" + _SUFFIX + r"))" + SEP
    + r"(?=(?:" + alt(TIME_OF_DAY) + r")?" + _CURRENCY + r"[-+]?" + _NUM + r"(" + _SUFFIX + r")?)"
)  # fmt: skip
_ORDINALS = re.compile(r"(第\d+[\u3400-\u9fff]{0,3}?)" + SEP + r"(?=第\d)")
_PLAIN = re.compile(_START + r"([-+]?)(" + _NUM + r")" + SEP + r"([-+]?)(" + _NUM + r")" + _END)
_FULL_DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"
_DATE_RANGE = re.compile(r"(?<![\d.])(" + _FULL_DATE + r")" + SEP + r"(?=" + _FULL_DATE + r"(?![\d.]))")
_DATE_RANGE_SHORT = re.compile(
    r"(?<![\d.])(" + _FULL_DATE + r")\s*(——|[-~—–到至])\s*(\d{1,2})[./](\d{1,2})(?![\d./])"
)
_MONTH_RANGE = re.compile(r"(?<![\d.])(\d{4}[/.]\d{1,2})" + SEP + r"(?=\d{4}[/.]\d{1,2}(?![\d./]))")
_UNTIL_NOW = re.compile(r"(?<=[\d月日号號年])" + SEP + r"(至今|现在|現在|目前|今天|今)")
_FRACTIONS = re.compile(r"(?<![\d./])(\d+/\d+)" + SEP + r"(?=\d+/\d+(?![\d./]))")
_WEEKDAY = "(?:周|週|星期|礼拜|禮拜)"
_WEEKDAY_RANGE = re.compile(
    r"(" + _WEEKDAY + r"[1-7一二三四五六日天])" + SEP + r"(?=" + _WEEKDAY + r"?[1-7一二三四五六日天])"
)


def _ahead(text: str, end: int) -> int:
    """Where the words after a number start, past a range's second number (2-3个: at 个)."""
    m = _TAIL.match(text, end)
    return m.end() if m else end


def measure_follows(text: str, end: int) -> bool:
    """A measure word follows the number ending at ``end`` (a 2 there is 两)."""
    return _MEASURE.match(text, _ahead(text, end)) is not None


def unit_follows(text: str, end: int) -> bool:
    """A unit, currency or percent sign (not a measure word) follows the number ending at ``end``."""
    return _UNIT.match(text, _ahead(text, end)) is not None


def quantity_follows(text: str, end: int) -> bool:
    """A unit, currency, percent sign or measure word follows the number ending at ``end``."""
    return _QUANTITY.match(text, _ahead(text, end)) is not None


def money_before(text: str, start: int) -> bool:
    """A currency symbol or code is right before ``start`` (¥2019.12 and $2000-2010 are amounts)."""
    return _MONEY_BEFORE.search(text[max(0, start - 5) : start]) is not None


def _starts(text: str, pos: int, words: tuple[str, ...]) -> bool:
    return text.startswith(words, pos)


def _year_span(m: re.Match[str]) -> str:
    text, end = m.string, m.end()
    a, sep, b = m.group(1), m.group(2), m.group(3)
    if not 1000 <= int(a) <= 2999 or money_before(text, m.start()):
        return m.group(0)
    conn = sep if sep in "到至" else "到"
    season = _starts(text, end, SEASON_WORDS)
    if len(b) == 4:
        years = season or text.startswith("年", end) or not quantity_follows(text, end)
        return year(a) + conn + year(b) if int(a) < int(b) <= int(a) + 100 and years else m.group(0)
    if len(b) == 2 and int(b) == (int(a) + 1) % 100 and (season or int(b) > 12):
        return year(a) + conn + year(b)
    if sep == "-" and 1 <= int(b) <= 12 and not quantity_follows(text, end) and not season:
        return year(a) + "年" + cardinal(b) + ("" if text.startswith("月", end) else "月")
    return m.group(0)


def year_spans(text: str) -> str:
    """2019-11 → 二零一九年十一月, 2023-2024 / 2023-24赛季 → 二零二三到二零二四 …; others untouched."""
    return _YEAR_SPAN.sub(_year_span, text)


def is_score(text: str, start: int, end: int, *, colon: bool = False) -> bool:
    """Whether the pair ``text[start:end]`` is a score by the words around it (tables_zh.SCORE_*).
    A colon pair whose second number looks like minutes (9:05) needs more than 以 or 队 before it."""
    if any(w in text[max(0, start - 8) : start] for w in SCORE_CONTEXT):
        return True
    after = text[end:].lstrip()
    if after.startswith(SCORE_AFTER) and not after.startswith(SCORE_AFTER_NOT):
        return True
    minutes = colon and re.search(r":\s*0\d$", text[start:end]) is not None
    return text[:start].rstrip().endswith(SCORE_LEAD) and not minutes


def _score(m: re.Match[str]) -> str:
    text = m.string
    if not is_score(text, m.start(), m.end(), colon=m.group(2) == ":") or quantity_follows(text, m.end()):
        return m.group(0)
    return cardinal(m.group(1)) + "比" + cardinal(m.group(3))


def scores(text: str) -> str:
    """N-M / N:M with score context → N比M (主队3-0取胜 → 三比零); others untouched."""
    return _PAIR.sub(_score, text)


_CALENDAR = frozenset("年月日号號点點时時分秒")


def _same_kind(left: str, right: str | None) -> bool:
    """Whether two suffixes belong to one range: none on the right, a shared character (天/天,
    点半/点), both unit symbols (℃/°C) or both calendar words (1日-2024年1月3日)."""
    if not right:
        return True
    symbols = re.fullmatch(_UNIT_SYMBOLS, left) and re.fullmatch(_UNIT_SYMBOLS, right)
    calendar = _CALENDAR & set(left) and _CALENDAR & set(right)
    return bool(symbols) or bool(calendar) or bool(set(left) & set(right))


def _suffixed(m: re.Match[str]) -> str:
    return m.group(1) + "到" if _same_kind(m.group(2), m.group(3)) else m.group(0)


def _plain(m: re.Match[str]) -> str:
    sa, a, sb, b = m.group(1), m.group(2), m.group(3), m.group(4)
    text, end = m.string, m.end()
    integers = not (sa or sb or "." in a or "." in b)
    if integers and int(b) < int(a) and not unit_follows(text, end) and not _DATE_WORD.match(text, end):
        return cardinal(a) + "杠" + cardinal(b)
    return sa + a + "到" + sb + b


def ranges(text: str, *, one: str = "幺") -> str:
    """Connectors between numbers → 到 (or 杠 for labels and codes); the numbers stay digits."""
    text = _CHAIN.sub(lambda m: "杠".join(digit_string(g, one=one) for g in m.group(0).split("-")), text)
    text = _TIME_RANGE.sub(lambda m: m.group(1) + "到", text)
    text = _SUFFIXED.sub(
        lambda m: m.group(1) + "到" if _same_kind(m.group(2), m.group(3)) else m.group(0), text
    )
    text = _ORDINALS.sub(lambda m: m.group(1) + "到", text)
    return _PLAIN.sub(_plain, text)


def _short_date(m: re.Match[str]) -> str:
    month, day = int(m.group(3)), int(m.group(4))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return m.group(1) + _to(m.group(2)) + cardinal(m.group(3)) + "月" + cardinal(m.group(4)) + "日"


def _to(connector: str) -> str:
    return connector if connector in "到至" else "到"


def date_ranges(text: str) -> str:
    """Ranges of written dates, before they are read: 2024.1.1-2024.1.3 / 2023.09-2024.06 → 到,
    2024.1.1-1.3 → …到一月三日, 2023.09-至今 → …至今, 2023.09-现在 → …到现在."""
    text = _DATE_RANGE.sub(lambda m: m.group(1) + "到", text)
    text = _DATE_RANGE_SHORT.sub(_short_date, text)
    text = _MONTH_RANGE.sub(lambda m: m.group(1) + "到", text)
    text = _UNTIL_NOW.sub(lambda m: ("" if m.group(1) == "至今" else "到") + m.group(1), text)
    return _FRACTIONS.sub(lambda m: m.group(1) + "到", text)


def weekday_ranges(text: str) -> str:
    """周一-周五 → 周一到周五 (a hyphen between weekdays is never said)."""
    return _WEEKDAY_RANGE.sub(lambda m: m.group(1) + "到", text)
