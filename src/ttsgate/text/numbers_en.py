"""English number words: cardinals, ordinals, years, decimals, digit strings."""

from __future__ import annotations

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
MAX_CARDINAL_DIGITS = 15


def _below_1000(n: int) -> str:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append(_ONES[n])
    elif n or not words:
        words.append(_ONES[n])
    return " ".join(words)


def cardinal(digits: str) -> str:
    """``"1234"`` → one thousand two hundred thirty four (American style, no "and")."""
    digits = digits.lstrip("0") or "0"
    if len(digits) > MAX_CARDINAL_DIGITS:
        return digit_string(digits)
    n = int(digits)
    if n == 0:
        return "zero"
    words: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            words += [_below_1000(n // value), name]
            n %= value
    if n:
        words.append(_below_1000(n))
    return " ".join(words)


def ordinal(digits: str) -> str:
    """``"21"`` → twenty first."""
    words = cardinal(digits).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def digit_string(digits: str) -> str:
    return " ".join(_ONES[int(ch)] for ch in digits if ch.isascii() and ch.isdigit())


def decimal(number: str) -> str:
    if "." not in number:
        return cardinal(number)
    whole, frac = number.split(".", 1)
    return cardinal(whole or "0") + " point " + digit_string(frac)


def year(digits: str) -> str:
    """1999 → nineteen ninety nine; 2000 → two thousand; 2005 → two thousand five; 1905 → nineteen oh five."""
    n = int(digits)
    if len(digits) != 4 or n < 1000:
        return cardinal(digits)
    hi, lo = divmod(n, 100)
    if n % 1000 == 0 or 2000 <= n < 2010:
        return cardinal(digits)
    if lo == 0:
        return cardinal(str(hi)) + " hundred"
    if lo < 10:
        return cardinal(str(hi)) + " oh " + _ONES[lo]
    return cardinal(str(hi)) + " " + cardinal(str(lo))


def plural_year(digits: str) -> str:
    """1990s → nineteen nineties; 80s → eighties."""
    words = (year(digits) if len(digits) == 4 else cardinal(digits)).split()
    last = words[-1]
    words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return " ".join(words)
