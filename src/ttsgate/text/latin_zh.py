"""Latin letters, unit symbols and versions inside Chinese text: which are spelled, how units read.

A Mandarin speaker reads Latin material inside a Chinese sentence in three ways, and this module holds
the tables and tests that tell them apart (``runs.split_language_runs`` uses them to pick a voice,
``normalize_zh.rules_zh`` to rewrite units and versions):

- **spelled** with English letter names, by the Mandarin voice: a single letter (A股, X光, 4G, GPT-4o's
  o), an initialism (NBA, CEO, PPT, USB-C, iOS, mRNA) and a lowercase letter group without a vowel
  (ppt, mp3's mp). The zh-baker voice has a letter table in its G2P (``engines/zh_letters.py``); the
  normalized text keeps the letters, so other voices of Han text (espeak-ng's Cantonese, ChatTTS) get
  them too and spell them their own way;
- **unit symbols** after a number, in Chinese: 300MB → 三百兆, 16GB → 十六G, 1.5kg → 一点五千克,
  100km/h → 每小时一百公里 (``LATIN_UNITS`` / ``LATIN_PER_UNITS`` here, merged into ``tables_zh``);
- **words** (iPhone, Java, Wi-Fi, COVID, NASA) are spoken by the English voice, and a number after a
  product name is still read in Chinese (iOS 17 → iOS 十七, Java 21 → Java 二十一).

Whether an all-capital word is an initialism or a word said as such (COVID, NASA, JSON) follows a
pronounceability test (``is_spelled``): up to three capitals are spelled; longer ones are spelled when
they have no vowel (HTML, CCTV), three equal letters in a row (IEEE) or a consonant cluster that
cannot start an English syllable (ICBC, NVIDIA), except the words in ``CAPS_WORDS``.
"""

from __future__ import annotations

import re

#: Latin unit symbols (or spellings of them) after a number → how a Mandarin speaker says them.
#: Data sizes as said aloud: MB is 兆 (三百兆的安装包), GB/TB/KB the bare letter (十六G内存, spelled by
#: the voice). Merged into ``tables_zh.UNITS`` (these win).
LATIN_UNITS: dict[str, str] = {
    "PB": "P",
    "TB": "T",
    "GB": "G",
    "MB": "兆",
    "KB": "K",
    "kB": "K",
    "kb": "K",
    "Gbps": "吉比特每秒",
    "Mbps": "兆比特每秒",
    "kbps": "千比特每秒",
    "Kbps": "千比特每秒",
    "fps": "帧每秒",
    "FPS": "帧每秒",
    "rpm": "转每分钟",
    "mm²": "平方毫米",
    "cm³": "立方厘米",
    "dm": "分米",
    "Wh": "瓦时",
    "MWh": "兆瓦时",
    "GW": "吉瓦",
    "kPa": "千帕",
    "MPa": "兆帕",
    "hPa": "百帕",
    "Pa": "帕",
    "μs": "微秒",
    "ns": "纳秒",
    "mph": "英里每小时",
    "lb": "磅",
    "lbs": "磅",
    "oz": "盎司",
    "ft": "英尺",
    "mol": "摩尔",
    "KHz": "千赫兹",
    "khz": "千赫兹",
    "mhz": "兆赫兹",
    "ghz": "吉赫兹",
    "hz": "赫兹",
    "KM": "公里",
    "KG": "千克",
}

#: "X/Y" units read 每Y X (as ``tables_zh.PER_UNITS``): 10MB/s → 每秒十兆. Merged into PER_UNITS.
LATIN_PER_UNITS: dict[str, tuple[str, str]] = {
    "MB/s": ("秒", "兆"),
    "GB/s": ("秒", "G"),
    "KB/s": ("秒", "K"),
    "kB/s": ("秒", "K"),
    "km/hr": ("小时", "公里"),
    "m/min": ("分钟", "米"),
    "r/min": ("分钟", "转"),
}

#: All-capital words said as words, not spelled, that the pronounceability test would spell.
CAPS_WORDS = frozenset({"JSON", "NVIDIA", "SQLITE", "GNOME"})

#: Lowercase letter groups that are initialisms inside Chinese text (app = A P P, as said in Chinese).
LOWER_INITIALISMS = frozenset(
    {"ai", "api", "app", "cpu", "gpu", "ui", "id", "diy", "vip", "ceo", "usb", "pdf", "ppt", "ok", "qq"}
)

#: English ordinal suffixes after a number (1st, 2nd): the number and suffix stay English.
ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})

_VOWELS = "AEIOU"
_ONSET_LIST = "BL BR CH CL CR DR DW FL FR GL GN GR KL KN KR PH PL PR PS QU SC SCH SCR SH SHR SK SL SM SN SP"
_ONSETS = frozenset((_ONSET_LIST + " SPL SPR SQU ST STR SW TH THR TR TW WH WR").split(" "))
_UPPER_CORE = re.compile(r"[a-z]?([A-Z]{2,})s?")  # iOS, mRNA, eSIM, CEOs
_PART_SPLIT = re.compile(r"['’.\-]")
_VERSION = re.compile(r"(?<![A-Za-z])v(?=\d)")
_RESOLUTION = re.compile(r"(?<![\d.])(360|480|540|720|1080|1440|2160|4320)([pP]|i(?![A-Za-z]))(?![A-Za-z])")
_DIGIT_ZH = dict(zip("0123456789", "零一二三四五六七八九", strict=True))


def is_spelled(token: str) -> bool:
    """Whether a Latin token (letters, maybe joined by ``-``, ``.`` or an apostrophe) is read letter by
    letter inside Chinese: every part is a single letter, an initialism or a vowelless group.

    >>> [is_spelled(t) for t in ("A", "NBA", "iOS", "USB-C", "COVID", "HTML", "ppt", "iPhone", "Wi-Fi")]
    [True, True, True, True, False, True, True, False, False]
    """
    parts = [p for p in _PART_SPLIT.split(token) if p]
    return bool(parts) and all(_part_spelled(p) for p in parts)


def _part_spelled(part: str) -> bool:
    if len(part) == 1:
        return True
    if part.islower():
        return part in LOWER_INITIALISMS or (len(part) <= 5 and not any(c in "aeiouy" for c in part))
    m = _UPPER_CORE.fullmatch(part)
    if m is None:
        return False  # mixed case: iPhone, Java, MacBook, PhD
    core = m.group(1)
    if len(core) <= 3:
        return True
    return core not in CAPS_WORDS and not _pronounceable(core)


def _pronounceable(word: str) -> bool:
    """A rough test that an all-capital word can be said as an English word (NASA yes, ICBC no):
    a vowel, no letter three times in a row, a word-initial consonant cluster that starts English
    words, no cluster of four, and clusters of three that English has (inside: ending in an onset,
    monSTer; at the end: ending in S, T, H, D or K, fiRST)."""
    if not any(c in _VOWELS for c in word) or re.search(r"(.)\1\1", word):
        return False
    marked = word[0] + word[1:].replace("Y", "A")  # Y is a vowel after the first letter
    for m in re.finditer(r"[^AEIOU]+", marked):
        cluster, final = m.group(0), m.end() == len(marked)
        if m.start() == 0 and len(cluster) > 1 and cluster not in _ONSETS:
            return False
        if len(cluster) >= 4 or (m.start() > 0 and len(cluster) >= 3 and not _fits(cluster, final)):
            return False
    return True


def _fits(cluster: str, final: bool) -> bool:
    return cluster[-1] in "STHDK" if final else cluster[-2:] in _ONSETS


def rules_latin_zh(text: str) -> str:
    """Latin rewrites for Chinese text, before the number rules: a version's ``v`` is the letter V
    (v2.3.1 → V2.3.1, read V二点三点一) and a video resolution is read digit by digit (1080P →
    一零八零P). Idempotent (the resolution's digits are consumed)."""
    text = _VERSION.sub("V", text)
    return _RESOLUTION.sub(lambda m: "".join(_DIGIT_ZH[d] for d in m.group(1)) + m.group(2).upper(), text)
