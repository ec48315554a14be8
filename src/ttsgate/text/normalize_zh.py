"""Rule-based Chinese text normalisation (the fast path in front of wetext).

``rules_zh`` rewrites every pattern it recognises into spoken Chinese and leaves anything else
untouched; ``TextNormalizer`` hands a sentence that still holds an Arabic digit to wetext and,
failing that, reads the leftovers digit by digit. Every rewrite consumes digits, so running the
rules on their own output changes nothing (idempotence).
"""

from __future__ import annotations

import re
import unicodedata

from ttsgate.text.dates_zh import dates
from ttsgate.text.latin_zh import rules_latin_zh
from ttsgate.text.numbers_zh import cardinal, decimal, digit_string, signed, year
from ttsgate.text.operators_zh import model_numbers, operators
from ttsgate.text.ranges_zh import (
    date_ranges,
    measure_follows,
    money_before,
    quantity_follows,
    ranges,
    scores,
    weekday_ranges,
    year_spans,
)
from ttsgate.text.script_zh import is_traditional, to_traditional
from ttsgate.text.signs_zh import approx, generations, leading_dots, plus_codes, plus_signs
from ttsgate.text.symbols_zh import symbols_early, symbols_late
from ttsgate.text.tables_zh import (
    CURRENCY_PREFIX,
    FOLD,
    ID_KEYWORDS,
    MATH_OPS,
    PER_UNITS,
    UNITS,
    UNITS_NO_LIANG,
)

_NUM = r"\d+(?:\.\d+)?"
_B = r"(?<![\d.])"  # no digit (or decimal point) before
_E = r"(?![\d])"  # no digit after


def _alt(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


_THOUSANDS = re.compile(_B + r"\d{1,3}(?:,\d{3})+(?![\d,])")
_DATE_YMD = re.compile(_B + r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d.])[日号]?")
_DATE_YM = re.compile(_B + r"(\d{4})[/.](\d{1,2})(?![\d.])")
_DOTTED = re.compile(_B + r"\d+(?:\.\d+){2,}" + _E)
_YEAR_DECADE = re.compile(_B + r"(\d{2}|\d{4})年代")
_YEAR_RANGE = re.compile(_B + r"(\d{4})\s*[-~—–至到]\s*(\d{4})(?=年)")
_ERA_YEAR = re.compile(r"(?<=公元)(前?)(\d{1,4})(?=年)")
_VAR_COMPARE = re.compile(r"(?<![A-Za-z])([A-Za-z])\s*([<>≤≥=≠])\s*(-?" + _NUM + r")(?![\d.])")
_TO = r"\s*([-~—–到至])\s*"  # a range's connector, kept when 到 or 至
_UNIT_RANGE = re.compile(
    r"(?<![\d.A-Za-z])([-+]?)("
    + _NUM
    + r")"
    + _TO
    + r"([-+]?)("
    + _NUM
    + r")\s?("
    + _alt(UNITS)
    + r")(?![A-Za-z²³])"
)
_YEAR = re.compile(_B + r"(\d{4})(?=年)|" + _B + r"(\d{2})(?=年\d{1,2}月)")
_MONTH = re.compile(_B + r"(1[0-2]|0?[1-9])(?=月)")
_DAY = re.compile(r"(?<=月)(3[01]|[12]\d|0?[1-9])(?=[日号號])|" + _B + r"(3[01]|[12]\d|0?[1-9])(?=[日号號])")
_TIME = re.compile(
    _B + r"([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?(?!\d)\s*(a\.m\.|p\.m\.|am|pm|AM|PM)?(?![A-Za-z])"
)
_SCORE = re.compile(_B + r"(\d+)\s*[:：]\s*(\d+)" + _E)
_PERCENT_RANGE = re.compile(r"(?<![\d.A-Za-z])([-+±]?)(" + _NUM + r")%?" + _TO + r"([-+±]?)(" + _NUM + r")%")
_PERCENT = re.compile(r"(?<![\d.A-Za-z])([-+±]?)(" + _NUM + r")\s*([%‰])")
_CURRENCY = re.compile(
    r"(" + _alt(CURRENCY_PREFIX) + r")\s?([-+]?)(" + _NUM + r")\s?([万亿千百]?)"
    r"(?:" + _TO + r"(?:" + _alt(CURRENCY_PREFIX) + r")?\s?([-+]?)(" + _NUM + r")\s?([万亿千百]?))?"
)
_PER_UNIT = re.compile(
    _B + r"(?:(" + _NUM + r")" + _TO + r")?(" + _NUM + r")\s?(" + _alt(PER_UNITS) + r")(?![A-Za-z])"
)
_UNIT = re.compile(r"(?<![\d.A-Za-z第])([-+±]?)(" + _NUM + r")\s?(" + _alt(UNITS) + r")(?![A-Za-z²³])")
_MATH_NUM = r"[-+±]?" + _NUM
_MATH_OP = "[" + re.escape("".join(MATH_OPS)) + "]"
_MATH = re.compile(
    r"(?<![\dA-Za-z.])" + _MATH_NUM + r"(?:\s*" + _MATH_OP + r"\s*" + _MATH_NUM + r")+" + r"(?![\d.])"
)
_MATH_TOKEN = re.compile(r"(" + _NUM + r")|(" + _MATH_OP + r")|(\s+)")
_FRACTION = re.compile(r"(?:(?<![A-Za-z0-9)\]}.])([-+±]))?" + _B + r"(\d+)\s?/\s?(\d+)" + _E)
_ORDINAL = re.compile(r"第(\d+)(?:\s*([到至])\s*(第?)(\d+))?")
_ID = re.compile(r"(" + _alt(ID_KEYWORDS) + r")([是为為:：\s]*)(\+?\d[\d\- ]*\d)")
_PHONE = re.compile(
    _B + r"(\+?86[- ]?)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|0\d{2,3}-\d{3,4}-\d{4}|400-?\d{3}-?\d{4})" + _E
)
_ROOM = re.compile(_B + r"(\d{3,5})(?=室|号房|房间)")
_CODE = re.compile(r"(?<=[A-Za-z])(\d{3,})")
_LETTER_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=\d)")
_LEADING_ZERO = re.compile(_B + r"0\d+" + _E)
_LONG = re.compile(_B + r"\d{17,}" + _E)
_NEGATIVE = re.compile(r"(?<![\dA-Za-z)\]}])[-](?=\d)")
_PLUSMINUS = re.compile(r"±(?=\d)")
_DECIMAL = re.compile(_B + r"\d+\.\d+" + _E)
_INTEGER = re.compile(r"\d+")


_FW_BETWEEN_DIGITS = re.compile(r"(?<=\d)[：．／](?=\d)")
_FW_ASCII = {"：": ":", "．": ".", "／": "/"}


def _to(connector: str) -> str:
    return connector if connector in "到至" else "到"


def _currency(m: re.Match[str]) -> str:
    """The amount (a range: both ends) with trailing zeros dropped, the currency said once after it:
    ¥20-30 → 二十到三十元, ¥1,299.50元 → 一千二百九十九点五元."""
    name = CURRENCY_PREFIX[m.group(1)]
    out = signed(m.group(2)) + decimal(m.group(3), liang=True, trim=True) + m.group(4)
    if m.group(7):
        out += _to(m.group(5)) + signed(m.group(6)) + decimal(m.group(7), liang=True, trim=True) + m.group(8)
    return out + ("" if m.string.startswith((name, "元", "块", "圆"), m.end()) else name)


def _unit(m: re.Match[str]) -> str:
    return signed(m.group(1)) + _unit_value(m.group(2), m.group(3))


def _unit_range(m: re.Match[str]) -> str:
    liang = m.group(6) not in UNITS_NO_LIANG
    left = signed(m.group(1)) + decimal(m.group(2), liang=liang, trim=True)
    return left + _to(m.group(3)) + signed(m.group(4)) + _unit_value(m.group(5), m.group(6))


def _unit_value(number: str, unit: str) -> str:
    return decimal(number, liang=unit not in UNITS_NO_LIANG, trim=True) + UNITS[unit]


def _signed(number: str) -> str:
    return ("负" if number.startswith("-") else "") + decimal(number.lstrip("-"))


def _per_unit(m: re.Match[str]) -> str:
    """10km/h → 每小时十公里; a range shares the 每: 5-10km/h → 每小时五到十公里."""
    per, base = PER_UNITS[m.group(4)]
    low = decimal(m.group(1), liang=True, trim=True) + _to(m.group(2)) if m.group(1) else ""
    return "每" + per + low + decimal(m.group(3), liang=True, trim=True) + base


def _time(m: re.Match[str]) -> str:
    hour, minute, second, ampm = m.group(1), m.group(2), m.group(3), m.group(4)
    second = None if second == "00" else second  # 08:00:00 → 八点
    prefix = ""
    if ampm:
        prefix = "上午" if ampm.lower().startswith("a") else "下午"
    out = prefix + cardinal(hour, liang=True) + "点"
    if minute != "00" or second:
        out += _two_digit(minute) + "分"
    if second:
        out += _two_digit(second) + "秒"
    return out


def _two_digit(value: str) -> str:
    """Minutes and seconds: "05" → 零五, "00" → 零, "30" → 三十."""
    return ("零" if value[0] == "0" and value != "00" else "") + cardinal(value)


def _math(m: re.Match[str]) -> str:
    out: list[str] = []
    prev_is_num = False
    for num, op, _ in _MATH_TOKEN.findall(m.group(0).replace("±", "")):
        if num:
            out.append(decimal(num))
            prev_is_num = True
        elif op:
            if not prev_is_num and op in "-+":
                out.append("负" if op == "-" else "正")
            else:
                out.append(MATH_OPS[op])
            prev_is_num = False
    return "".join(out)


def fold(text: str) -> str:
    """Map full-width and other Unicode decimal digits and symbols to their ASCII forms."""
    text = _FW_BETWEEN_DIGITS.sub(lambda m: _FW_ASCII[m.group(0)], text.translate(FOLD))
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        text = "".join(
            str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, -1) >= 0 else ch
            for ch in text
        )
    return text


def rules_zh(text: str, *, one: str = "幺") -> str:
    """Apply every Chinese rule, in order; returns text that may still hold digits (rare)."""
    trad = is_traditional(text)
    text = symbols_early(weekday_ranges(fold(text)))  # LaTeX, powers, primes, ½ (symbols_zh.py)
    if not re.search(r"[0-9]", text):
        text = symbols_late(text)
        return to_traditional(text) if trad else text
    text = rules_latin_zh(text)  # v2.3.1 → V2.3.1, 1080P → 一零八零P (latin_zh.py)

    def ident(digits: str) -> str:
        return digit_string(digits, one=one)

    text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _ID.sub(lambda m: m.group(1) + m.group(2) + _digits_with_plus(m.group(3), one), text)
    text = _PHONE.sub(lambda m: ("加八六" if m.group(1) else "") + ident(m.group(2)), text)
    text = dates(plus_codes(text, one=one))  # 3.8妇女节, 请于3.15前, 03/15/2024, 19年 (dates_zh.py)
    text = operators(text)  # 满199-20, 湖人110-105勇士, 7x24, 1:2:3, 时长1:30:45 (operators_zh.py)
    text = _DATE_YMD.sub(_ymd, date_ranges(text))
    text = year_spans(text)
    text = _DATE_YM.sub(_ym, text)
    text = _DOTTED.sub(lambda m: "点".join(digit_string(g) for g in m.group(0).split(".")), text)
    text = generations(text)
    text = scores(text)
    text = ranges(text, one=one)
    text = approx(leading_dots(text))
    text = _YEAR_DECADE.sub(lambda m: (year if len(m.group(1)) == 4 else cardinal)(m.group(1)) + "年代", text)
    text = _YEAR_RANGE.sub(lambda m: year(m.group(1)) + "到" + year(m.group(2)), text)
    text = _ERA_YEAR.sub(lambda m: m.group(1) + year(m.group(2)), text)
    text = _YEAR.sub(lambda m: year(m.group(1) or m.group(2)), text)
    text = _MONTH.sub(lambda m: cardinal(m.group(1)), text)
    text = _DAY.sub(lambda m: cardinal(m.group(1) or m.group(2)), text)
    text = _ROOM.sub(lambda m: ident(m.group(1)), text)
    text = _TIME.sub(_time, text)
    text = _SCORE.sub(lambda m: cardinal(m.group(1)) + "比" + cardinal(m.group(2)), text)
    text = _PERCENT_RANGE.sub(_percent_range, text)
    text = _PERCENT.sub(_percent, text)
    text = _CURRENCY.sub(_currency, text)
    text = _PER_UNIT.sub(_per_unit, text)
    text = _UNIT_RANGE.sub(_unit_range, text)
    text = _UNIT.sub(_unit, text)
    text = _VAR_COMPARE.sub(lambda m: m.group(1) + MATH_OPS[m.group(2)] + _signed(m.group(3)), text)
    text = _MATH.sub(lambda m: _math(m) if _is_math(m.group(0)) else m.group(0), text)
    text = _FRACTION.sub(
        lambda m: signed(m.group(1)) + cardinal(m.group(3)) + "分之" + cardinal(m.group(2)), text
    )
    text = _ORDINAL.sub(_ordinal, text)
    text = _CODE.sub(lambda m: ident(m.group(1)), model_numbers(text, one=one))
    text = _LETTER_HYPHEN.sub("", text)
    text = _LEADING_ZERO.sub(lambda m: digit_string(m.group(0)), text)
    text = _LONG.sub(lambda m: ident(m.group(0)), text)
    text = plus_signs(_PLUSMINUS.sub("正负", text))
    text = _NEGATIVE.sub("负", text)
    text = _DECIMAL.sub(_plain_decimal, text)
    text = symbols_late(_INTEGER.sub(_integer, text))
    return to_traditional(text) if trad else text


def _integer(m: re.Match[str]) -> str:
    """A count before a measure word takes 两; a number right after a Latin letter names (CO2, M2)."""
    named = m.start() > 0 and m.string[m.start() - 1].isascii() and m.string[m.start() - 1].isalpha()
    return cardinal(m.group(0), liang=not named and measure_follows(m.string, m.end()))


def _digits_with_plus(raw: str, one: str) -> str:
    prefix = "加" if raw.startswith("+") else ""
    return prefix + digit_string(raw, one=one)


def _valid_md(month: str, day: str | None = None) -> bool:
    return 1 <= int(month) <= 12 and (day is None or 1 <= int(day) <= 31)


def _ymd(m: re.Match[str]) -> str:
    y, mo, d = m.group(1), m.group(3), m.group(4)
    if not _valid_md(mo, d):
        return m.group(0)
    return year(y) + "年" + cardinal(mo) + "月" + cardinal(d) + ("号" if m.group(0).endswith("号") else "日")


def _ym(m: re.Match[str]) -> str:
    y, mo = m.group(1), m.group(2)
    if not _valid_md(mo) or not 1000 <= int(y) <= 2999:
        return m.group(0)
    if quantity_follows(m.string, m.end()) or money_before(m.string, m.start()):
        return m.group(0)  # 2019.12米, ¥1345.01 are decimals
    return year(y) + "年" + cardinal(mo) + "月"


def _plain_decimal(m: re.Match[str]) -> str:
    """A decimal before a unit, currency or measure word drops its trailing zeros (3.50米 → 三点五米,
    2.0公里 → 两公里); elsewhere every written digit is read (1.50 → 一点五零)."""
    text, end = m.string, m.end()
    return decimal(m.group(0), liang=measure_follows(text, end), trim=quantity_follows(text, end))


def _percent(m: re.Match[str]) -> str:
    """The sign goes first (-45% → 负百分之四十五), trailing zeros are dropped (2.50% → 百分之二点五)."""
    head = "百分之" if m.group(3) == "%" else "千分之"
    body = decimal(m.group(2), trim=True)
    return signed(m.group(1)) + head + ("百" if head == "百分之" and body == "一百" else body)


def _percent_range(m: re.Match[str]) -> str:
    left = signed(m.group(1)) + "百分之" + decimal(m.group(2), trim=True)
    return left + _to(m.group(3)) + signed(m.group(4)) + "百分之" + decimal(m.group(5), trim=True)


def _ordinal(m: re.Match[str]) -> str:
    """第3 → 第三; a range of ordinals keeps both ordinal (第1-2名 → 第一到二名, never 两)."""
    out = "第" + cardinal(m.group(1), ordinal=True)
    if m.group(4):
        out += m.group(2) + m.group(3) + cardinal(m.group(4), ordinal=True)
    return out


def _is_math(expr: str) -> bool:
    ops = re.findall(_MATH_OP, expr)
    return any(op not in "-/" for op in ops)
