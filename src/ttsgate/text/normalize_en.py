"""Rule-based English normalisation for English voices (and "en" runs inside Chinese text).

Like the Chinese rules, each rewrite consumes the digits or abbreviation it matched, so the
output is a fixed point. Numbers are read American style without "and".
"""

from __future__ import annotations

import re

from ttsgate.text.forms_en import comparisons, forms_en
from ttsgate.text.numbers_en import cardinal, decimal, digit_string, ordinal, plural_year, year
from ttsgate.text.tables_zh import FOLD

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_ABBR = {m[:3]: m for m in _MONTHS} | {"Sept": "September"}
_ABBREVIATIONS = {
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Dr.": "Doctor",
    "Prof.": "Professor",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "St.": "Saint",
    "Mt.": "Mount",
    "Ave.": "Avenue",
    "Inc.": "Incorporated",
    "Ltd.": "Limited",
    "Corp.": "Corporation",
    "Dept.": "Department",
    "Gov.": "Governor",
    "Gen.": "General",
    "Sen.": "Senator",
    "Rep.": "Representative",
    "vs.": "versus",
    "etc.": "et cetera",
    "e.g.": "for example",
    "i.e.": "that is",
    "approx.": "approximately",
    "U.S.A.": "U S A",
    "U.S.": "U S",
    "U.K.": "U K",
    "U.N.": "U N",
    "E.U.": "E U",
    "a.m.": "a m",
    "p.m.": "p m",
}
_UNITS = {
    "km/h": "kilometers per hour",
    "mph": "miles per hour",
    "km": "kilometers",
    "cm": "centimeters",
    "mm": "millimeters",
    "kg": "kilograms",
    "mg": "milligrams",
    "lbs": "pounds",
    "lb": "pounds",
    "oz": "ounces",
    "ft": "feet",
    "mi": "miles",
    "ml": "milliliters",
    "mL": "milliliters",
    "°C": "degrees Celsius",
    "℃": "degrees Celsius",
    "°F": "degrees Fahrenheit",
    "℉": "degrees Fahrenheit",
    "°": "degrees",
    "TB": "terabytes",
    "GB": "gigabytes",
    "MB": "megabytes",
    "KB": "kilobytes",
    "GHz": "gigahertz",
    "MHz": "megahertz",
    "kHz": "kilohertz",
    "Hz": "hertz",
    "kWh": "kilowatt hours",
    "kW": "kilowatts",
    "W": "watts",
    "V": "volts",
    "mAh": "milliamp hours",
    "ms": "milliseconds",
    "kb": "kilobytes",
}
_CURRENCY = {"$": ("dollar", "cent"), "€": ("euro", "cent"), "£": ("pound", "penny"), "¥": ("yen", "")}
_SCALE_WORDS = "thousand|million|billion|trillion"
_DENOMS = {"2": "half", "4": "quarter"}
_NUM = r"\d+(?:\.\d+)?"
_B = r"(?<![\d.])"
_E = r"(?![\d])"


def _alt(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


_ABBR = re.compile(r"(?<![\w.])(" + _alt(_ABBREVIATIONS) + r")(?!\w)")
_NO = re.compile(r"\b(No|no)\.\s?(?=\d)")
_THOUSANDS = re.compile(_B + r"\d{1,3}(?:,\d{3})+(?![\d,])")
_MONEY = re.compile(r"(-?)([$€£¥])\s?(" + _NUM + r")(?:\s?(" + _SCALE_WORDS + r"|[kKmMbB]n?)\b)?")
_PERCENT = re.compile(r"(-?)(" + _NUM + r")\s?%")
_ISO_DATE = re.compile(_B + r"(\d{4})-(\d{1,2})-(\d{1,2})" + _E)
_US_DATE = re.compile(_B + r"(\d{1,2})/(\d{1,2})/(\d{4})" + _E)
_MONTH_NAMES = _alt(list(_MONTHS) + list(_MONTH_ABBR))
_MDY = re.compile(r"\b(" + _MONTH_NAMES + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?" + _E)
_DMY = re.compile(_B + r"(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MONTH_NAMES + r")\.?(?:,?\s+(\d{4}))?" + _E)
_TIME = re.compile(
    _B
    + r"([01]?\d|2[0-4]):([0-5]\d)(?::([0-5]\d))?(?!\d)"
    + r"(?:\s?(a\.m\.|p\.m\.|a m|p m|am|pm|AM|PM)(?![A-Za-z]))?"
)
_PHONE = re.compile(r"(?<![\d.])(?:\((\d{3})\)\s?|(\d{3})-)?(\d{3})-(\d{4})" + _E)
_DECADE = re.compile(r"(?<![\d.])[’']?(\d{3}0|\d0)s\b")
_YEAR_CTX = re.compile(
    r"\b(in|since|by|from|of|year|until|till|before|after|during|circa|around|early|late|mid)(\s+)"
    r"(1[1-9]\d\d|20\d\d)(?![\d,.]\d|\s?%)\b"
)
_ORDINAL = re.compile(_B + r"(\d+)(st|nd|rd|th)\b")
_UNIT = re.compile(r"(?<![\d.A-Za-z])(-?)(" + _NUM + r")\s?(" + _alt(_UNITS) + r")(?![A-Za-z])")
_MATH = re.compile(r"(?<![\d.A-Za-z])" + _NUM + r"(?:\s*[-+×*/÷=]\s*" + _NUM + r")*\s*[+×*÷=]\s*" + _NUM + _E)
_MATH_OPS = {
    "+": "plus",
    "-": "minus",
    "×": "times",
    "*": "times",
    "/": "divided by",
    "÷": "divided by",
    "=": "equals",
}
_FRACTION = re.compile(_B + r"(\d{1,2})/(\d{1,2})" + _E)
_SCORE = re.compile(_B + r"(\d+):(\d+)" + _E)
_RANGE = re.compile(r"(?<![\d.A-Za-z-])(" + _NUM + r")\s?[-–~]\s?(" + _NUM + r")" + _E)
_CODE = re.compile(r"(?<=[A-Za-z])(\d{3,})")
_LETTER_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=\d)")
_LEADING_ZERO = re.compile(_B + r"0\d+" + _E)
_DOTTED = re.compile(_B + r"\d+(?:\.\d+){2,}" + _E)
_NEGATIVE = re.compile(r"(?<![\dA-Za-z)\]])-(?=\d)")
_DECIMAL = re.compile(_B + r"\d+\.\d+" + _E)
_INTEGER = re.compile(r"\d+")
_SPACES = re.compile(r"[ \t]{2,}")


def _money(m: re.Match[str]) -> str:
    sign = "minus " if m.group(1) else ""
    major, minor = _CURRENCY[m.group(2)]
    amount, scale = m.group(3), m.group(4)
    if scale:
        scale_word = {"k": "thousand", "m": "million", "b": "billion", "bn": "billion"}.get(
            scale.lower(), scale
        )
        return f"{sign}{decimal(amount)} {scale_word} {major}s"
    whole, _, frac = amount.partition(".")
    frac = (frac + "0")[:2] if frac else ""
    parts: list[str] = []
    if int(whole or "0") or not frac or not int(frac):
        plural = "" if whole.lstrip("0") == "1" or major == "yen" else "s"
        parts.append(f"{cardinal(whole or '0')} {major}{plural}")
    if frac and int(frac) and minor:
        cents = "pence" if minor == "penny" and frac != "01" else (minor if frac == "01" else minor + "s")
        parts.append(f"{cardinal(frac)} {cents}")
    return sign + " and ".join(parts)


def _time(m: re.Match[str]) -> str:
    hour, minute, second, ampm = m.groups()
    words = cardinal(hour)
    if minute == "00" and not second:
        words += " o'clock" if not ampm else ""
    elif minute[0] == "0":
        words += " oh " + cardinal(minute)
    else:
        words += " " + cardinal(minute)
    if second:
        words += " and " + cardinal(second) + " seconds"
    if ampm:
        words += " a m" if ampm.lower().startswith("a") else " p m"
    return words


def _date(month: str, day: str, yr: str | None) -> str:
    month = _MONTH_ABBR.get(month, month)
    return f"{month} {ordinal(day)}" + (f", {year(yr)}" if yr else "")


def _fraction(m: re.Match[str]) -> str:
    num, den = m.group(1), m.group(2)
    if den == "1" or den == "0":
        return cardinal(num) + " over " + cardinal(den)
    name = _DENOMS.get(den) or ordinal(den)
    plural = "" if num == "1" else ("ves" if name == "half" else "s")
    if plural == "ves":
        name = "hal"
    return cardinal(num) + " " + name + plural


def _math(m: re.Match[str]) -> str:
    tokens = re.findall(_NUM + r"|[-+×*/÷=]", m.group(0))
    return " ".join(decimal(t) if t[0].isdigit() else _MATH_OPS[t] for t in tokens)


def rules_en(text: str) -> str:
    """Apply every English rule in order; returns text that may (rarely) still hold digits."""
    text = forms_en(text.translate(FOLD))  # St., Roman numerals, 6'2", 1.5M, y > 5 (forms_en.py)
    text = _ABBR.sub(lambda m: _ABBREVIATIONS[m.group(1)], text)
    if not re.search(r"[0-9]", text):
        return text
    text = _NO.sub("number ", text)
    text = _THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _MONEY.sub(_money, text)
    text = _PERCENT.sub(lambda m: ("minus " if m.group(1) else "") + decimal(m.group(2)) + " percent", text)
    text = _ISO_DATE.sub(
        lambda m: (
            _date(_MONTHS[int(m.group(2)) - 1], m.group(3), m.group(1))
            if 1 <= int(m.group(2)) <= 12
            else m.group(0)
        ),
        text,
    )
    text = _US_DATE.sub(
        lambda m: (
            _date(_MONTHS[int(m.group(1)) - 1], m.group(2), m.group(3))
            if 1 <= int(m.group(1)) <= 12
            else m.group(0)
        ),
        text,
    )
    text = _MDY.sub(lambda m: _date(m.group(1), m.group(2), m.group(3)), text)
    text = _DMY.sub(
        lambda m: (
            "the "
            + ordinal(m.group(1))
            + " of "
            + _MONTH_ABBR.get(m.group(2), m.group(2))
            + (", " + year(m.group(3)) if m.group(3) else "")
        ),
        text,
    )
    text = _TIME.sub(_time, text)
    text = _PHONE.sub(lambda m: ", ".join(digit_string(g) for g in m.groups() if g), text)
    text = _DECADE.sub(lambda m: plural_year(m.group(1)), text)
    text = _YEAR_CTX.sub(lambda m: m.group(1) + m.group(2) + year(m.group(3)), text)
    text = _ORDINAL.sub(lambda m: ordinal(m.group(1)), text)
    text = _UNIT.sub(
        lambda m: (
            ("minus " if m.group(1) else "")
            + decimal(m.group(2))
            + " "
            + (
                _UNITS[m.group(3)][:-1]
                if m.group(2) == "1" and _UNITS[m.group(3)].endswith("s")
                else _UNITS[m.group(3)]
            )
        ),
        text,
    )
    text = _MATH.sub(_math, text)
    text = _FRACTION.sub(_fraction, text)
    text = _SCORE.sub(lambda m: cardinal(m.group(1)) + " to " + cardinal(m.group(2)), text)
    text = _RANGE.sub(lambda m: decimal(m.group(1)) + " to " + decimal(m.group(2)), text)
    text = _CODE.sub(lambda m: " " + digit_string(m.group(1)), text)
    text = _LETTER_HYPHEN.sub(" ", text)
    text = _DOTTED.sub(lambda m: _pad(m, " point ".join(cardinal(g) for g in m.group(0).split("."))), text)
    text = _LEADING_ZERO.sub(lambda m: _pad(m, digit_string(m.group(0))), text)
    text = _NEGATIVE.sub("minus ", text)
    text = _DECIMAL.sub(lambda m: _pad(m, decimal(m.group(0))), text)
    text = _INTEGER.sub(lambda m: _pad(m, cardinal(m.group(0))), text)
    return _SPACES.sub(" ", comparisons(text))


def _pad(m: re.Match[str], words: str) -> str:
    """Pads spoken words with spaces where the number touched letters ("5G" → five G)."""
    s, end = m.string, m.end()
    before = " " if m.start() > 0 and s[m.start() - 1].isalpha() else ""
    after = " " if end < len(s) and s[end].isalpha() else ""
    return before + words + after
