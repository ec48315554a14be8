"""Writing systems other than Han and Latin: which script a character is, and the language its runs go to.

"The language of each run decides who speaks it" (docs/reading.md "Other scripts"): a segment is cut
into runs by script, and each run of kana, hangul, Thai, Cyrillic, Arabic, Devanagari, Greek … is a
run of its language (ja, ko, th, ru, ar, hi, el …), routed to a voice of that language
(``VoiceTable.route``: the table's, else the fallback engine espeak-ng, else a 400 naming the script).

Han characters in a Japanese sentence (kana and none of the Chinese-only words of ``_CHINESE_CUES``:
``今日は良い天気です``) belong to its ja run; Han characters around a quoted Japanese word in a Chinese
sentence (``日语的こんにちは是你好的意思``) stay Chinese. Within a script a few letters tell a
language apart (Ukrainian і ї є ґ, Persian پ چ ژ گ, Urdu ٹ ڈ ڑ ں ے).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Script:
    key: str
    name: str  # as an error message names it
    language: str  # the language of its runs (ISO 639-1 where there is one)
    languages: frozenset[str]  # languages written in it: their voices speak its runs


def _s(key: str, name: str, language: str, *others: str) -> Script:
    return Script(key, name, language, frozenset({language, *others}))


SCRIPTS: dict[str, Script] = {
    s.key: s
    for s in (
        _s("kana", "Japanese (kana)", "ja"),
        _s("hangul", "Korean (Hangul)", "ko"),
        _s("thai", "Thai", "th"),
        _s("lao", "Lao", "lo"),
        _s("khmer", "Khmer", "km"),
        _s("myanmar", "Myanmar", "my", "shn"),
        _s(
            "cyrillic",
            "Cyrillic",
            "ru",
            "uk",
            "be",
            "bg",
            "mk",
            "sr",
            "kk",
            "ky",
            "tt",
            "ba",
            "cv",
            "mn",
            "tg",
        ),
        _s("greek", "Greek", "el", "grc"),
        _s("armenian", "Armenian", "hy", "hyw"),
        _s("georgian", "Georgian", "ka"),
        _s("hebrew", "Hebrew", "he", "yi"),
        _s("arabic", "Arabic", "ar", "fa", "ur", "ug", "sd", "ps", "ku"),
        _s("syriac", "Syriac", "syr"),
        _s("thaana", "Thaana", "dv"),
        _s("devanagari", "Devanagari", "hi", "mr", "ne", "kok", "sa", "mai"),
        _s("bengali", "Bengali", "bn", "as", "bpy"),
        _s("gurmukhi", "Gurmukhi", "pa"),
        _s("gujarati", "Gujarati", "gu"),
        _s("oriya", "Odia", "or"),
        _s("tamil", "Tamil", "ta"),
        _s("telugu", "Telugu", "te"),
        _s("kannada", "Kannada", "kn"),
        _s("malayalam", "Malayalam", "ml"),
        _s("sinhala", "Sinhala", "si"),
        _s("tibetan", "Tibetan", "bo", "dz"),
        _s("ethiopic", "Ethiopic", "am", "ti", "om"),
        _s("mongolian", "Mongolian (traditional)", "mn-mong"),
        _s("cherokee", "Cherokee", "chr"),
    )
}

# (first, last, script key), sorted; combining marks of a script are inside its block.
_RANGES = sorted([
    (0x0370, 0x03FF, "greek"), (0x1F00, 0x1FFF, "greek"),
    (0x0400, 0x052F, "cyrillic"), (0x1C80, 0x1C8F, "cyrillic"), (0x2DE0, 0x2DFF, "cyrillic"),
    (0xA640, 0xA69F, "cyrillic"),
    (0x0530, 0x058F, "armenian"), (0x0590, 0x05FF, "hebrew"), (0xFB1D, 0xFB4F, "hebrew"),
    (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"),
    (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"),
    (0x0700, 0x074F, "syriac"), (0x0780, 0x07BF, "thaana"),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"), (0x0B00, 0x0B7F, "oriya"), (0x0B80, 0x0BFF, "tamil"),
    (0x0C00, 0x0C7F, "telugu"), (0x0C80, 0x0CFF, "kannada"), (0x0D00, 0x0D7F, "malayalam"),
    (0x0D80, 0x0DFF, "sinhala"), (0x0E00, 0x0E7F, "thai"), (0x0E80, 0x0EFF, "lao"),
    (0x0F00, 0x0FFF, "tibetan"), (0x1000, 0x109F, "myanmar"), (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"), (0x1200, 0x139F, "ethiopic"), (0x13A0, 0x13FF, "cherokee"),
    (0x1780, 0x17FF, "khmer"), (0x1800, 0x18AF, "mongolian"),
    (0x3040, 0x309F, "kana"), (0x30A0, 0x30FF, "kana"), (0x31F0, 0x31FF, "kana"),
    (0x3130, 0x318F, "hangul"), (0xA960, 0xA97F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
    (0xD7B0, 0xD7FF, "hangul"), (0xFF66, 0xFF9F, "kana"), (0xFFA0, 0xFFDC, "hangul"),
])  # fmt: skip
_STARTS = [r[0] for r in _RANGES]
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005\u3007]")
# Words Chinese writes and Japanese does not: a sentence with kana and one of these is Chinese.
# (function words, and Simplified forms Japanese writes otherwise: 语 語, 时 時, 门 門 …)
_CHINESE_CUES = frozenset(
    "这们吗呢吧是很没么说你她给还过个里啊呀哪谁对语汉话时开门问间见长车东书电读认识谢请让记"
)
_REFINE = {
    "cyrillic": (("uk", frozenset("іїєґІЇЄҐ")),),
    "arabic": (("ur", frozenset("ٹڈڑںےۓ")), ("fa", frozenset("پچژگ"))),
}
_LANGUAGE_SCRIPT = {lang: s.key for s in SCRIPTS.values() for lang in s.languages}


def script_of(ch: str) -> str | None:
    """The key of ``ch``'s script in ``SCRIPTS``; None for Han, Latin, digits, punctuation, symbols."""
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0 and cp <= _RANGES[i][1]:
        return _RANGES[i][2]
    return None


def language_script(language: str) -> str:
    """The script a language is written in: ``han`` (zh and other Han languages), a ``SCRIPTS`` key
    (ja → kana, ru → cyrillic …), else ``latin``."""
    lang = language.lower()
    if lang in ("zh", "yue", "cmn", "wuu", "hak", "nan") or lang.startswith(("zh-", "cmn-", "yue-")):
        return "latin" if "latn" in lang else "han"
    return _LANGUAGE_SCRIPT.get(lang, _LANGUAGE_SCRIPT.get(lang.split("-")[0], "latin"))


def script_name(language: str) -> str:
    """How a message names the script of ``language``'s runs."""
    key = language_script(language)
    return SCRIPTS[key].name if key in SCRIPTS else key.capitalize()


def is_japanese(text: str) -> bool:
    """Kana and no Chinese-only word: its Han characters are Japanese too."""
    return any(script_of(ch) == "kana" for ch in text) and not any(ch in _CHINESE_CUES for ch in text)


def script_runs(segment: str) -> list[tuple[str | None, str]]:
    """``segment`` cut into (language, text) pieces of another script, and (None, text) pieces of
    Han, Latin and everything else, in order (they concatenate to ``segment``). Spaces, digits and
    punctuation between two letters of one script stay inside its piece."""
    japanese = is_japanese(segment)
    keys = [script_of(ch) or ("kana" if japanese and _HAN.match(ch) else None) for ch in segment]
    out: list[tuple[str | None, str]] = []
    i, n = 0, len(segment)
    while i < n:
        key = keys[i]
        j = i + 1
        if key is None:
            while j < n and keys[j] is None:
                j += 1
            out.append((None, segment[i:j]))
            i = j
            continue
        end = j
        while j < n and (keys[j] == key or (keys[j] is None and not _word_char(segment[j]))):
            if keys[j] == key:
                end = j + 1
            j += 1
        text = segment[i:end]
        out.append((_language(key, text), text))
        i = end
    return _numbers_join(out)


def _numbers_join(pieces: list[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    """A piece of digits and punctuation only (no Han, no Latin letter) next to a run of another
    script is read by that run's voice: ``Привет 2024`` is one ru run."""
    out: list[tuple[str | None, str]] = []
    for lang, text in pieces:
        alone = lang is None and not any(_HAN.match(ch) or _latin(ch) for ch in text)
        if alone and out and out[-1][0] is not None:
            out[-1] = (out[-1][0], out[-1][1] + text)
        elif (
            out
            and out[-1][0] is None
            and lang is not None
            and not any(_HAN.match(ch) or _latin(ch) for ch in out[-1][1])
        ):
            out[-1] = (lang, out[-1][1] + text)
        else:
            out.append((lang, text))
    return out


def _latin(ch: str) -> bool:
    return (ch.isascii() and ch.isalpha()) or "\u00c0" <= ch <= "\u024f"


def _word_char(ch: str) -> bool:
    return bool(_HAN.match(ch)) or _latin(ch)


def _language(key: str, text: str) -> str:
    for lang, letters in _REFINE.get(key, ()):
        if any(ch in letters for ch in text):
            return lang
    return SCRIPTS[key].language
