"""Signs and dots next to numbers in Chinese text that a voice would drop or misread, and the
numbers read digit by digit by convention rather than by rule (generations).

- ``+`` (``plus_codes`` early, ``plus_signs`` late): a country code is 加 and its digits
  (+86 → 加八六, +1 415 555 0100 → 加幺四幺五…); a plus left before a number after the signed
  rules (percent, units, fractions, math: 正) is said 加 (+1, 经验+100 → 经验加一百); after a
  number it is "or more": 100+人 → 一百多人, 18+ → 十八加;
- a leading dot (``leading_dots``): .38口径 → 点三八口径 (said as written, as for calibres);
  before a unit or percent sign it is a decimal, .5米 → 零点五米;
- a tilde before a number that starts no range (``approx``): ~5分钟 → 约五分钟;
- generations (``generations``): 95后, 00后, 80-90后 → 九五后, 零零后, 八零到九零后.
"""

from __future__ import annotations

import re

from ttsgate.text.numbers_zh import digit_string
from ttsgate.text.ranges_zh import SEP, alt, measure_follows, unit_follows
from ttsgate.text.tables_zh import COUNTRY_CODES

_NO_OPERAND = r"(?<![\dA-Za-z)\]}%‰℃°])"
_PLUS_PHONE = re.compile(_NO_OPERAND + r"\+(\d{1,3})[\s-]?((?:\d[\s-]?){6,13}\d)(?![\d.])")
_PLUS_CODE = re.compile(_NO_OPERAND + r"\+(" + alt(COUNTRY_CODES) + r")(?![\d.])")
_PLUS = re.compile(_NO_OPERAND + r"\+(?=\d)")
_PLUS_AFTER = re.compile(r"(?:(?<=\d)|(?<=\d[万亿萬億]))\+(?![\d+])(?!\s*\d)")  # 10万+
_LEADING_DOT = re.compile(r"(?<![A-Za-z0-9.])\.(\d+)(?![\d.])")
_APPROX = re.compile(_NO_OPERAND + r"~\s?(?=\d)")
_NOT_AFTER = r"(?![面边邊头頭来來])"
_GENERATION = re.compile(
    r"(?<![\d.第])(\d{2})([后後]" + _NOT_AFTER + r")?(" + SEP + r")(?=\d{2}[后後])"
    r"|(?<![\d.第])(\d{2})(?=[后後]" + _NOT_AFTER + ")"
)


def plus_codes(text: str, *, one: str = "幺") -> str:
    """+86 / +852 … and a plus before a phone number → 加 and digits."""
    text = _PLUS_PHONE.sub(
        lambda m: "加" + digit_string(m.group(1), one=one) + digit_string(m.group(2), one=one), text
    )
    return _PLUS_CODE.sub(lambda m: "加" + digit_string(m.group(1), one=one), text)


def plus_signs(text: str) -> str:
    """A plus still before a number (after the signed rules) → 加; after a number it means "or
    more": 多 before a unit or measure word (100+人 → 一百多人), else 加 (18+ → 十八加)."""
    text = _PLUS_AFTER.sub(lambda m: "多" if _more(m.string, m.end()) else "加", text)
    return _PLUS.sub("加", text)


def _more(text: str, end: int) -> bool:
    return measure_follows(text, end) or unit_follows(text, end)


def _leading_dot(m: re.Match[str]) -> str:
    if unit_follows(m.string, m.end()):
        return "0." + m.group(1)
    return "点" + digit_string(m.group(1))


def leading_dots(text: str) -> str:
    """.38口径 → 点三八口径; .5米 → 0.5米 (a decimal, read by the later rules)."""
    return _LEADING_DOT.sub(_leading_dot, text)


def approx(text: str) -> str:
    """~5分钟 → 约5分钟 (a tilde that starts no range)."""
    return _APPROX.sub("约", text)


def _generation(m: re.Match[str]) -> str:
    if m.group(4):
        return digit_string(m.group(4))
    return digit_string(m.group(1)) + (m.group(2) or "") + "到"


def generations(text: str) -> str:
    """Two digits before 后 (a generation, 九五后) are read digit by digit."""
    return _GENERATION.sub(_generation, text)
