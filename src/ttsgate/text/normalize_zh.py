"""Rule-based Chinese text normalisation (the fast path in front of wetext).

``rules_zh`` rewrites every pattern it recognises into spoken Chinese and leaves anything else
untouched; ``TextNormalizer`` hands a sentence that still holds an Arabic digit to wetext and,
failing that, reads the leftovers digit by digit. Every rewrite consumes digits, so running the
rules on their own output changes nothing (idempotence).
"""

from __future__ import annotations

import re
import unicodedata

from ttsgate.text.numbers_zh import cardinal, decimal, digit_string, year
from ttsgate.text.tables_zh import (
    CURRENCY_PREFIX,
    FOLD,
    ID_KEYWORDS,
    MATH_OPS,
    MEASURE_MULTI,
    MEASURE_WORDS,
    PER_UNITS,
    SCORE_KEYWORDS,
    UNITS,
    UNITS_NO_LIANG,
)

_NUM = r"\d+(?:\.\d+)?"
_B = r"(?<![\d.])"  # no digit (or decimal point) before
_E = r"(?![\d])"  # no digit after
_MEASURE = "(?:" + "|".join(MEASURE_MULTI) + "|[" + MEASURE_WORDS + "])"
_MEASURE_AHEAD = re.compile(_MEASURE)


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
_UNIT_RANGE = re.compile(
    r"(?<![\d.A-Za-z])(" + _NUM + r")\s*[-~—–]\s*(" + _NUM + r")\s?(" + _alt(UNITS) + r")(?![A-Za-z²³])"
)
_YEAR = re.compile(_B + r"(\d{4})(?=年)|" + _B + r"(\d{2})(?=年\d{1,2}月)")
_MONTH = re.compile(_B + r"(1[0-2]|0?[1-9])(?=月)")
_DAY = re.compile(r"(?<=月)(3[01]|[12]\d|0?[1-9])(?=[日号])|" + _B + r"(3[01]|[12]\d|0?[1-9])(?=[日号])")
_TIME = re.compile(
    _B + r"([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?(?!\d)\s*(a\.m\.|p\.m\.|am|pm|AM|PM)?(?![A-Za-z])"
)
_SCORE = re.compile(_B + r"(\d+)\s*[:：]\s*(\d+)" + _E)
_SCORE_DASH = re.compile("(" + _alt(SCORE_KEYWORDS) + r")(\s*)(\d+)\s*[-–—]\s*(\d+)" + _E)
_PERCENT_RANGE = re.compile(_B + r"(" + _NUM + r")%?\s*[-~—–至到]\s*(" + _NUM + r")%")
_PERCENT = re.compile(r"(?<![\d.A-Za-z])([-+±]?)(" + _NUM + r")\s*([%‰])")
_CURRENCY = re.compile(r"(" + _alt(CURRENCY_PREFIX) + r")\s?(-?)(" + _NUM + r")\s?([万亿千百]?)")
_PER_UNIT = re.compile(_B + r"(" + _NUM + r")\s?(" + _alt(PER_UNITS) + r")(?![A-Za-z])")
_UNIT = re.compile(r"(?<![\d.A-Za-z])(-?)(" + _NUM + r")\s?(" + _alt(UNITS) + r")(?![A-Za-z²³])")
_MATH_NUM = r"[-+±]?" + _NUM
_MATH_OP = "[" + re.escape("".join(MATH_OPS)) + "]"
_MATH = re.compile(
    r"(?<![\dA-Za-z.])" + _MATH_NUM + r"(?:\s*" + _MATH_OP + r"\s*" + _MATH_NUM + r")+" + r"(?![\d.])"
)
_MATH_TOKEN = re.compile(r"(" + _NUM + r")|(" + _MATH_OP + r")|(\s+)")
_FRACTION = re.compile(_B + r"(\d+)\s?/\s?(\d+)" + _E)
_RANGE = re.compile(r"(?<![\d.A-Za-z-])(" + _NUM + r")\s*[-~—–]\s*(" + _NUM + r")" + _E)
_ORDINAL = re.compile(r"(第)(\d+)")
_ID = re.compile(r"(" + _alt(ID_KEYWORDS) + r")([是为:：\s]*)(\+?\d[\d\- ]*\d)")
_PHONE = re.compile(_B + r"(\+?86[- ]?)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4})" + _E)
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


def _liang_next(text: str, end: int) -> bool:
    return _MEASURE_AHEAD.match(text, end) is not None


def _currency(m: re.Match[str]) -> str:
    sign = "负" if m.group(2) else ""
    return sign + decimal(m.group(3), liang=True) + m.group(4) + CURRENCY_PREFIX[m.group(1)]


def _unit(m: re.Match[str]) -> str:
    return ("负" if m.group(1) else "") + _unit_value(m.group(2), m.group(3))


def _unit_value(number: str, unit: str) -> str:
    return decimal(number, liang=unit not in UNITS_NO_LIANG) + UNITS[unit]


def _signed(number: str) -> str:
    return ("负" if number.startswith("-") else "") + decimal(number.lstrip("-"))


def _per_unit(m: re.Match[str]) -> str:
    per, base = PER_UNITS[m.group(2)]
    return "每" + per + decimal(m.group(1)) + base


def _time(m: re.Match[str]) -> str:
    hour, minute, second, ampm = m.group(1), m.group(2), m.group(3), m.group(4)
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
    text = fold(text)
    if not re.search(r"[0-9]", text):
        return text

    def ident(digits: str) -> str:
        return digit_string(digits, one=one)

    text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _ID.sub(lambda m: m.group(1) + m.group(2) + _digits_with_plus(m.group(3), one), text)
    text = _PHONE.sub(lambda m: ("加八六" if m.group(1) else "") + ident(m.group(2)), text)
    text = _DATE_YMD.sub(_ymd, text)
    text = _DATE_YM.sub(_ym, text)
    text = _DOTTED.sub(lambda m: "点".join(digit_string(g) for g in m.group(0).split(".")), text)
    text = _YEAR_DECADE.sub(lambda m: (year if len(m.group(1)) == 4 else cardinal)(m.group(1)) + "年代", text)
    text = _YEAR_RANGE.sub(lambda m: year(m.group(1)) + "到" + year(m.group(2)), text)
    text = _ERA_YEAR.sub(lambda m: m.group(1) + year(m.group(2)), text)
    text = _YEAR.sub(lambda m: year(m.group(1) or m.group(2)), text)
    text = _MONTH.sub(lambda m: cardinal(m.group(1)), text)
    text = _DAY.sub(lambda m: cardinal(m.group(1) or m.group(2)), text)
    text = _ROOM.sub(lambda m: ident(m.group(1)), text)
    text = _SCORE_DASH.sub(lambda m: m.group(1) + m.group(2) + _score(m.group(3), m.group(4)), text)
    text = _TIME.sub(lambda m: _score_or_time(text, m), text)
    text = _SCORE.sub(lambda m: _score(m.group(1), m.group(2)), text)
    text = _PERCENT_RANGE.sub(
        lambda m: "百分之" + decimal(m.group(1)) + "到百分之" + decimal(m.group(2)), text
    )
    text = _PERCENT.sub(_percent, text)
    text = _CURRENCY.sub(_currency, text)
    text = _PER_UNIT.sub(_per_unit, text)
    text = _UNIT_RANGE.sub(lambda m: decimal(m.group(1)) + "到" + _unit_value(m.group(2), m.group(3)), text)
    text = _UNIT.sub(_unit, text)
    text = _VAR_COMPARE.sub(lambda m: m.group(1) + MATH_OPS[m.group(2)] + _signed(m.group(3)), text)
    text = _MATH.sub(lambda m: _math(m) if _is_math(m.group(0)) else m.group(0), text)
    text = _FRACTION.sub(lambda m: cardinal(m.group(2)) + "分之" + cardinal(m.group(1)), text)
    text = _RANGE.sub(lambda m: _range(text, m), text)
    text = _ORDINAL.sub(lambda m: m.group(1) + cardinal(m.group(2), ordinal=True), text)
    text = _CODE.sub(lambda m: ident(m.group(1)), text)
    text = _LETTER_HYPHEN.sub("", text)
    text = _LEADING_ZERO.sub(lambda m: digit_string(m.group(0)), text)
    text = _LONG.sub(lambda m: ident(m.group(0)), text)
    text = _PLUSMINUS.sub("正负", text)
    text = _NEGATIVE.sub("负", text)
    text = _DECIMAL.sub(lambda m: decimal(m.group(0)), text)
    return _INTEGER.sub(lambda m: cardinal(m.group(0), liang=_liang_next(m.string, m.end())), text)


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
    return year(y) + "年" + cardinal(mo) + "月"


def _score(a: str, b: str) -> str:
    return cardinal(a) + "比" + cardinal(b)


def _score_or_time(text: str, m: re.Match[str]) -> str:
    before = text[max(0, m.start() - 8) : m.start()]
    if any(k in before for k in SCORE_KEYWORDS) and not m.group(3) and not m.group(4):
        return _score(m.group(1), m.group(2))
    return _time(m)


def _percent(m: re.Match[str]) -> str:
    sign = {"-": "负", "+": "正", "±": "正负"}.get(m.group(1), "")
    head = "百分之" if m.group(3) == "%" else "千分之"
    if m.group(2) == "100" and head == "百分之" and not sign:
        return "百分之百"
    return head + sign + decimal(m.group(2))


def _is_math(expr: str) -> bool:
    ops = re.findall(_MATH_OP, expr)
    return any(op not in "-/" for op in ops)


def _range(text: str, m: re.Match[str]) -> str:
    liang = _liang_next(text, m.end())
    return decimal(m.group(1), liang=liang) + "到" + decimal(m.group(2), liang=liang)
