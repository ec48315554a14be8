"""Sentence segmentation for streaming synthesis.

``split_segments`` cuts a text into pieces worth one synthesis call each; ``IncrementalSegmenter``
does the same over a token stream, releasing a segment as soon as its end is certain. Segments are
slices of the input with the surrounding whitespace stripped: concatenated they give the input
less the whitespace at the cuts.
"""

from __future__ import annotations

import re

from ttsgate.exceptions import InvalidRequestError

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
_COMMA = re.compile(r"[，、；：]|,(?!\d)|;|(?<!\d):(?!\d|//)")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_SPEAKABLE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
MIN_SPEAKABLE = 3

Span = tuple[int, int]


def _is_abbreviation(text: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(text, 0, dot)
    if m is None:
        return False
    word = m.group(1).lower()
    return word in _ABBREVIATIONS or len(word) == 1 or bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def _sentence_ends(text: str) -> list[int]:
    ends = {m.end() for m in _CJK_END.finditer(text)}
    for m in _ASCII_END.finditer(text):
        if text[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(text, m.start()):
            continue
        ends.add(m.end())
    return sorted(ends)


def _speakable(text: str) -> int:
    return len(_SPEAKABLE.findall(text))


def _cut_long(text: str, span: Span, limit: int, *, commas_only: bool = False) -> list[Span]:
    """Cut a span longer than ``limit`` at commas, greedily; then at spaces or anywhere
    (with ``commas_only``: at the last comma within the limit, or not at all)."""
    start, end = span
    out: list[Span] = []
    while end - start > limit:
        window = text[start : start + limit + 1]
        cuts = [m.end() for m in _COMMA.finditer(window) if _speakable(window[: m.end()]) >= MIN_SPEAKABLE]
        if not cuts and commas_only:
            break
        if not cuts:
            cuts = [m.end() for m in re.finditer(r"\s+", window) if m.start() > 0]
        if not cuts:
            cut = limit
            while cut > 1 and window[cut - 1 : cut + 1].isascii() and window[cut - 1 : cut + 1].isalnum():
                cut -= 1
            cuts = [cut if cut > 1 else limit]
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


def _merge_short(text: str, spans: list[Span], max_len: int) -> list[Span]:
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
        len(out) > 1
        and _speakable(text[out[-1][0] : out[-1][1]]) < MIN_SPEAKABLE
        and out[-1][1] - out[-2][0] <= max_len
    ):
        last = out.pop()
        out[-1] = (out[-1][0], last[1])
    return out


def segment_spans(text: str, *, first_max: int | None = 20, max_len: int = 80) -> list[Span]:
    """The (start, end) slices of ``text`` that ``split_segments`` returns."""
    if max_len < 8 or (first_max is not None and first_max < 4):
        raise InvalidRequestError("max_len must be >= 8 and first_max >= 4", param="max_len")
    spans: list[Span] = []
    start = 0
    for end in [*_sentence_ends(text), len(text)]:
        if end > start:
            spans.extend(_cut_long(text, (start, end), max_len))
            start = end
    spans = [s for s in (_strip(text, sp) for sp in spans) if s[1] > s[0]]
    spans = _merge_short(text, spans, max_len)
    if first_max is not None and spans and spans[0][1] - spans[0][0] > first_max:
        head, rest = _cut_long(text, spans[0], first_max, commas_only=True)[0], spans[0]
        if _speakable(text[head[1] : rest[1]]) >= MIN_SPEAKABLE:
            spans[0:1] = [_strip(text, head), _strip(text, (head[1], rest[1]))]
    return spans


def split_segments(text: str, *, first_max: int = 20, max_len: int = 80) -> list[str]:
    """Split ``text`` into speakable segments.

    Sentences end at 。！？!?；… and newlines (an ASCII ``.`` only before whitespace and not after
    an abbreviation such as Mr. or U.S., so decimals and URLs stay whole). Sentences longer than
    ``max_len`` are cut at commas (，、,;：); pieces with fewer than three letters, digits or Han
    characters are merged into a neighbour; the first segment is cut to ``first_max`` characters
    at a comma (or a space) where possible, so the first audio leaves early.
    """
    return [text[a:b] for a, b in segment_spans(text, first_max=first_max, max_len=max_len)]


class IncrementalSegmenter:
    """Segments a text that arrives a few characters at a time (LLM token stream).

    ``feed`` returns the segments whose end is already certain: a sentence end followed by more
    text or whitespace, a newline, or a comma cut in a long sentence. ``flush`` returns the rest.
    """

    def __init__(self, *, first_max: int = 20, max_len: int = 80) -> None:
        segment_spans("", first_max=first_max, max_len=max_len)  # validates
        self.first_max = first_max
        self.max_len = max_len
        self._buffer = ""
        self._emitted = 0

    def feed(self, delta: str) -> list[str]:
        self._buffer += delta
        spans = segment_spans(
            self._buffer, first_max=self.first_max if not self._emitted else None, max_len=self.max_len
        )
        if not spans:
            return []
        ready = spans[:-1]
        last = spans[-1]
        tail = self._buffer[last[1] :]
        closed = last[1] in _sentence_ends(self._buffer) or (
            tail != "" and last[1] in _sentence_ends(self._buffer[: last[1]] + " ")
        )
        if closed and tail and _speakable(self._buffer[last[0] : last[1]]) >= MIN_SPEAKABLE:
            ready = spans
        if not ready:
            return []
        out = [self._buffer[a:b] for a, b in ready]
        self._buffer = self._buffer[ready[-1][1] :]
        self._emitted += len(out)
        return out

    def flush(self) -> list[str]:
        spans = segment_spans(
            self._buffer, first_max=self.first_max if not self._emitted else None, max_len=self.max_len
        )
        out = [self._buffer[a:b] for a, b in spans]
        self._buffer = ""
        self._emitted += len(out)
        return out
