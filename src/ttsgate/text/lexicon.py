"""Pronunciation lexicon: words users want read their way (names, brands, polyphones).

An entry is a word and its reading (docs/reading.md "Pronunciation lexicon"):

* a Mandarin word (Han characters) → pinyin, one syllable per character with a tone digit 1–5
  (``乐清 → yue4 qing1``; citation tones, sandhi is applied by the front end; ``r`` for a 儿 fused
  into 儿化 as in ``data/polyphones.txt``), or a Han respelling (``乐清 → 月清``);
* an English word (Latin script, spaces allowed) → a respelling (``Nginx → engine x``) or IPA between
  slashes (``Nginx → /ˈɛndʒɪn ˈɛks/``, the IPA espeak-ng prints; ``text/ipa.py``).

Sources: a file (``TTSGATE_LEXICON_FILE``, ``parse_lexicon``: ``word<TAB>reading`` or
``word<TAB>zh|en<TAB>reading``, ``#`` comments) and a request's ``lexicon`` object
(``request_entries``). ``Lexicon.find`` matches: longest match first, leftmost first; at equal length
a request entry wins over a file entry. Mandarin words match anywhere (substring); English words
only between word boundaries (no Latin letter or digit right before or after), an all-lowercase
entry in any letter case, an entry with a capital letter only exactly as written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import ipa
from ttsgate.text.script_zh import SIMPLIFIED, to_traditional

EntryKind = Literal["pinyin", "ipa", "respelling"]
Source = Literal["file", "request"]

MAX_REQUEST_ENTRIES = 200
MAX_WORD_CHARS = 64
MAX_READING_CHARS = 256
MAX_FILE_ENTRIES = 100_000

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f〇]+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD_CHAR = re.compile(r"[A-Za-z0-9\u00c0-\u024f]")
_EN_WORD = re.compile(r"[A-Za-z0-9\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f '’.&+#\-]*")
_HAN_RESPELLING = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff〇，、 ]+")
_RESPELLING = re.compile(r"[A-Za-z\u00c0-\u024f0-9][A-Za-z\u00c0-\u024f0-9 '’.,\-]*")
_PINYIN = re.compile(r"([a-zü:v]+)([1-5])")


class LexiconError(ValueError):
    """An entry that cannot be used; the message says which and why (file errors: ``path:line:``)."""


@dataclass(frozen=True, slots=True)
class Entry:
    word: str
    language: Literal["zh", "en"]
    kind: EntryKind
    reading: str  # pinyin syllables joined by one space, IPA without slashes, or the respelling
    source: Source

    def describe(self) -> dict[str, str]:
        """The JSON shape ``/v1/text/normalize`` shows."""
        shown = f"/{self.reading}/" if self.kind == "ipa" else self.reading
        return {
            "word": self.word, "language": self.language, "kind": self.kind, "reading": shown,
            "source": self.source,
        }  # fmt: skip


def make_entry(word: str, reading: str, *, language: str | None = None, source: Source = "file") -> Entry:
    """One validated entry. ``language`` (zh or en) must fit the word when given. Raises LexiconError."""
    word, reading = word.strip().removeprefix("\ufeff").strip(), " ".join(reading.split())
    if not word or len(word) > MAX_WORD_CHARS:
        raise LexiconError(f"a word has 1 to {MAX_WORD_CHARS} characters")
    if not reading or len(reading) > MAX_READING_CHARS:
        raise LexiconError(f"{word!r}: a reading has 1 to {MAX_READING_CHARS} characters")
    lang: Literal["zh", "en"]
    if _HAN.fullmatch(word):
        lang = "zh"
    elif _EN_WORD.fullmatch(word) and _LATIN.search(word):
        lang = "en"
    elif _EN_WORD.fullmatch(word):
        raise LexiconError(
            f"{word!r}: a word needs a letter or a Han character; numbers are read by the normalizer "
            "in their context (write the word around the number instead, e.g. 'Windows 11')"
        )
    else:
        raise LexiconError(
            f"{word!r}: a word is either all Han characters or Latin-script (English: letters, digits, "
            "spaces and ' . & + - #)"
        )
    if language is not None and language != lang:
        raise LexiconError(f"{word!r} is a {lang} word, not {language}")
    if lang == "zh":
        if _HAN.fullmatch(reading):
            return Entry(word, lang, "respelling", reading, source)
        return Entry(word, lang, "pinyin", _check_pinyin(word, reading), source)
    if _HAN.search(reading) and _HAN_RESPELLING.fullmatch(reading):
        return Entry(word, "zh", "respelling", reading, source)  # GitHub → 吉特哈布: the Mandarin voice
    if len(reading) > 2 and reading[0] == "/" and reading[-1] == "/":
        phones = ipa.canonical(reading[1:-1])
        try:
            ipa.check(phones)
        except ipa.IpaError as exc:
            raise LexiconError(f"{word!r}: {exc}") from None
        return Entry(word, lang, "ipa", phones, source)
    if not _RESPELLING.fullmatch(reading):
        raise LexiconError(
            f"{word!r}: an English reading is a respelling (letters, digits, spaces, ' . , -) "
            "or IPA between slashes"
        )
    return Entry(word, lang, "respelling", reading, source)


def _check_pinyin(word: str, reading: str) -> str:
    from ttsgate.engines.zh_frontend import split_pinyin  # pypinyin loads in 0.4 s: only when needed

    written = reading.lower().replace("u:", "ü").split()
    sylls = [_tone_number(x) for x in written]
    if sylls != written:  # tone marks: a syllable without one is neutral (dōng xi)
        sylls = [x if x[-1:].isdigit() or x == "r" or any(c in _MARKS for c in x) else f"{x}5" for x in sylls]
    sylls = _expand_erhua(word, sylls)
    if len(sylls) != len(word):
        raise LexiconError(
            f"{word!r}: {len(sylls)} pinyin syllables for {len(word)} Han characters "
            "(one per character, each with a tone 1-5, e.g. yue4 qing1)"
        )
    for ch, syl in zip(word, sylls, strict=True):
        if ch == "儿" and syl in ("r", "r5"):
            continue  # 儿化, as in data/polyphones.txt
        m = _PINYIN.fullmatch(syl)
        if m is None:
            raise LexiconError(f"{word!r}: {syl!r} needs a tone digit 1-5 after the pinyin (e.g. qing1)")
        if split_pinyin(m.group(1)) is None:
            raise LexiconError(f"{word!r}: {syl!r} is not a pinyin syllable")
    return " ".join(s.replace("ü", "v") for s in sylls)


_MARKED = ("āáǎà", "ēéěè", "īíǐì", "ōóǒò", "ūúǔù", "ǖǘǚǜ")
_MARKS = {v: (base, tone) for base, vs in zip("aeiouü", _MARKED, strict=True) for tone, v in enumerate(vs, 1)}


def _tone_number(syllable: str) -> str:
    """``yuè`` → ``yue4`` (the way most people write pinyin); a syllable with a digit is kept."""
    marked = [(i, _MARKS[ch]) for i, ch in enumerate(syllable) if ch in _MARKS]
    if len(marked) != 1 or syllable[-1:].isdigit():
        return syllable
    i, (base, tone) = marked[0]
    return f"{syllable[:i]}{base}{syllable[i + 1 :]}{tone}"


def _expand_erhua(word: str, sylls: list[str]) -> list[str]:
    """``nar3`` for 哪儿 (one syllable with 儿化 written as an r) → ``na3 r``."""
    from ttsgate.engines.zh_frontend import split_pinyin

    out: list[str] = []
    for syl in sylls:
        m = _PINYIN.fullmatch(syl)
        at = len(out)
        if (
            m is not None and m.group(1).endswith("r") and m.group(1) != "er"
            and split_pinyin(m.group(1)) is None and split_pinyin(m.group(1)[:-1]) is not None
            and word[at + 1 : at + 2] == "儿"
        ):  # fmt: skip
            out += [f"{m.group(1)[:-1]}{m.group(2)}", "r"]
        else:
            out.append(syl)
    return out


def parse_lexicon(text: str, source: str = "<lexicon>") -> dict[str, Entry]:
    """A lexicon file → {word: entry}. Raises LexiconError naming ``source:line``."""
    out: dict[str, Entry] = {}
    text = text.removeprefix("\ufeff")  # a byte-order mark (Windows Notepad, Excel's "UTF-8 CSV")
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        try:
            if len(fields) == 2:
                entry = make_entry(fields[0], fields[1])
            elif len(fields) == 3:
                if fields[1] not in ("zh", "en"):
                    raise LexiconError(f"language {fields[1]!r} is neither zh nor en")
                entry = make_entry(fields[0], fields[2], language=fields[1])
            else:
                raise LexiconError("need word<TAB>reading or word<TAB>zh|en<TAB>reading")
        except LexiconError as exc:
            raise LexiconError(f"{source}:{lineno}: {exc}") from None
        if entry.word in out:
            raise LexiconError(f"{source}:{lineno}: {entry.word!r} is already defined")
        out[entry.word] = entry
        if len(out) > MAX_FILE_ENTRIES:
            raise LexiconError(f"{source}:{lineno}: more than {MAX_FILE_ENTRIES} entries")
    return out


def request_entries(mapping: Mapping[str, str] | None, param: str = "lexicon") -> dict[str, Entry]:
    """A request's ``{"word": "reading"}`` → entries; InvalidRequestError (400 naming ``param``)."""
    if not mapping:
        return {}
    if len(mapping) > MAX_REQUEST_ENTRIES:
        raise InvalidRequestError(
            f"{param}: {len(mapping)} entries; the limit is {MAX_REQUEST_ENTRIES}",
            param=param,
            code="invalid_lexicon",
        )
    out: dict[str, Entry] = {}
    for word, reading in mapping.items():
        try:
            entry = make_entry(word, reading, source="request")
        except LexiconError as exc:
            raise InvalidRequestError(f"{param}: {exc}", param=param, code="invalid_lexicon") from None
        out[entry.word] = entry
    return out


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    entry: Entry


class Lexicon:
    """File entries with a request's entries on top; immutable, cheap to build per request.

    ``version`` is "" for an empty lexicon, else a digest of everything in it (a cache-key part).
    """

    def __init__(
        self, file: Mapping[str, Entry] | None = None, request: Mapping[str, Entry] | None = None, *,
        file_version: str = "",
    ) -> None:  # fmt: skip
        self._zh: dict[str, Entry] = {}
        self._exact: dict[str, Entry] = {}  # English words with a capital letter
        self._folded: dict[str, Entry] = {}  # all-lowercase English words, matched in any case
        for table in (file or {}, request or {}):
            for entry in table.values():
                if _HAN.fullmatch(entry.word):
                    self._zh[_simplified(entry.word)] = entry  # 乐清 matches 樂清 too
                elif entry.word == entry.word.lower():
                    self._folded[entry.word] = entry
                else:
                    self._exact[entry.word] = entry
        words = [*self._zh, *self._exact, *self._folded]
        self._max_len = max(map(len, words), default=0)
        self._first = frozenset(w[0].lower() for w in words)
        parts = [file_version] if file else []
        parts += [f"{e.word}\t{e.kind}\t{e.reading}" for e in sorted((request or {}).values(), key=_key)]
        self.version = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16] if words else ""

    def __bool__(self) -> bool:
        return bool(self._max_len)

    def find(self, text: str) -> list[Match]:
        """Non-overlapping matches in ``text``, left to right, the longest at each position."""
        if not self._max_len:
            return []
        out: list[Match] = []
        folded = _simplified(text)
        i, n = 0, len(text)
        while i < n:
            if folded[i].lower() not in self._first:
                i += 1
                continue
            found = self._longest(text, folded, i)
            if found is None:
                i += 1
                continue
            out.append(found)
            i = found.end
        return out

    def _longest(self, text: str, folded: str, i: int) -> Match | None:
        for length in range(min(self._max_len, len(text) - i), 0, -1):
            s = text[i : i + length]
            found = (self._zh.get(folded[i : i + length]), self._exact.get(s), self._folded.get(s.lower()))
            candidates = [e for e in found if e]
            best = max(candidates, key=lambda e: (e.source == "request", e.word == s), default=None)
            if best is None:
                continue
            if not _HAN.fullmatch(best.word) and not _at_boundaries(text, i, i + length):
                continue
            return Match(i, i + length, best)
        return None


_T2S = str.maketrans({to_traditional(c): c for c in SIMPLIFIED if to_traditional(c) != c})


def _simplified(text: str) -> str:
    """Traditional characters of ``script_zh``'s pairs in their Simplified form (same length)."""
    return text.translate(_T2S)


def _key(e: Entry) -> str:
    return e.word


def _at_boundaries(text: str, start: int, end: int) -> bool:
    before = start > 0 and _WORD_CHAR.match(text[start - 1]) and _WORD_CHAR.match(text[start])
    after = end < len(text) and _WORD_CHAR.match(text[end]) and _WORD_CHAR.match(text[end - 1])
    return not before and not after
