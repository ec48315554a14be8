"""Lexicon marks: how a reading given by the pronunciation lexicon travels inside a run's text.

A lexicon word whose reading is pinyin (Mandarin) or IPA (English) stays in the normalized run
text as one *mark*: ``U+E000 word U+E001 kind reading U+E002`` (``kind`` ``p`` pinyin, ``i`` IPA),
so it is never normalized again, is part of every cache key over the text, and reaches the engine,
which renders it in its own input form:

* ``zh_frontend`` (zh-baker) pins the given syllables (``pinned``);
* piper writes ``[[ipa]]`` (piper-tts reads raw phonemes there), espeak-ng ``[[mnemonics]]``
  (``ipa.to_espeak``) for its English voices;
* any other engine, or a reading the engine cannot honour (pinyin for ChatTTS or a Cantonese voice),
  gets the word as written (``plain``).

Respellings are not marks: they are substituted text. The code points U+E000–U+E00F are reserved
for marks and removed from user input (``strip_reserved``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
MarkKind = Literal["pinyin", "ipa"]
_KIND_CODE: dict[str, str] = {"pinyin": "p", "ipa": "i"}
_CODE_KIND: dict[str, MarkKind] = {"p": "pinyin", "i": "ipa"}
_RESERVED = re.compile("[\ue000-\ue00f]")
_MARK = re.compile("\ue000([^\ue000-\ue00f]+)\ue001([pi])([^\ue000-\ue00f]+)\ue002")


@dataclass(frozen=True, slots=True)
class Mark:
    word: str  # as written in the input
    kind: MarkKind
    reading: str  # pinyin syllables separated by spaces, or IPA


def mark(word: str, kind: MarkKind, reading: str) -> str:
    """The mark of ``word`` read as ``reading``, for a run's text."""
    return f"{OPEN}{word}{SEP}{_KIND_CODE[kind]}{reading}{CLOSE}"


def strip_reserved(text: str) -> str:
    """``text`` without the code points marks use (user input must not forge a mark)."""
    return _RESERVED.sub("", text)


def has_marks(text: str) -> bool:
    return OPEN in text


def pieces(text: str) -> Iterator[str | Mark]:
    """Plain text pieces and marks of ``text``, in order (empty pieces left out)."""
    pos = 0
    for m in _MARK.finditer(text):
        if m.start() > pos:
            yield text[pos : m.start()]
        yield Mark(m.group(1), _CODE_KIND[m.group(2)], m.group(3))
        pos = m.end()
    if pos < len(text):
        yield text[pos:]


def render(text: str, form: Callable[[Mark], str | None]) -> str:
    """``text`` with each mark replaced by ``form(mark)``, or by its word where that is None."""
    if OPEN not in text:
        return text
    return "".join(
        p if isinstance(p, str) else (r if (r := form(p)) is not None else p.word) for p in pieces(text)
    )


def plain(text: str) -> str:
    """``text`` with every mark replaced by its word: what an engine that honours no mark reads."""
    return render(text, lambda _: None)


def display(text: str) -> str:
    """A readable form for ``/v1/text/normalize``: ``{乐清|yue4 qing1}``, ``{Nginx|/ˈɛndʒɪn ˈɛks/}``."""
    return render(text, lambda m: f"{{{m.word}|{m.reading if m.kind == 'pinyin' else f'/{m.reading}/'}}}")


def pinned(text: str, kind: MarkKind) -> tuple[str, dict[int, Mark]]:
    """``text`` with its marks replaced by their words, and ``{offset of the word: mark}`` for the
    marks of ``kind`` (marks of another kind are just their word)."""
    if OPEN not in text:
        return text, {}
    out: list[str] = []
    at: dict[int, Mark] = {}
    size = 0
    for p in pieces(text):
        piece = p if isinstance(p, str) else p.word
        if not isinstance(p, str) and p.kind == kind:
            at[size] = p
        out.append(piece)
        size += len(piece)
    return "".join(out), at
