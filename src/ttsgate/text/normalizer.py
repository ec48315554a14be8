"""``TextNormalizer``: the object the server holds, with the wetext graphs and a bounded cache.

Pipeline per call: split the text into sentences (wetext's cost grows faster than linearly with
length, and sentences repeat across requests), then per sentence, through an LRU cache:

1. our rules (``normalize_zh.rules_zh`` / ``normalize_en.rules_en``) rewrite every pattern they
   know: they fix wetext's weak spots (ID digit strings, thousands separators, letter-hyphen-digit,
   ％/～, 二/两, escaped quotes) and are ~50× faster than the FSTs;
2. a sentence that still holds an Arabic digit goes to wetext's FSTs (``WetextGraphs``);
3. anything left is read digit by digit, so zh output never holds an Arabic digit.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import OrderedDict
from typing import Literal

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text.normalize_en import rules_en
from ttsgate.text.normalize_zh import rules_zh
from ttsgate.text.numbers_en import digit_string as en_digits
from ttsgate.text.numbers_zh import digit_string as zh_digits
from ttsgate.text.script_zh import is_traditional, to_traditional
from ttsgate.text.wetext_graphs import WetextGraphs

Lang = Literal["zh", "en"]
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])|(?<=[，、])(?=.{40})|(?<=,)(?!\s?\d)(?=.{40})", re.S)
_DIGITS = re.compile(r"[0-9]+")
#: Longest sentence handed to wetext; longer ones skip to the digit-by-digit sweep.
_WETEXT_MAX_CHARS = 160


def parse_lang(lang: str) -> Lang:
    """``"zh"``, ``"zh-CN"``, ``"cmn"`` → zh; ``"en"``, ``"en-US"`` → en; else InvalidRequestError."""
    base = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    if base in ("zh", "cmn", "yue"):
        return "zh"
    if base == "en":
        return "en"
    raise InvalidRequestError(f"unsupported language {lang!r}; expected 'zh' or 'en'", param="lang")


def split_sentences(text: str) -> list[str]:
    """Split losslessly (``"".join(result) == text``) after sentence ends and, in long stretches,
    after commas when at least 40 characters follow."""
    return [p for p in _SENTENCE_END.split(text) if p]


class TextNormalizer:
    """Text normalisation for speech (zh and en), holding wetext's graphs and an LRU cache.

    Create once (loading the graphs takes ~0.3 s and ~30 MB) and share: ``normalize`` is
    thread-safe. ``digit_one`` is how 1 is read in digit strings (phone numbers, codes):
    ``"幺"`` (default, as on the phone) or ``"一"``; years always use 一.
    """

    def __init__(self, *, digit_one: str = "幺", cache_size: int = 8192, use_wetext: bool = True) -> None:
        if digit_one not in ("幺", "一"):
            raise InvalidRequestError("digit_one must be '幺' or '一'", param="digit_one")
        if cache_size < 0:
            raise InvalidRequestError("cache_size must be >= 0", param="cache_size")
        self.digit_one = digit_one
        self.cache_size = cache_size
        self._graphs: dict[str, WetextGraphs] = (
            {"zh": WetextGraphs("zh"), "en": WetextGraphs("en")} if use_wetext else {}
        )
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()
        self.wetext_calls = 0

    def normalize(self, text: str, lang: str = "zh") -> str:
        """Spoken form of ``text`` in ``lang`` ("zh" or "en"); idempotent."""
        code = parse_lang(lang)
        if not text:
            return ""
        return "".join(self._sentence(piece, code) for piece in split_sentences(text))

    def cache_clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def _sentence(self, sentence: str, lang: Lang) -> str:
        key = (lang, sentence)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self._uncached(sentence, lang)
        if self.cache_size:
            with self._lock:
                self._cache[key] = result
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return result

    def _uncached(self, sentence: str, lang: Lang) -> str:
        out = rules_zh(sentence, one=self.digit_one) if lang == "zh" else rules_en(sentence)
        if not _DIGITS.search(out):
            return out
        graphs = self._graphs.get(lang)
        if graphs is not None and len(out) <= _WETEXT_MAX_CHARS:
            self.wetext_calls += 1
            with contextlib.suppress(Exception):  # no path in the grammar: keep ours, sweep below
                out = graphs(out)
            if lang == "zh" and is_traditional(sentence):
                out = to_traditional(out)  # wetext writes Simplified
        if lang == "zh":
            return _DIGITS.sub(lambda m: zh_digits(m.group(0)), out)
        return _DIGITS.sub(lambda m: " " + en_digits(m.group(0)) + " ", out).replace("  ", " ")
