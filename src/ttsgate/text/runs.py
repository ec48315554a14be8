"""Language runs inside a segment, for routing each run to a voice of its language.

Inside Chinese text (a segment with Han characters, or one in a Chinese document whose Latin is all
letters and initialisms) Latin material is read the way a Mandarin speaker reads it
(``latin_zh``): letters and initialisms (A股, 4G, NBA, iOS) and unit symbols after a number (300MB,
100km/h) stay in the zh run, spelled or read in Chinese by the Mandarin voice; words (iPhone, Java,
Wi-Fi) make en runs for the English voice; a number is read in Chinese unless it sits inside an
English phrase (iOS 17 → iOS 十七, Java 21 → Java 二十一, but "born in 1990" stays English).
Other scripts make runs of their own languages (``text/scripts.py``: こんにちは → ja, 안녕 → ko).
"""

from __future__ import annotations

import re
from typing import Literal

from ttsgate.text.latin_zh import ORDINAL_SUFFIXES, is_spelled
from ttsgate.text.scripts import script_runs
from ttsgate.text.tables_zh import PER_UNITS, UNITS

RunLang = Literal["zh", "en"]

_LATIN_UNITS = sorted((u for u in {*UNITS, *PER_UNITS} if re.search(r"[A-Za-zμ]", u)), key=len, reverse=True)
_TOKEN = re.compile(
    r"(?P<han>[\u3400-\u9fff\uf900-\ufaff\u3007]+)"
    r"|(?P<unit>(?<=\d)\s?(?:" + "|".join(map(re.escape, _LATIN_UNITS)) + r")(?![A-Za-z]))"
    r"|(?P<lat>[A-Za-z\u00c0-\u024f]+(?:['’.\-][A-Za-z\u00c0-\u024f]+)*)"
    r"|(?P<num>\d+(?:[.,:/]\d+)*)"
    r"|(?P<other>.)",
    re.S,
)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LEADING_MUTE = re.compile(r"^[^\w]+")
_ENGLISH_WORD_LETTERS = frozenset({"I", "a"})  # spelled-looking, but English words before English


def detect_language(text: str) -> RunLang:
    """zh when Han characters are at least half as many as Latin letters (a Han character carries
    about as much speech as two or three letters), else en; text with neither is zh."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    if han == 0 and latin > 0:
        return "en"
    return "zh" if han * 2 >= latin else "en"


def split_language_runs(segment: str, default: RunLang | None = None) -> list[tuple[str, str]]:
    """Split ``segment`` into language runs; concatenated they give ``segment``.

    Text in another script (kana, hangul, Thai, Cyrillic, Arabic …: ``text/scripts.py``) makes runs
    of its language (ja, ko, th, ru, ar …); the rest is split into zh and en runs
    (``split_zh_en_runs``). Text with nothing to speak between two runs joins the run before it.
    """
    pieces = script_runs(segment)
    if all(lang is None for lang, _ in pieces):
        return split_zh_en_runs(segment, default)
    lang_default: RunLang = default or detect_language(segment)
    runs: list[list[str]] = []
    for lang, text in pieces:
        if lang is None and runs:  # the punctuation after a run stays with it
            lead = len(text) - len(_LEADING_MUTE.sub("", text, count=1))
            runs[-1][1] += text[:lead]
            text = text[lead:]
        parts = [(lang, text)] if lang is not None else split_zh_en_runs(text, lang_default)
        for run_lang, run_text in parts:
            if runs and (runs[-1][0] == run_lang or not any(ch.isalnum() for ch in run_text)):
                runs[-1][1] += run_text
            else:
                runs.append([run_lang, run_text])
    return [(lang, text) for lang, text in runs]


def split_zh_en_runs(segment: str, default: RunLang | None = None) -> list[tuple[str, str]]:
    """Split Han and Latin ``segment`` into ("zh", text) and ("en", text) runs; concatenated they
    give ``segment``.

    In Chinese text (see the module docstring) Han characters, letters, initialisms and unit symbols
    after a Chinese number make zh runs, other Latin words en runs, and numbers join the zh runs
    unless inside an English phrase (after a lowercase English word, or before one). In English
    text everything is en. Whitespace and punctuation join the run before them (the first run when
    leading). ``default`` (else ``detect_language``) is the document's language.
    """
    lang_default: RunLang = default or detect_language(segment)
    tokens = [(m.lastgroup or "other", m.group(0)) for m in _TOKEN.finditer(segment)]
    spelled = [kind == "lat" and is_spelled(text) for kind, text in tokens]
    chinese = any(kind == "han" for kind, _ in tokens) or (
        lang_default == "zh" and all(s for (kind, _), s in zip(tokens, spelled, strict=True) if kind == "lat")
    )
    if chinese:
        langs = _chinese_langs(tokens, spelled)
    else:
        langs = [None if kind == "other" else "en" for kind, _ in tokens]
    return _join(tokens, langs, lang_default, segment)


def _chinese_langs(tokens: list[tuple[str, str]], spelled: list[bool]) -> list[str | None]:
    langs: list[str | None] = [None] * len(tokens)
    words = [kind == "lat" and not s for (kind, _), s in zip(tokens, spelled, strict=True)]
    for i, (kind, text) in enumerate(tokens):
        if kind == "han":
            langs[i] = "zh"
        elif kind == "lat":
            left, right = _near(tokens, i, -1), _near(tokens, i, 1)
            in_english = (left is not None and words[left]) and (right is not None and words[right])
            before_english = text in _ENGLISH_WORD_LETTERS and right is not None and words[right]
            glued_ordinal = text in ORDINAL_SUFFIXES and i > 0 and tokens[i - 1][0] == "num"
            english = not spelled[i] or in_english or before_english or glued_ordinal
            words[i] = english
            langs[i] = "en" if english else "zh"
    for i, (kind, _) in enumerate(tokens):
        if kind == "num":
            langs[i] = _chinese_num_lang(tokens, langs, words, i)
    for i, (kind, _) in enumerate(tokens):
        if kind == "unit":
            langs[i] = langs[i - 1] or "zh"
    return langs


def _chinese_num_lang(
    tokens: list[tuple[str, str]], langs: list[str | None], words: list[bool], i: int
) -> str:
    """A number inside Chinese text: zh unless it is part of an English phrase."""
    nxt = tokens[i + 1][0] if i + 1 < len(tokens) else ""
    if nxt in ("han", "unit"):
        return "zh"  # 15拍照, 300MB, 1990年
    if nxt == "lat" and words[i + 1] and tokens[i + 1][1] in ORDINAL_SUFFIXES:
        return "en"  # 2nd
    left, right = _near(tokens, i, -1, hyphen=True), _near(tokens, i, 1)
    right_lower_word = right is not None and words[right] and tokens[right][1][:1].islower()
    if left is not None and words[left]:
        name = any(ch.isupper() for ch in tokens[left][1])
        return "zh" if name and not right_lower_word else "en"  # Java 21, iPhone 15 Pro; in 1990
    if left is not None and langs[left] == "zh":
        return "zh"
    return "en" if right_lower_word else "zh"  # 3 apples


def _near(tokens: list[tuple[str, str]], i: int, step: int, hyphen: bool = False) -> int | None:
    """Index of the nearest token before (``step`` -1) or after (1) token ``i`` that is not
    whitespace (nor, with ``hyphen``, a hyphen right after a letter: GPT-4, COVID-19); None when a
    punctuation mark or the segment's edge comes first."""
    j = i + step
    while 0 <= j < len(tokens) and tokens[j][0] == "other" and tokens[j][1].isspace():
        j += step
    if hyphen and step < 0 and j >= 1 and tokens[j] == ("other", "-") and tokens[j - 1][0] == "lat":
        j -= 1
    if not 0 <= j < len(tokens) or tokens[j][0] == "other":
        return None
    return j


def _join(
    tokens: list[tuple[str, str]], langs: list[str | None], lang_default: str, segment: str
) -> list[tuple[str, str]]:
    runs: list[list[str]] = []
    pending = ""
    for (_, text), lang in zip(tokens, langs, strict=True):
        if lang is None:
            if runs:
                runs[-1][1] += text
            else:
                pending += text
            continue
        if runs and runs[-1][0] == lang:
            runs[-1][1] += text
        else:
            runs.append([lang, pending + text])
        pending = ""
    if not runs:
        return [(lang_default, segment)] if segment else []
    return [(lang, text) for lang, text in runs]
