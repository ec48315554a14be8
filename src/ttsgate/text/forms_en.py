"""English forms the main English rules (``normalize_en``) would misread, run before them.

- ``St.``: Street after a capitalized word or an ordinal (Main St., 5th St.), Saint before a name
  (St. Louis) and elsewhere;
- Roman numerals (I V X L only, so CD, MD, DC stay letters): after a counted word (chapter IV,
  World War II, Part III) the cardinal, "chapter four"; after another capitalized name the regnal
  ordinal, "Louis the fourteenth" (two letters or more: "Then I" is a pronoun);
- feet and inches: 6'2" → six foot two, 5' → five feet;
- a scale letter after a number: 1.5M units → one point five million units (a decimal always; an
  integer before a plural noun, 10M users; 3M and 4K stay);
- comparisons between operands: y > 5 → y greater than five (< ≤ ≥ ≠ ≈ ± too);
- compound durations: 1h30min → one hour thirty minutes, 2m30s → two minutes thirty seconds.
"""

from __future__ import annotations

import re

from ttsgate.text.numbers_en import cardinal, decimal, ordinal

#: Words after which a Roman numeral is a plain number (chapter IV → chapter four).
COUNTED_WORDS = frozenset(
    (
        "chapter", "part", "volume", "vol", "book", "act", "scene", "section", "article", "phase", "type",
        "class", "level", "grade", "step", "round", "war", "episode", "season", "stage", "track", "title",
        "appendix", "table", "figure", "case", "schedule", "mark", "apollo", "bowl",
    )
)  # fmt: skip
#: Words before a Roman numeral that is a size or a code, not a number (Size XL).
_NOT_ROMAN_AFTER = frozenset({"size", "sizes"})
_COMPARE = {
    ">": "greater than", "<": "less than", "≥": "greater than or equal to", ">=": "greater than or equal to",
    "≤": "less than or equal to", "<=": "less than or equal to", "≠": "not equal to", "!=": "not equal to",
    "≈": "approximately", "±": "plus or minus",
}  # fmt: skip

_ST = re.compile(r"(?<![\w.])St\.(?=\s|$|[,;:!?])")
_ROMAN = re.compile(
    r"\b([A-Za-z]+)(\s+)(X{0,3}(?:IX|IV|V?I{0,3})|L?X{0,3}(?:IX|IV|V?I{0,3})|XL|XC)\b(?!['’.-]\w)"
)
_FEET = re.compile(r"(?<![\d.])(\d)\s?['′]\s?(\d{1,2})\s?[\"″]?(?![\d'])|(?<![\d.])(\d)\s?['′](?![\w'])")
_SCALE = re.compile(r"(?<![\d.$€£¥])(\d+\.\d+|\d+)\s?([MB]|bn)\b(?=(\s+[a-z]+s\b)?)")
_SCALE_WORDS = {"M": "million", "B": "billion", "bn": "billion"}
_COMPARE_RE = re.compile(r"(?<=[\w)])\s*(>=|<=|!=|(?<![<>=-])[<>](?![<>=])|[≥≤≠≈±])\s*(?=[-\w(])")
_DURATION = re.compile(
    r"(?<![\d.A-Za-z])(\d+)\s?h\s?(\d+)\s?(?:min|m)(?:\s?(\d+)\s?s)?\b|(?<![\d.A-Za-z])(\d+)\s?(?:min|m)\s?(\d+)\s?s\b"
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_value(numeral: str) -> int:
    """XIV → 14 (subtractive notation)."""
    total = 0
    for i, ch in enumerate(numeral):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[numeral[i + 1]] if i + 1 < len(numeral) else 0
        total += -value if value < nxt else value
    return total


def _st(m: re.Match[str]) -> str:
    text, start, end = m.string, m.start(), m.end()
    if re.match(r"\s+[A-Z]", text[end:]):
        return "Saint"
    before = re.search(r"([A-Za-z]+|\d+(?:st|nd|rd|th))\s+$", text[:start])
    if before and (before.group(1)[0].isupper() or before.group(1)[0].isdigit()):
        return "Street"
    return "Saint"


def _roman(m: re.Match[str]) -> str:
    word, space, numeral = m.group(1), m.group(2), m.group(3)
    if not numeral or word.lower() in _NOT_ROMAN_AFTER:
        return m.group(0)
    value = str(roman_value(numeral))
    if word.lower() in COUNTED_WORDS:
        return word + space + cardinal(value)
    if word[0].isupper() and len(numeral) >= 2 and not word.isupper():
        return word + space + "the " + ordinal(value)
    return m.group(0)


def _feet(m: re.Match[str]) -> str:
    if m.group(3):
        return cardinal(m.group(3)) + (" foot" if m.group(3) == "1" else " feet")
    return cardinal(m.group(1)) + " foot " + cardinal(m.group(2))


def _scale(m: re.Match[str]) -> str:
    if "." not in m.group(1) and not m.group(3):
        return m.group(0)  # 3M, 4K: names
    return decimal(m.group(1)) + " " + _SCALE_WORDS[m.group(2)]


def _duration(m: re.Match[str]) -> str:
    def unit(n: str, word: str) -> str:
        return cardinal(n) + " " + word + ("" if n.lstrip("0") == "1" else "s")

    if m.group(4):
        return unit(m.group(4), "minute") + " " + unit(m.group(5), "second")
    out = unit(m.group(1), "hour") + " " + unit(m.group(2), "minute")
    return out + (" " + unit(m.group(3), "second") if m.group(3) else "")


def forms_en(text: str) -> str:
    """Every rule above, before the abbreviation table and the number rules of ``rules_en``."""
    if "St." in text:
        text = _ST.sub(_st, text)
    if re.search(r"\b[IVXL]{1,4}\b", text):
        text = _ROMAN.sub(_roman, text)
    if re.search(r"[0-9]", text):
        text = _DURATION.sub(_duration, text)
        text = _FEET.sub(_feet, text)
        text = _SCALE.sub(_scale, text)
    return comparisons(text)


def comparisons(text: str) -> str:
    """y > 5 → y greater than 5 (also run after the numbers are read: 0%<0)."""
    return _COMPARE_RE.sub(lambda m: " " + _COMPARE[m.group(1)] + " ", text)
