"""Sentence segmentation for streaming synthesis.

``split_segments`` cuts a text into pieces worth one synthesis call each (``live.py`` does the same
over a token stream). Segments are slices of the input with the surrounding whitespace stripped:
concatenated they give the input less the whitespace at the cuts. A *speakable* character is a
letter or digit of any script (``_SPEAKABLE``); a piece with none is never a segment of its own.

The first segment is special, so that the first audio leaves early: it ends at the *first clause
boundary* (，、：, ; : — a comma inside a number such as 1,000 or a URL's ``://`` is not one) whose
clause is at most ``first_max`` characters and holds at least ``FIRST_CLAUSE_MIN`` speakable
characters, provided at least ``MIN_SPEAKABLE`` of them follow it in the same sentence. Both
thresholds are 3, the length below which ``_merge_short`` already judges a piece too short to sound
natural alone: "Sure," "Yes," "没问题，" are cut off; "So," "Hi," "好的，" are not (two letters or Han
characters are a blip of audio, too short to cover the next segment's synthesis). Requiring speech
*after* the boundary keeps a short sentence ("Okay, go.") whole. Every condition only becomes true
as text is appended and never false again, so a stream can release the clause as soon as it holds.
With ``first_max >= max_len`` the first segment is cut like any other.

A sentence longer than ``max_len`` is cut at its last comma in reach, else its last space, else
between two words (``words.cut_at_words``: jieba's boundaries, never inside a word or a number).
"""

from __future__ import annotations

import re

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text.cleanup import EMAIL, URL
from ttsgate.text.words import LOOKAHEAD, cut_at_words, first_word_cut

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "u.s",
        "u.k",
        "u.n",
        "e.u",
        "a.m",
        "p.m",
        "no",
        "inc",
        "ltd",
        "corp",
        "dept",
        "approx",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "fig",
        "gen",
        "gov",
        "sen",
        "rep",
        "ave",
    ]
)
_CJK_END = re.compile(r"[。！？；…]+[”’」』）)\]\"']*|\n+")
_ASCII_END = re.compile(r"[.!?]+[\"')\]”’]*(?=\s)")
# A colon followed by a number introduces it (验证码：384756, 9：30, 比分3：2, Code: A1234): never a cut,
# in either width; at most two letters before the digit, so three speakable characters after the
# colon always decide it (the first-clause cut needs them: a stream decides as the whole text does).
_NUMBER_AHEAD = r"[ \t]*[-+±~¥$€£￥#]?[A-Za-z]{0,2}[0-9０-９]"
_COMMA = re.compile(rf"[，、；]|：(?!{_NUMBER_AHEAD})|,(?!\d)|;|(?<!\d):(?!{_NUMBER_AHEAD}|//)")
# Markdown and HTML constructs of raw (stream) text, cleaned as a whole by ``cleanup``: never cut
# inside (请看[这个链接。点击这里](https://example.com)); whole texts are cleaned before they are cut.
_MARKUP = re.compile(r"!?\[[^\]\n]*\]\((?:[^()\n]|\([^)\n]*\))*\)|(`+)[^`\n]+\1|<[A-Za-z/][^<>\n]*>")
_LIST_NUMBER = re.compile(r"[ \t]*\d{1,3}")  # a line holding only this before a "." is a list marker
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_SPEAKABLE = re.compile(r"[^\W_]")  # a letter or digit of any script: what a voice can say
MIN_SPEAKABLE = 3
FIRST_CLAUSE_MIN = 3

Span = tuple[int, int]


def _is_abbreviation(text: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(text, 0, dot)
    if m is None:
        return False
    word = m.group(1).lower()
    return word in _ABBREVIATIONS or len(word) == 1 or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def markup_spans(text: str) -> list[Span]:
    """The (start, end) of every Markdown link or image, inline code, HTML tag, URL and e-mail
    address in ``text``: ``cleanup`` reads each as a whole (a URL's ``;`` or ``,`` is no cut)."""
    spans = [m.span() for m in _MARKUP.finditer(text)]
    if "@" in text or "://" in text or "www." in text.lower():
        spans += [m.span() for m in EMAIL.finditer(text)] + [m.span() for m in URL.finditer(text)]
    return spans


def _inside(spans: list[Span], pos: int) -> bool:
    return any(a < pos < b for a, b in spans)


def is_list_marker(text: str, dot: int) -> bool:
    """Whether the ``.`` at ``dot`` ends a numbered-list marker (a line that is ``1.`` so far)."""
    return bool(_LIST_NUMBER.fullmatch(text, text.rfind("\n", 0, dot) + 1, dot))


def _sentence_ends(text: str) -> list[int]:
    """Where sentences end: after 。！？；… and newlines, after ASCII ``.!?`` before whitespace (not
    after an abbreviation or a list marker ``1.``); never inside a Markdown construct."""
    ends = {m.end() for m in _CJK_END.finditer(text)}
    for m in _ASCII_END.finditer(text):
        dot = text[m.start()] == "." and m.end() - m.start() == 1
        if dot and (_is_abbreviation(text, m.start()) or is_list_marker(text, m.start())):
            continue
        ends.add(m.end())
    spans = markup_spans(text)
    return sorted(e for e in ends if not _inside(spans, e))


def _speakable(text: str) -> int:
    return len(_SPEAKABLE.findall(text))


def _cut_long(text: str, span: Span, limit: int, final: bool = True) -> list[Span]:
    """Cut a span longer than ``limit`` at commas, greedily; then at spaces; then between two words
    (``words.cut_at_words``, which looks ``LOOKAHEAD`` characters past the limit: a word cut off
    by the window's end is not a word). ``final=False``: the span may still grow, so a word cut
    waits until the lookahead is there (the same cut as for the whole text)."""
    start, end = span
    out: list[Span] = []
    markup = markup_spans(text)
    while end - start > limit:
        window = text[start : start + limit + 1]
        cuts = [
            m.end()
            for m in _COMMA.finditer(window)
            if _speakable(window[: m.end()]) >= MIN_SPEAKABLE and not _inside(markup, start + m.end())
        ]
        if not cuts:  # spaces, but not between two digits (6222 0212 3456 7890 is one number)
            cuts = [
                m.end()
                for m in re.finditer(r"\s+", window)
                if m.start() > 0
                and not (window[m.start() - 1].isdigit() and window[m.end() : m.end() + 1].isdigit())
                and not _inside(markup, start + m.end())
            ]
        if not cuts and not final and end == len(text) and end - start < limit + LOOKAHEAD:
            break
        if not cuts:  # unpunctuated (Chinese): between two words, never inside one (母|亲)
            cuts = [cut_at_words(text[start : min(end, start + limit + LOOKAHEAD)], limit)]
        out.append((start, start + cuts[-1]))
        start += cuts[-1]
    out.append((start, end))
    return out


def _strip(text: str, span: Span) -> Span:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _merge_short(text: str, spans: list[Span], max_len: int, *, complete: bool = True) -> list[Span]:
    """Merge pieces too short to stand alone into a neighbour; with ``complete=False`` (the text may
    go on) a short last piece is left alone: it is unfinished, not short."""
    out: list[Span] = []
    for span in spans:
        if out and _speakable(text[span[0] : span[1]]) == 0:
            out[-1] = (out[-1][0], span[1])  # punctuation only: belongs to the sentence before
        elif (
            out
            and _speakable(text[out[-1][0] : out[-1][1]]) < MIN_SPEAKABLE
            and span[1] - out[-1][0] <= max_len
        ):
            out[-1] = (out[-1][0], span[1])  # the piece before is too short to sound natural alone
        else:
            out.append(span)
    if (
        complete
        and len(out) > 1
        and _speakable(text[out[-1][0] : out[-1][1]]) < MIN_SPEAKABLE
        and out[-1][1] - out[-2][0] <= max_len
    ):
        last = out.pop()
        out[-1] = (out[-1][0], last[1])
    return out


def segment_spans(
    text: str, *, first_max: int | None = 20, max_len: int = 80, complete: bool = True, final: bool = True
) -> list[Span]:
    """The (start, end) slices of ``text`` that ``split_segments`` returns (``first_max=None``: no
    first-clause cut, as for the text after a stream's first segment; ``complete=False``: ``text``
    may go on, so a short last piece is not merged into the segment before it; ``final=False``: a
    first sentence without its closing punctuation is not finished, so not cut at a word yet)."""
    if max_len < 8 or (first_max is not None and first_max < 4):
        raise InvalidRequestError("max_len must be >= 8 and first_max >= 4", param="max_len")
    if first_max is not None and first_max < max_len:
        start = _strip(text, (0, len(text)))[0]
        clause = _first_clause_end(text, first_max, max_len)
        piece_end = clause if clause is not None else _first_sentence_end(text, start, max_len, final)
        word = first_word_cut(text, start, piece_end) if piece_end is not None else None
        # Exactly what IncrementalSegmenter does: the first piece (a long one cut at a word), then
        # the rest of the clause, then the rest on its own.
        heads = [(start, word), (word, clause)] if word is not None and clause is not None else []
        if word is not None and clause is None:
            heads, clause = [(start, word)], word
        elif word is None and clause is not None:
            heads = [(start, clause)]
        if clause is not None:
            rest = _body_spans(text[clause:], max_len, complete, final)
            return [_strip(text, h) for h in heads] + [(a + clause, b + clause) for a, b in rest]
    return _body_spans(text, max_len, complete, final)


def _first_sentence_end(text: str, start: int, max_len: int, final: bool) -> int | None:
    """The end of the first sentence when it is closed (a sentence end, or the end of a final
    text) and not longer than ``max_len``; else None."""
    end = next(
        (e for e in _sentence_ends(text) if e > start and _speakable(text[start:e])),
        len(text) if final else None,
    )
    return end if end is not None and end - start <= max_len else None


def _body_spans(text: str, max_len: int, complete: bool = True, final: bool = True) -> list[Span]:
    spans: list[Span] = []
    start = 0
    for end in [*_sentence_ends(text), len(text)]:
        if end > start:
            spans.extend(_cut_long(text, (start, end), max_len, final))
            start = end
    spans = [s for s in (_strip(text, sp) for sp in spans) if s[1] > s[0]]
    return _merge_short(text, spans, max_len, complete=complete)


def _first_clause_end(text: str, first_max: int, max_len: int) -> int | None:
    """Where the first segment ends early: the end of the first sentence's first clause boundary
    (``_COMMA``) with a clause of at most ``first_max`` characters holding ``FIRST_CLAUSE_MIN``
    speakable characters, followed by ``MIN_SPEAKABLE`` more in the sentence (counted within its
    first ``max_len`` characters, where a long sentence is cut anyway). ``None`` when there is none.

    Each condition, once true for a prefix of a text, stays true for the whole text: a stream can
    release the clause as soon as it holds, and the whole text is cut at the same place.
    """
    start, _ = _strip(text, (0, len(text)))
    end = next((e for e in _sentence_ends(text) if e > start and _speakable(text[start:e])), len(text))
    end = min(end, start + max_len + 1)
    markup = markup_spans(text)
    for m in _COMMA.finditer(text, start):  # no endpos: the lookaheads must see the real text
        if m.end() >= end or m.end() - start > first_max:
            break
        if _inside(markup, m.end()):
            continue
        if _speakable(text[start : m.end()]) < FIRST_CLAUSE_MIN:
            continue
        if _speakable(text[m.end() : end]) >= MIN_SPEAKABLE:
            return m.end()
        break  # later boundaries have even less speech after them
    return None


def split_segments(text: str, *, first_max: int = 20, max_len: int = 80) -> list[str]:
    """Split ``text`` into speakable segments.

    Sentences end at 。！？!?；… and newlines (an ASCII ``.`` only before whitespace and not after
    an abbreviation such as Mr. or U.S., so decimals and URLs stay whole). Sentences longer than
    ``max_len`` are cut at commas (，、,;：); pieces with fewer than three letters, digits or Han
    characters are merged into a neighbour. The first segment ends at the first clause boundary
    of at most ``first_max`` characters with enough speech on both sides (see the module
    docstring), so the first audio leaves early; ``first_max >= max_len`` turns that off.
    """
    return [text[a:b] for a, b in segment_spans(text, first_max=first_max, max_len=max_len)]
