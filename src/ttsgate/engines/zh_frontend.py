"""Mandarin front end for the Baker voice: normalized Chinese text -> Baker phoneme symbols / ids.

Steps, per run of Han characters (anything else is a boundary, never an error):

1. pinyin from ``pypinyin`` (its phrase dictionary picks readings of polyphones), then our polyphone
   overrides on top (longest match wins; ``data/polyphones.txt`` plus an optional user file, format
   ``词 pin1 yin1``; write citation tones, sandhi is applied afterwards; ``r`` for 儿 forces 儿化),
   then the context rules of ``zh_context`` for polyphones pypinyin read alone (很长 chang2, 我得走
   dei3, 跑得快 de5, 慢慢地 de5);
2. 儿化: a 儿 that ends a word (哪儿, 一会儿, 花儿) is fused into the preceding syllable as Baker's
   ``er5`` suffix, except in words such as 女儿 or 婴儿 where it is a full syllable;
3. tone sandhi: 一 (yi2 before a 4th tone, yi4 before others, yi1 in numbers/ordinals/word-final,
   yi5 in 看一看), 不 (bu2 before a 4th tone, bu5 in 好不好), then third tone (33 -> 23, applied
   inside dictionary words first, then right to left over the run);
4. Baker symbols: ``sil``, ``initial final+tone`` per syllable (``^`` for a zero initial, ii/iii
   for the apical vowels, ``v`` for ü, y/w spelled as i/u finals), ``#0`` between syllables,
   ``#1``..``#3`` at punctuation/dropped text, ``sil`` at the end; sentences split at 。！？ etc.

Latin letters and digits between Han runs are spelled with the Mandarin approximations of their
names (``zh_letters``: A股 → ei1 gu3, 4G → si4 ji1), never dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pypinyin import Style
from pypinyin.converter import DefaultConverter
from pypinyin.core import Pinyin
from pypinyin.seg.mmseg import seg as _mmseg

from ttsgate.engines import zh_context
from ttsgate.engines.zh_letters import spelled
from ttsgate.text import marks

FRONTEND_VERSION = "zhfe-3"  # 2: Latin letters and digits spelled (zh_letters); 3: zh_context rules

_INITIALS = "b c ch d f g h j k l m n p q r s sh t x z zh"
INITIALS: tuple[str, ...] = tuple(_INITIALS.split())
_FINALS = (
    "a ai an ang ao e ei en eng er i ia ian iang iao ie ii iii in ing iong iou o ong ou u ua uai uan"
    " uang uei uen ueng uo v van ve vn"
)
FINALS: tuple[str, ...] = tuple(_FINALS.split())
# Same order as the model's baker_mapper.json (the engine checks it at load).
SYMBOLS: tuple[str, ...] = (
    "pad",
    "sil",
    "#0",
    "#1",
    "#2",
    "#3",
    "^",
    *INITIALS,
    *(f + t for f in FINALS for t in "12345"),
    "eos",
)
SYMBOL_TO_ID: Mapping[str, int] = MappingProxyType({s: i for i, s in enumerate(SYMBOLS)})

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f〇]+")
_SENTENCE_END = frozenset("。！？!?…．.")
_BREAK3 = frozenset("，,；;：:—–~～")
_BREAK2 = frozenset("、")
_SYLLABLE = re.compile(r"^([a-zv]+?)([1-5]?)$")
_NUMERALS = frozenset("零〇一二三四五六七八九十百千万亿两第")
_DIGITS = frozenset("零〇一二三四五六七八九十")
_YI_WORD_FINAL_AFTER = frozenset("统唯之专单归合划均逐初周")  # 统一, 唯一, 之一, 周一 ...
_NOT_ERHUA_WORDS = "女儿 婴儿 幼儿 孤儿 健儿 胎儿 宠儿 少儿 男儿 患儿 孙儿 妻儿 育儿 乳儿 弃儿"
_NOT_ERHUA = frozenset(_NOT_ERHUA_WORDS.split())
_SPECIAL: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"n": ("^", "en"), "ng": ("^", "en"), "m": ("^", "en"), "hm": ("h", "en"), "hng": ("h", "en")}
)


class PolyphoneFileError(ValueError):
    """A line of a polyphone override file that cannot be used."""


def split_pinyin(syllable: str) -> tuple[str, str] | None:
    """Toneless pinyin (``v`` for ü) -> Baker (initial, final), or None if it is not a syllable."""
    s = syllable.lower().replace("ü", "v").replace("u:", "v")
    if s in _SPECIAL:
        return _SPECIAL[s]
    if s.startswith("y"):
        rest = s[1:]
        if rest.startswith("u"):
            final = "v" + rest[1:]
        elif rest.startswith("i"):
            final = rest
        else:
            final = "i" + rest
        final = {"iou": "iou", "io": "iou"}.get(final, final)
        return ("^", final) if final in FINALS else None
    if s.startswith("w"):
        final = s[1:] if s[1:].startswith("u") else "u" + s[1:]
        final = {"ui": "uei", "un": "uen", "ueng": "ueng"}.get(final, final)
        return ("^", final) if final in FINALS else None
    initial = next((i for i in ("zh", "ch", "sh") if s.startswith(i)), s[:1] if s[:1] in INITIALS else "")
    final = s[len(initial) :]
    if initial in ("j", "q", "x") and final.startswith("u"):
        final = "v" + final[1:]
    elif initial in ("zh", "ch", "sh", "r") and final == "i":
        final = "iii"
    elif initial in ("z", "c", "s") and final == "i":
        final = "ii"
    elif initial in ("l", "n") and final == "ue":
        final = "ve"
    final = {"iu": "iou", "ui": "uei", "un": "uen"}.get(final, final)
    if not final or final not in FINALS:
        return None
    return (initial or "^", final)


def parse_polyphones(text: str, source: str = "<polyphones>") -> dict[str, tuple[str, ...]]:
    """``词 pin1 yin1`` lines (``#`` comments) -> {word: syllables}. Raises PolyphoneFileError."""
    out: dict[str, tuple[str, ...]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        parts = raw.split("#", 1)[0].split()
        if not parts:
            continue
        word, sylls = parts[0], tuple(p.lower().replace("ü", "v") for p in parts[1:])
        if not _HAN.fullmatch(word) or len(sylls) != len(word):
            raise PolyphoneFileError(f"{source}:{lineno}: need a Han word and one pinyin per character")
        for ch, syl in zip(word, sylls, strict=True):
            m = _SYLLABLE.match(syl)
            erhua = ch == "儿" and syl.rstrip("5") == "r"
            if not erhua and (m is None or split_pinyin(m.group(1)) is None):
                raise PolyphoneFileError(f"{source}:{lineno}: {syl!r} is not a pinyin syllable")
        out[word] = sylls
    return out


def builtin_polyphones() -> dict[str, tuple[str, ...]]:
    text = resources.files("ttsgate").joinpath("data/polyphones.txt").read_text("utf-8")
    return parse_polyphones(text, "ttsgate/data/polyphones.txt")


@dataclass(slots=True)
class _Syl:
    han: str
    pinyin: str  # toneless
    tone: int
    word_final: bool  # last character of its dictionary/override word
    in_word: int  # index of its word within the run
    erhua: bool = False


class MandarinFrontend:
    """Stateless after construction (safe to share between threads)."""

    def __init__(self, overrides: Mapping[str, Sequence[str]] | None = None) -> None:
        self._overrides = {w: tuple(s) for w, s in (overrides or {}).items()}
        self._max_len = max((len(w) for w in self._overrides), default=0)
        self._pinyin = Pinyin(DefaultConverter())
        digest = hashlib.sha256(repr(sorted(self._overrides.items())).encode()).hexdigest()[:10]
        self.version = f"{FRONTEND_VERSION}:{digest}"

    @classmethod
    def with_files(cls, *extra: Path) -> MandarinFrontend:
        """Built-in overrides, then each extra file on top (later files win)."""
        table = builtin_polyphones()
        for path in extra:
            table.update(parse_polyphones(Path(path).read_text("utf-8"), str(path)))
        zh_context.warm()  # the word classes of the context rules, loaded with the engine
        return cls(table)

    def sentences(self, text: str, max_syllables: int = 80) -> list[list[str]]:
        """Text -> sentences, each ``["sil", ..., "sil"]``; empty list if nothing is speakable."""
        out: list[list[str]] = []
        cur: list[str] = []
        pending = 0  # strongest break seen since the last syllable
        count = 0
        for item in self._tokens(text):
            if isinstance(item, int):
                if item >= 4 or (item >= 2 and count >= max_syllables):
                    if cur:
                        out.append(["sil", *cur, "sil"])
                    cur, pending, count = [], 0, 0
                else:
                    pending = max(pending, item)
                continue
            if count >= 2 * max_syllables:  # no punctuation at all: hard split
                out.append(["sil", *cur, "sil"])
                cur, pending, count = [], 0, 0
            if cur:
                cur.append(f"#{pending}")
            cur.extend(item)
            pending, count = 0, count + 1
        if cur:
            out.append(["sil", *cur, "sil"])
        return out

    def to_ids(self, text: str) -> list[list[int]]:
        """Text -> one id sequence (ending in ``eos``) per sentence, for FastSpeech2's input_ids."""
        return [[SYMBOL_TO_ID[s] for s in sent] + [SYMBOL_TO_ID["eos"]] for sent in self.sentences(text)]

    def _tokens(self, text: str) -> Iterator[int | list[str]]:
        """Yields a syllable's symbols, or an int break level (1..3; 4 = sentence end)."""
        text, pins = marks.pinned(text, "pinyin")  # pronunciation-lexicon readings (text/marks.py)
        pos = 0
        for m in _HAN.finditer(text):
            yield from self._breaks(text[pos : m.start()])
            s, e = m.span()
            at = {k - s: tuple(p.reading.split()) for k, p in pins.items() if s <= k < e}
            for syl in self._run(m.group(), at):
                phones = list(split_pinyin(syl.pinyin) or ("^", "e"))
                phones[1] += str(syl.tone)
                yield [*phones, "er5"] if syl.erhua else phones
            pos = m.end()
        yield from self._breaks(text[pos:])

    @staticmethod
    def _breaks(gap: str) -> Iterator[int | list[str]]:
        """Text between Han runs: Latin letters and digits are spelled (``zh_letters``), the rest
        are break levels (a dot inside a letter group, as in U.S.A, is a light break)."""
        for k, ch in enumerate(gap):
            letter = spelled(ch)
            if letter is not None:
                yield from ([initial, final] for initial, final in letter)
            elif ch == "." and spelled(gap[k + 1 : k + 2] or " ") is not None:
                yield 1
            elif ch in _SENTENCE_END:
                yield 4
            elif ch in _BREAK3:
                yield 3
            elif ch in _BREAK2:
                yield 2
            else:  # spaces, brackets, quotes, dropped symbols
                yield 1

    def pinyin(self, text: str) -> list[str]:
        """The readings the voice gets for the Han characters of ``text``, in citation tones
        (before tone sandhi): ``头发很长`` → ``tou2 fa5 hen3 chang2``; 儿化 as ``na3r``. What the
        polyphone accuracy set (``tests/data/polyphones_zh.tsv``) checks."""
        text, pins = marks.pinned(text, "pinyin")
        out: list[str] = []
        for m in _HAN.finditer(text):
            s, e = m.span()
            at = {k - s: tuple(p.reading.split()) for k, p in pins.items() if s <= k < e}
            out += [f"{x.pinyin}{x.tone}{'r' if x.erhua else ''}" for x in self._readings(m.group(), at)]
        return out

    def _run(self, run: str, pins: Mapping[int, tuple[str, ...]] | None = None) -> list[_Syl]:
        """The syllables of a run of Han characters, tone sandhi applied."""
        syls = self._readings(run, pins)
        _sandhi_yi_bu(syls)
        _sandhi_third(syls)
        return syls

    def _readings(self, run: str, pins: Mapping[int, tuple[str, ...]] | None = None) -> list[_Syl]:
        """The syllables of a run of Han characters in citation tones; ``pins``: {offset: syllables}
        given by the pronunciation lexicon, each a word of its own that the overrides do not touch."""
        words = list(_mmseg.cut(run))
        raw = [p[0] for p in self._pinyin.pinyin(run, style=Style.TONE3, errors=_unknown)]
        if len(raw) != len(run) or sum(map(len, words)) != len(run):  # never expected; stay aligned
            words, raw = (
                list(run),
                [self._pinyin.pinyin(c, style=Style.TONE3, errors=_unknown)[0][0] for c in run],
            )
        final = [k == len(w) - 1 for w in words for k in range(len(w))]
        word_no = [i for i, w in enumerate(words) for _ in w]
        single = [len(words[n]) == 1 for n in word_no]  # pypinyin read it alone: its default reading
        fixed = [False] * len(run)
        i, next_word = 0, len(words)
        for at, given in (pins or {}).items():
            n = len(given)
            raw[at : at + n] = list(given)
            fixed[at : at + n] = [True] * n
            word_no[at : at + n] = [next_word] * n
            final[at : at + n] = [False] * (n - 1) + [True]
            next_word += 1
        while i < len(run):  # longest-match overrides
            for length in range(min(self._max_len, len(run) - i), 0, -1):
                if pins and any(fixed[i : i + length]):
                    continue
                sylls = self._overrides.get(run[i : i + length])
                if sylls is not None:
                    raw[i : i + length] = list(sylls)
                    fixed[i : i + length] = [True] * length
                    word_no[i : i + length] = [next_word] * length
                    final[i : i + length] = [False] * (length - 1) + [True]
                    next_word, i = next_word + 1, i + length
                    break
            else:
                i += 1
        zh_context.apply(run, raw, single, fixed)  # polyphones decided by their neighbours
        syls: list[_Syl] = []
        for k, (ch, py) in enumerate(zip(run, raw, strict=True)):
            is_r = ch == "儿" and py.rstrip("5") == "r"
            if ch == "儿" and syls and (is_r or (not fixed[k] and self._erhua(run, k, final[k]))):
                syls[-1].erhua = True
                syls[-1].word_final = final[k]
                continue
            m = _SYLLABLE.match(py)
            if m is None or split_pinyin(m.group(1)) is None:
                continue  # unknown character: drop it
            syls.append(_Syl(ch, m.group(1), int(m.group(2) or 5), final[k], word_no[k]))
        return syls

    @staticmethod
    def _erhua(run: str, k: int, word_final: bool) -> bool:
        return k > 0 and word_final and run[k - 1 : k + 1] not in _NOT_ERHUA


def _unknown(chars: str) -> Any:
    return ["?"] * len(chars)  # one placeholder per character keeps the pinyin aligned


def _sandhi_yi_bu(syls: list[_Syl]) -> None:
    for k in range(len(syls) - 2, -1, -1):  # right to left: 不一样 sees 一's new tone
        s, nxt = syls[k], syls[k + 1]
        prev = syls[k - 1].han if k > 0 else ""
        if s.han == "一" and (prev in _NUMERALS or nxt.han in _DIGITS):
            s.tone = 1  # a number or ordinal: 十一个, 第一, 一二三
        elif s.han == "一" and s.tone == 1:
            if prev in _YI_WORD_FINAL_AFTER:
                continue
            if s.word_final and k > 0 and syls[k - 1].in_word == s.in_word:
                continue  # 一 ending a dictionary word
            if prev == nxt.han:
                s.tone = 5
            else:
                s.tone = 2 if nxt.tone == 4 else 4
        elif s.han == "不" and s.tone == 4:
            if prev == nxt.han:
                s.tone = 5
            elif nxt.tone == 4:
                s.tone = 2


def _sandhi_third(syls: list[_Syl]) -> None:
    orig = [s.tone for s in syls]
    for k in range(len(syls) - 1):  # inside words: every 3rd tone before a 3rd becomes 2nd
        if orig[k] == 3 and orig[k + 1] == 3 and syls[k].in_word == syls[k + 1].in_word:
            syls[k].tone = 2
    for k in range(len(syls) - 2, -1, -1):  # across words, right to left
        if syls[k].tone == 3 and syls[k + 1].tone == 3:
            syls[k].tone = 2
