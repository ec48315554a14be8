"""Chinese date conventions that look like decimals, fractions or plain numbers.

``rules_zh`` runs ``dates`` before it reads any number (after full dates and phone numbers):

- a month.day or month/day before a festival or an event is its name, said as the digits are
  (3.8妇女节 → 三八妇女节, 6.18大促 → 六一八大促, 10.1国庆 → 十一国庆, 9/11事件 → 九一一事件,
  11.11 → 双十一); a 3–4 digit day name before one is read digit by digit with 一 (618购物节 →
  六一八, 1024程序员节 → 一零二四, 315晚会 → 三一五; 1111/1212 → 双十一/双十二);
- a month.day or month/day where the words around it say "date" (请于3.15前, 截至3/15, 3/15开会,
  活动时间3.1-3.31) is 三月十五日 (a range: both ends);
- a full date with the year last (03/15/2024, 15.03.2024) is 二零二四年三月十五日 (the first number
  is the day when it is over 12, else the month, as US software writes it);
- a two-digit year (19年我去了北京, 19年底, 从19年到21年) is said digit by digit like 24年3月; after
  a verb (工作了19年) or before 前/后/来/内/多 (19年前) it is a duration;
- a year before a quarter or half (2024 Q3, 2024H1) is a year;
- slash pairs that are no fractions: 24/7 → 二十四七 (the idiom, its two numbers), a split that
  sums to 100 → 比 (50/50 → 五十比五十, 80/20 → 八十比二十). Other slash pairs stay fractions.
"""

from __future__ import annotations

import re

from ttsgate.text.measures_zh import MEASURE_RE
from ttsgate.text.numbers_zh import cardinal, digit_string, year
from ttsgate.text.ranges_zh import quantity_follows
from ttsgate.text.script_zh import with_traditional

#: Words right after a date that make it a festival or event name (plus any word ending in 节).
FESTIVALS = with_traditional(
    (
        "晚会", "大促", "促销", "购物节", "狂欢节", "国庆", "纪念日", "事件", "事变", "惨案", "运动",
        "特卖", "年中大促", "消费者权益日", "表白日", "光棍节",
    )
)  # fmt: skip
#: Words right before a month.day that make it a date (请于3.15前, 截至3/15, 活动时间3.1-3.31).
DATE_BEFORE = with_traditional(
    (
        "截至", "截止", "截止到", "请于", "将于", "定于", "已于", "拟于", "须于", "需于", "应于", "均于",
        "最晚于", "最迟于", "日期", "时间", "有效期至", "即日起至",
    )
)  # fmt: skip
#: Words right after a month.day that make it a date (3.15前, 3/15开会).
DATE_AFTER = with_traditional(
    (
        "前", "之前", "以前", "当天", "当日", "开始", "起", "截止", "到期", "以后", "之后", "举行", "举办",
        "开幕", "开会", "开学", "上线", "出发", "发货", "生效", "上午", "下午", "晚上", "中午",
    )
)  # fmt: skip
#: Words after "NN年" that make it a duration (19年前, 19年来), not a two-digit year.
_DURATION_AFTER = with_traditional(
    ("前", "后", "多", "来", "内", "间", "里", "以", "左右", "之久", "半", "过", "头", "頭")
)


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MD = r"(1[0-2]|0?[1-9])([./])(3[01]|[12]\d|0?[1-9])"
_HAN = r"[\u4e00-\u9fff]"
_FESTIVAL = r"\s?(?:" + _alt(FESTIVALS) + r"|(?!" + MEASURE_RE.pattern + r")" + _HAN + r"{1,4}[节節])"
_FESTIVAL_MD = re.compile(r"(?<![\d.A-Za-z])" + _MD + r"(?![\d.])(?=" + _FESTIVAL + ")")
_FESTIVAL_DIGITS = re.compile(r"(?<![\d.A-Za-z])(\d{3,4})(?![\d.])(?=" + _FESTIVAL + ")")
_DASH = r"\s*(?:——|[-~—–至到])\s*"
_MD2 = r"(?:(" + _DASH + r")(1[0-2]|0?[1-9])[./](3[01]|[12]\d|0?[1-9]))?(?![\d./])"
_MD_BEFORE = re.compile(
    r"(?:" + "|".join("(?<=" + re.escape(w) + ")" for w in DATE_BEFORE) + r")([:：为為是]?\s*)" + _MD + _MD2
)
_MD_AFTER = re.compile(
    r"(?<![\d.A-Za-z/])(?<![A-Za-z]\s)(?<!版本)(?<!版)" + _MD + _MD2 + r"(?=\s?(?:" + _alt(DATE_AFTER) + "))"
)
_DMY = re.compile(r"(?<![\d./-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\d./-])")
_TWO_DIGIT_YEAR = re.compile(
    r"(?:(?<=^)|(?<=[，,。；;：:\s（(“\"在于从到自至是])|(?<=截至))(\d{2})(?=年)"
    r"(?!年(?:" + _alt(_DURATION_AFTER) + "))"
    r"|(?<![\d.])(\d{2})(?=年(?:底|初|末|中|春|夏|秋|冬|上半年|下半年))"
)
_YEAR_QUARTER = re.compile(r"(?<![\d.])(19\d{2}|20\d{2})(?=\s?[QH][1-4](?!\d))")
_SLASH_PAIR = re.compile(r"(?<![\d./])(\d{1,3})/(\d{1,3})(?![\d./])")


def md_name(month: str, day: str) -> str:
    """The spoken name of a festival date: 3.8 → 三八, 6.18 → 六一八, 10.1 → 十一, 11.11 → 双十一."""
    m, d = int(month), int(day)
    if m == d and m in (11, 12):
        return "双" + cardinal(str(m))
    return cardinal(str(m)) + digit_string(str(d))


def md_date(month: str, day: str) -> str:
    """三月十五日."""
    return cardinal(str(int(month))) + "月" + cardinal(str(int(day))) + "日"


def _day_digits(m: re.Match[str]) -> str:
    digits = m.group(1)
    month, day = (digits[:2], digits[2:]) if len(digits) == 4 else (digits[0], digits[1:])
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return digits
    if month == day and int(month) in (11, 12):
        return md_name(month, day)
    return digit_string(digits)


def _range_dates(m1: str, d1: str, dash: str | None, m2: str | None, d2: str | None) -> str:
    out = md_date(m1, d1)
    if dash and m2 and d2:
        conn = dash.strip()
        out += (conn if conn in "至到" else "到") + md_date(m2, d2)
    return out


def _dmy(m: re.Match[str]) -> str:
    a, b, y = int(m.group(1)), int(m.group(3)), m.group(4)
    month, day = (b, a) if a > 12 else (a, b)
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1000 <= int(y) <= 2999):
        return m.group(0)
    return year(y) + "年" + md_date(str(month), str(day))


def _slash_pair(m: re.Match[str]) -> str:
    a, b = int(m.group(1)), int(m.group(2))
    if (a, b) == (24, 7):
        return "二十四七"
    if a + b == 100 and a >= b:
        return cardinal(m.group(1)) + "比" + cardinal(m.group(2))
    return m.group(0)


def _md_before(m: re.Match[str]) -> str:
    if quantity_follows(m.string, m.end()):
        return m.group(0)  # 截至3.5万人: an amount
    return m.group(1) + _range_dates(m.group(2), m.group(4), m.group(5), m.group(6), m.group(7))


def _md_after(m: re.Match[str]) -> str:
    return _range_dates(m.group(1), m.group(3), m.group(4), m.group(5), m.group(6))


def dates(text: str) -> str:
    """Every rule of this module, in order (see the module docstring)."""
    text = _DMY.sub(_dmy, text)
    text = _FESTIVAL_MD.sub(lambda m: md_name(m.group(1), m.group(3)), text)
    text = _FESTIVAL_DIGITS.sub(_day_digits, text)
    text = _MD_BEFORE.sub(_md_before, text)
    text = _MD_AFTER.sub(_md_after, text)
    text = _YEAR_QUARTER.sub(lambda m: year(m.group(1)), text)
    text = _SLASH_PAIR.sub(_slash_pair, text)
    if "年" in text:
        text = _TWO_DIGIT_YEAR.sub(lambda m: digit_string(m.group(1) or m.group(2)), text)
    return text
