"""Chinese number verbalisation: cardinals, decimals, digit strings, years.

Pure functions over digit strings (``"1234"``, ``"3.14"``); the regex rules in
``normalize_zh`` decide which of them a piece of text needs.
"""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")

#: Longest integer read as a cardinal; longer digit runs are read digit by digit.
MAX_CARDINAL_DIGITS = 16


def _four(group: str, *, liang_qian: bool = True) -> str:
    """A 1..4 digit group; a 2 in the 千 place is 两 unless ``liang_qian`` is off."""
    out: list[str] = []
    n = len(group)
    zero = False
    for i, ch in enumerate(group):
        d = int(ch)
        unit = _SMALL_UNITS[n - 1 - i]
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(("两" if d == 2 and unit == "千" and liang_qian else DIGITS[d]) + unit)
    return "".join(out)


def cardinal(digits: str, *, liang: bool = False, ordinal: bool = False) -> str:
    """Read an unsigned integer string as a Chinese cardinal.

    ``liang`` reads a lone 2 as 两 (before a measure word). As Mandarin speakers say it, a 2 in
    a 千 place is 两 (两千, 一万两千) and a leading 2 before 百/万/亿 is 两 (两百, 两万), except in
    ordinals (``ordinal``: 第二百, 第二千). 十 is never 一十 at the start ("15" → 十五) but is
    inside ("115" → 一百一十五).
    """
    digits = digits.lstrip("0")
    if not digits:
        return "零"
    if len(digits) > MAX_CARDINAL_DIGITS:
        return digit_string(digits)
    groups: list[str] = []
    rest = digits
    while rest:
        groups.insert(0, rest[-4:])
        rest = rest[:-4]
    out: list[str] = []
    pending_zero = False
    for idx, group in enumerate(groups):
        big = _BIG_UNITS[len(groups) - 1 - idx]
        if int(group) == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group[0] == "0"):
            out.append("零")
        pending_zero = False
        out.append(_four(group.lstrip("0"), liang_qian=not ordinal) + big)
    text = "".join(out)
    if text.startswith("一十"):
        text = text[1:]
    if not ordinal and text.startswith("二") and len(text) > 1 and text[1] in "百千万亿":
        text = "两" + text[1:]
    if liang and text == "二":
        text = "两"
    return text


def digit_string(digits: str, *, one: str = "一") -> str:
    """Read digit by digit: ``"110"`` → 幺幺零 when ``one="幺"``."""
    return "".join(one if ch == "1" else DIGITS[int(ch)] for ch in digits if ch.isascii() and ch.isdigit())


def decimal(number: str, *, liang: bool = False, trim: bool = False) -> str:
    """``"3.14"`` → 三点一四; ``"2"`` with ``liang`` → 两.

    ``trim`` drops trailing zeros of the fraction, as a quantity with a unit or currency is said
    (``"3.50"`` → 三点五, ``"100.00"`` → 一百, liang applying again to a whole 2); without it every
    written digit is read (``"1.50"`` → 一点五零: versions, odds, digit-reading contexts).
    """
    if "." not in number:
        return cardinal(number, liang=liang)
    whole, frac = number.split(".", 1)
    if trim:
        frac = frac.rstrip("0")
        if not frac:
            return cardinal(whole or "0", liang=liang)
    return cardinal(whole or "0") + "点" + digit_string(frac)


def signed(sign: str | None) -> str:
    """The spoken sign before a number: ``"-"`` → 负, ``"+"`` → 正, ``"±"`` → 正负, else nothing."""
    return {"-": "负", "+": "正", "±": "正负"}.get(sign or "", "")


def year(digits: str) -> str:
    """Years are read digit by digit with 一 (never 幺): 2026 → 二零二六."""
    return digit_string(digits)
