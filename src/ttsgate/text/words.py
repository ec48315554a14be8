"""Chinese word boundaries, for cutting a long first segment where a speaker could pause.

A request's first audio waits for its whole first segment to be synthesized, so a long first
sentence with no comma in reach ("去海边的火车每小时从北站发出一班。", 16 characters, ~0.45 s of
synthesis on 2 cores) delays every listener and, under load, makes each new stream's first
segment the most expensive work in the queue. ``first_word_cut`` finds a place to cut it at a word
boundary (jieba's dictionary segmentation, https://github.com/fxsjy/jieba, MIT), preferring the
boundary between two Chinese words (never next to digits, letters or symbols, whose reading
depends on their neighbours) before a one-character function word (a preposition or adverb such
as 在 从 每 再 对 会: the start of a phrase, where Mandarin speakers pause naturally), nearest to
``TARGET`` characters.

The tokenizer loads its dictionary once (~1 s, ~30 MB): ``warm()`` does it at start-up. It is
jieba's own ``Tokenizer`` holding the dictionary's words only, as UTF-32 bytes (``WordsTokenizer``):
jieba also keeps every prefix of every word (150 000 more keys) just to know when to stop looking
for a longer word, all as ``str`` (63 MB in all); without them a word is looked up at every length
up to the longest word's. The words found, and so every cut, are the same.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
import warnings
from typing import Any

# jieba 0.42.1 (its last release) has invalid escape sequences in regex literals: compiling its source
# warns (DeprecationWarning on 3.11, SyntaxWarning on 3.12+) whenever no byte-code is cached
# (PYTHONDONTWRITEBYTECODE, a read-only venv), on every start, and `-W error` makes the warning a
# SyntaxError. An unknown escape such as \. keeps its backslash, which is what jieba's regexes need, so
# the warning is only noise: silenced here (tests/unit/test_words_tokenizer.py).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "invalid escape sequence", SyntaxWarning)
    warnings.filterwarnings("ignore", "invalid escape sequence", DeprecationWarning)
    import jieba as jieba  # re-exported: zh_context imports it from here

TARGET = 8  # Han characters in the first piece, ideally (~1.8 s of speech)
MIN_HEAD, MAX_HEAD = 5, 12  # bounds of the first piece, in speakable characters
MIN_TAIL = 4  # speakable characters that must follow the cut
MIN_PIECE = 12  # Han characters a piece needs before it is cut at all
LOOKAHEAD = 8  # characters past a cut limit that cut_at_words reads (jieba words are rarely longer)
# One-character words that open a phrase: prepositions, adverbs, modal verbs, conjunctions.
_PHRASE_OPENERS = frozenset("在从向往对把被给跟和与每再又也都就才还会要能可将让但而并却由为于")
_SPEAKABLE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Particles that lean on the word before them: never the first character after a cut.
_ENCLITICS = frozenset("的地得了着过吗呢吧啊呀嘛么们")
_ALL_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_lock = threading.Lock()


_CODE = "utf-32-le"  # dictionary keys: 4 bytes per character (48 bytes a word instead of 80 as str)


class WordsTokenizer(jieba.Tokenizer):  # type: ignore[misc]  # jieba has no type hints
    """jieba's ``Tokenizer`` over its default dictionary, holding its words only and compactly.

    jieba's ``FREQ`` holds every word and every prefix of every word (frequency 0, a third of its
    keys) as ``str``. Here ``words`` holds the words of non-zero frequency as UTF-32 ``bytes``
    (a key is then ~40 % smaller), ``get_DAG`` looks each candidate up at every length up to the
    longest word that starts with its first character (instead of stopping at the first length
    that is no word's prefix) and ``calc`` is jieba's with those keys. A word is found exactly when
    jieba finds it (all its prefixes are in jieba's table), a missing key counts as jieba's 0 does,
    ``total`` is jieba's sum and the arithmetic is jieba's, so ``cut(..., HMM=False)``, the only
    cut allowed, gives jieba's words."""

    def __init__(self) -> None:
        super().__init__()
        path = os.path.join(os.path.dirname(jieba.__file__), jieba.DEFAULT_DICT_NAME)
        words: dict[bytes, int] = {}
        total = 0
        with open(path, "rb") as f:
            for line in f:  # as jieba's gen_pfdict reads it: a later line of the same word wins
                word, count = line.strip().decode("utf-8").split(" ")[:2]
                words[word.encode(_CODE)] = int(count)  # straight to bytes: no str left to free
                total += int(count)
        for key in [key for key, n in words.items() if not n]:
            del words[key]  # words with frequency 0 are none for jieba
        self.words = words
        self.reach: dict[str, int] = {}  # {first character: length of the longest word it starts}
        for key in words:
            first = key[:4].decode(_CODE)
            self.reach[first] = max(self.reach.get(first, 0), len(key) // 4)
        self.total = total
        self.initialized = True

    def cut(self, sentence: str, cut_all: bool = False, HMM: bool = True, use_paddle: bool = False) -> Any:
        """jieba's ``cut`` with ``HMM=False``; anything else raises ``ValueError`` (it would read
        jieba's prefix table, which is not kept)."""
        if cut_all or HMM or use_paddle:
            raise ValueError("WordsTokenizer cuts with HMM=False only")
        return super().cut(sentence, cut_all=False, HMM=False)

    def get_DAG(self, sentence: str) -> dict[int, list[int]]:  # jieba's name
        """{start: [end index of each dictionary word starting there]}, ``[start]`` when none."""
        words, reach = self.words, self.reach
        code = sentence.encode(_CODE, "surrogatepass")  # character k is code[4k:4k + 4]
        n = len(sentence)
        dag: dict[int, list[int]] = {}
        for k in range(n):
            stop = min(n, k + reach.get(sentence[k], 0))
            ends = [i for i in range(k, stop) if words.get(code[4 * k : 4 * i + 4])]
            dag[k] = ends or [k]
        return dag

    def calc(self, sentence: str, dag: dict[int, list[int]], route: dict[int, tuple[float, int]]) -> None:
        """jieba's ``calc`` (the most probable path through ``dag``, from the end), same arithmetic."""
        words = self.words
        code = sentence.encode(_CODE, "surrogatepass")
        n = len(sentence)
        route[n] = (0, 0)
        logtotal = math.log(self.total)
        for idx in range(n - 1, -1, -1):
            route[idx] = max(
                (math.log(words.get(code[4 * idx : 4 * x + 4]) or 1) - logtotal + route[x + 1][0], x)
                for x in dag[idx]
            )


@functools.cache
def _tokenizer() -> WordsTokenizer:
    """jieba's tokenizer with its default dictionary, built once per process (module cache: the
    dictionary is immutable, so one copy serves every request)."""
    with _lock:
        jieba.setLogLevel(logging.WARNING)  # its dictionary-loading messages are DEBUG noise
        return WordsTokenizer()


def warm() -> None:
    """Load the dictionary now (start-up) rather than on the first long sentence."""
    _tokenizer()


def first_word_cut(text: str, start: int, end: int) -> int | None:
    """Where to cut ``text[start:end]`` (a first clause or sentence) into a short head and the
    rest, as an index into ``text``; None when the piece is short or not Chinese enough, or when
    no word boundary leaves ``MIN_HEAD``..``MAX_HEAD`` speakable characters before it and
    ``MIN_TAIL`` after it. Depends on ``text[start:end]`` only."""
    piece = text[start:end]
    han = len(_HAN.findall(piece))
    if han < MIN_PIECE or han < 0.6 * len(_SPEAKABLE.findall(piece)):
        return None
    best: tuple[int, int, int] | None = None  # (not an opener, distance to TARGET, offset)
    pos = 0
    spoken = 0
    total = len(_SPEAKABLE.findall(piece))
    words = list(_tokenizer().cut(piece, HMM=False))
    for i, word in enumerate(words):
        pos += len(word)
        spoken += len(_SPEAKABLE.findall(word))
        if not MIN_HEAD <= spoken <= MAX_HEAD or total - spoken < MIN_TAIL or i + 1 >= len(words):
            continue
        nxt = words[i + 1]
        if not (_ALL_HAN.fullmatch(word) and _ALL_HAN.fullmatch(nxt)):
            continue  # never next to digits, letters or symbols: "3|度", "2026年11|月" read differently
        opener = len(nxt) == 1 and nxt in _PHRASE_OPENERS
        if nxt[0] in _ENCLITICS or word[-1] == "的" or word in _PHRASE_OPENERS:
            continue  # "比赛|的比分", "几个月的|努力", "从|北站": these lean on their neighbour
        if len(nxt) == 1 and not opener:
            continue  # a one-character word is mostly bound to the one before: "几个|月", "馆|里"
        rank = (0 if opener else 1, abs(spoken - TARGET), pos)
        if best is None or rank < best:
            best = rank
    return None if best is None else start + best[2]


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


# A Latin word or a number with its inner marks (3.1415, 1,000, 9:30, v2.3.1): never cut inside.
_TOKEN = re.compile(r"[0-9A-Za-z０-９]+(?:[.,:：/\-][0-9A-Za-z０-９]+)*")


def cut_at_words(text: str, limit: int) -> int:
    """Where to end the first piece of ``text`` so that it holds at most ``limit`` characters and
    ends between two words: an index into ``text`` in ``1..limit`` (``len(text)`` when it fits).

    For text with no comma or space to cut at (unpunctuated Chinese). Word boundaries are jieba's,
    over ``text[:limit + LOOKAHEAD]`` only (a word cut off by the window's end would yield false
    boundaries; more text than that does not change the answer, so a stream can cut once it has
    that much). The latest
    boundary in the second half of the window wins, from the first tier that has one: (1) between
    two words neither of which touches the boundary with a Latin letter or digit, and not before a
    particle that leans on the word before (的 了 吗 …); (2) any boundary not inside a Latin word or
    number (``_TOKEN``: 3.1415, 9:30, v2.3.1 are one) and not right before a number; (3) right
    before a number (the word before it may decide its reading, 验证码|384756, so only when there is
    nothing better); (4) ``limit`` moved back to the start of the word or number it falls in; a number
    longer than the whole window is cut between two of its digits. So ``我…我母亲很好`` is never cut
    母|亲, ``2026`` never 20|26 and ``3.1415`` never 3.|1415. Raises ``ValueError`` for
    ``limit < 1``.
    """
    if limit < 1:
        raise ValueError("limit must be >= 1")
    if len(text) <= limit:
        return len(text)
    window = text[: limit + LOOKAHEAD]
    bounds: list[int] = []
    pos = 0
    for word in _tokenizer().cut(window, HMM=False):
        pos += len(word)
        if pos <= limit:
            bounds.append(pos)
    low = max(1, limit // 2)
    tokens = [m.span() for m in _TOKEN.finditer(window)]

    def tier(cut: int) -> int:
        before, after = window[cut - 1], window[cut]
        if any(a < cut < b for a, b in tokens):
            return 4
        if after.isdigit():
            return 3  # the word before a number may decide its reading (验证码|384756)
        if _ascii_alnum(before) or _ascii_alnum(after) or after in _ENCLITICS:
            return 2
        return 1

    for wanted in (1, 2, 3):
        found = [b for b in bounds if b >= low and tier(b) <= wanted]
        if found:
            return found[-1]
    inner = next(((a, b) for a, b in tokens if a < limit < b), None)
    if inner is None:
        return limit
    if inner[0] > 1:
        return inner[0]  # before the number or word rather than inside it (圆周率是|3.1415…)
    cut = limit  # a number longer than the limit: between two of its digits, never at a mark (3.|14)
    while cut > 1 and not (window[cut - 1].isalnum() and window[cut].isalnum()):
        cut -= 1
    return cut if cut > 1 else limit


def split_at_words(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, each cut by ``cut_at_words``;
    concatenated they give ``text``."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = cut_at_words(text, limit)
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    return pieces
