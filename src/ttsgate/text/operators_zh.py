"""Operators between numbers whose meaning is not the range, fraction or time the later rules assume.

``rules_zh`` runs ``operators`` before the ranges, scores and times (numbers still digits) and
``model_numbers`` before the letter-digit codes:

- a shop coupon: 满199-20 → 满一百九十九减二十 (满 … 减, the hyphen is the discount);
- a score between two team names: 湖人110-105勇士 → 湖人一百一十比一百零五勇士 (a Han word of two
  or more characters on each side, no measure, unit or date word after, no label or function word
  before: 图3-1所示 stays a label, 范围10-20之间 a range);
- a product or a size: 7x24小时 → 七乘二十四小时, 1920x1080 → 一千九百二十乘一千零八十 (both
  numbers read by one rule; ``0x`` is hexadecimal and left alone);
- a ratio of three or more terms: 1:2:3的比例 → 一比二比三 (not a time: 13:10:00 stays 十三点十分);
- a duration: 时长1:30:45 → 一小时三十分四十五秒, 用时2:30 → 两分三十秒 (``DURATION_WORDS`` right
  before), 1h30min → 一小时三十分钟, 1m30s → 一分钟三十秒;
- a current: 5A电流, 5V2A → 五安 (A after a number is 安 next to an electrical word or after volts;
  5A景区 stays the letter);
- thousands grouped with spaces: 1 000 000 → 一百万 (not between a name and a number: iPhone 15 128G);
- a model number after an all-capital name: RTX 4090 → RTX四零九零, as RTX4090 is read.
"""

from __future__ import annotations

import re

from ttsgate.text.numbers_zh import cardinal, decimal, digit_string
from ttsgate.text.ranges_zh import quantity_follows
from ttsgate.text.script_zh import with_traditional

#: Words right before "H:MM:SS" or "M:SS" that make it a duration (时长1:30:45).
DURATION_WORDS = with_traditional(
    ("时长", "总时长", "用时", "耗时", "历时", "片长", "成绩", "计时", "持续", "全长", "配速")
)
#: Words after a pair that make it a range, not a score (范围10-20之间).
_RANGE_AFTER = with_traditional(("之间", "左右", "以内", "以上", "以下", "不等", "之内", "上下", "范围"))
#: Last characters of the word before a pair that rule out a score (a label, a function word).
_NOT_TEAM_END = "图表式例章节条款页附第在从约于是为有达至到由共和与及或的了着过等介约需要年月日号"
#: Electrical words around a current in amperes.
_ELECTRIC = with_traditional(
    ("电流", "充电", "快充", "保险丝", "插座", "电源", "适配器", "输出", "输入", "额定")
)

_NUM = r"\d+(?:\.\d+)?"
_HAN = r"[\u4e00-\u9fff]"
_COUPON = re.compile(r"(满|滿)\s?(\d+)\s?[-－—–减減]\s?(\d+)(?![\d.])")
_TEAMS = re.compile(r"(?<=" + _HAN + _HAN + r")\s?(\d{1,3})\s?[-–—]\s?(\d{1,3})\s?(?=" + _HAN + _HAN + ")")
_PRODUCT = re.compile(r"(?<![\dA-Za-z.])(" + _NUM + r")((?:\s?[xX×]\s?" + _NUM + r")+)(?![\dA-Za-z.])")
_RATIO = re.compile(r"(?<![\d.:])(\d+(?:\.\d+)?)((?:\s?[:：]\s?\d+(?:\.\d+)?){2,})(?![\d.:])")
_CLOCK = re.compile(r"(\d{1,2})(?::([0-5]\d))+")
_DURATION = re.compile(
    r"(" + "|".join(re.escape(w) for w in sorted(DURATION_WORDS, key=len, reverse=True))
    + r")([为為是:：\s]*)"
    r"(\d{1,3}):([0-5]\d)(?::([0-5]\d(?:\.\d+)?))?(?![\d:])"
)  # fmt: skip
_HMS = re.compile(
    r"(?<![\d.A-Za-z])(\d+)\s?h\s?(\d+)\s?(?:min|m)(?:\s?(\d+)\s?s)?(?![A-Za-z])"
    r"|(?<![\d.A-Za-z])(\d+)\s?(?:min|m)\s?(\d+)\s?s(?![A-Za-z])"
)
_AMPERE = re.compile(r"(?:(?<=\d[Vv])|(?<![\d.A-Za-z]))(" + _NUM + r")\s?A(?![A-Za-z])")
_SPACED = re.compile(r"(?<![\d.,])\d{1,3}(?:[  \u202f\u2009]\d{3})+(?![\d.,])")
_MODEL = re.compile(r"(?<=[A-Z][A-Z] )(\d{3,})(?![\d.])")


def _coupon(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2) + ("減" if m.group(1) == "滿" else "减") + m.group(3)


def _teams(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    after = text[end:]
    if text[start - 1] in _NOT_TEAM_END or after.startswith(_RANGE_AFTER) or quantity_follows(text, end):
        return m.group(0)
    return cardinal(m.group(1)) + "比" + cardinal(m.group(2))


def _product(m: re.Match[str]) -> str:
    if m.group(1) == "0" and m.group(2).lstrip()[0] in "xX":
        return m.group(0)  # 0x10: hexadecimal
    factors = [m.group(1), *re.findall(_NUM, m.group(2))]
    return "乘".join(decimal(f) for f in factors)


def _ratio(m: re.Match[str]) -> str:
    text = m.string
    terms = [m.group(1), *re.findall(_NUM, m.group(2))]
    clock = _CLOCK.fullmatch(re.sub(r"\s|：", lambda c: ":" if c.group(0) == "：" else "", m.group(0)))
    if clock and "比" not in text[m.end() : m.end() + 4] and int(terms[0]) <= 24:
        return m.group(0)  # 13:10:00 is a time
    return "比".join(decimal(t) for t in terms)


def _duration(m: re.Match[str]) -> str:
    a, b, c = m.group(3), m.group(4), m.group(5)
    head = m.group(1) + m.group(2)
    if c is None:  # M:SS
        return head + cardinal(a, liang=True) + "分" + _seconds(b)
    out = head + (cardinal(a, liang=True) + "小时" if int(a) else "")
    out += cardinal(b) + "分" if int(b) else ""
    return out + _seconds(c)


def _seconds(value: str) -> str:
    return "" if float(value) == 0 else decimal(value.lstrip("0") or "0", trim=True) + "秒"


def _hms(m: re.Match[str]) -> str:
    if m.group(4):
        return cardinal(m.group(4), liang=True) + "分钟" + cardinal(m.group(5), liang=True) + "秒"
    out = cardinal(m.group(1), liang=True) + "小时" + cardinal(m.group(2), liang=True) + "分钟"
    return out + (cardinal(m.group(3), liang=True) + "秒" if m.group(3) else "")


def _ampere(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    near = text[max(0, start - 6) : start] + text[end : end + 4]
    after_volts = text[max(0, start - 1) : start] == "V"
    if not (after_volts or any(w in near for w in _ELECTRIC)):
        return m.group(0)
    return decimal(m.group(1), liang=True, trim=True) + "安"


def _spaced(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    before = text[max(0, start - 2) : start].rstrip()
    if (before and before[-1].isascii() and before[-1].isalnum()) or (
        end < len(text) and text[end].isalpha()
    ):
        return m.group(0)
    return re.sub(r"\s", "", m.group(0))


def operators(text: str) -> str:
    """Coupons, team scores, products, ratios, durations, currents and spaced thousands (above)."""
    text = _SPACED.sub(_spaced, text)
    text = _COUPON.sub(_coupon, text)
    text = _DURATION.sub(_duration, text)
    text = _HMS.sub(_hms, text)
    text = _RATIO.sub(_ratio, text)
    text = _PRODUCT.sub(_product, text)
    text = _AMPERE.sub(_ampere, text)
    return _TEAMS.sub(_teams, text)


def model_numbers(text: str, *, one: str = "幺") -> str:
    """RTX 4090 → RTX 四零九零: three or more digits after an all-capital name, as RTX4090 is read."""
    return _MODEL.sub(
        lambda m: m.group(0) if quantity_follows(m.string, m.end()) else digit_string(m.group(1), one=one),
        text,
    )
