"""Segmentation of live text (LLM tokens, WebSocket messages): each segment as soon as it is certain.

``IncrementalSegmenter`` cuts a text that arrives a few characters at a time the way
``split_segments`` cuts the whole text, with one deliberate difference: **a finished sentence is
released the moment its sentence-final mark arrives**, never held for the text after it. A reply
that pauses after "好的，我来回答。" (a tool call, a thinking phase, a slow model) is speaking while it
pauses; the first audio follows the sentence's last token by that segment's synthesis time.

Sentence-final marks (``_ends_now``): 。！？；… (with any closing quotes or brackets that arrive in
the same delta) end a sentence at once. ASCII ``.`` ``!`` ``?`` at the end of the text so far end it
at once too, except where the next character decides: ``.`` after a digit (3.5), after an
abbreviation or a single letter (Mr. e.g. U.S.), after a Latin word written straight against Han
(``发到zhang.`` may go on as an address), ``!`` after Han (``见!`` may open an image ``![…](…)``),
a mark inside a URL, e-mail address or path token, or after a space; those wait for the next
character, as ``split_segments`` does (an ASCII mark followed by whitespace ends a sentence). LLM
tokenizers keep ``.com``/``.py`` together with the dot first, so a dot that *ends* a delta after a
word ends a sentence in practice. A held mark does not wait through a pause: ``reply_segments``
calls ``release_held`` when no text arrives for a moment (``held_end``), so ``答案是42.`` is spoken
while the LLM pauses.

Markdown constructs that ``cleanup`` reads as a whole (a link ``[text](url)``, an image, inline
code, an HTML tag, a URL or e-mail address) are never cut (``segment.markup_spans``), and one still
open at the end of the text is held until it closes (``open_markup``):
``请看[这个链接。点击这里](https://example.com)。`` is spoken as the whole text is, wherever the
stream was cut. A numbered-list marker ``1.`` at a line start ends no sentence.

Closing punctuation that arrives after its sentence was released (``”`` ``」`` ``)`` ``…`` ``！`` or a
straight ``"`` that closes an open quote) can no longer join it and must not be spoken or sent
alone: it is dropped. Any other piece with nothing speakable (``…`` at the very start) is dropped
too. Differences from ``split_segments`` of the whole text, all tested: a short sentence is its own
segment (the batch merges it into a neighbour: a stream cannot wait), those dropped orphans, and
a cut right after a mark that ended a delta where the whole text goes on without a space
(``example.`` + ``com``).

Still held until the text after them decides (same as ``split_segments``): the first clause (it
needs three speakable characters after the comma) and the pieces of a long sentence (the last piece
may still grow).
"""

from __future__ import annotations

import re

from ttsgate.text.segment import (
    _is_abbreviation,
    _sentence_ends,
    _speakable,
    is_list_marker,
    markup_spans,
    segment_spans,
)

_CJK_MARKS = "。！？；…"
_CLOSERS = "”’」』）)]】》〉"
_ORPHANS = frozenset(_CLOSERS + _CJK_MARKS + ".!?")
# The closers each kind of mark takes along: the same as segment._CJK_END and segment._ASCII_END.
_LIVE_END = re.compile(r"(?:([。！？；…]+)[”’」』）)\]\"']*|([.!?]+)[\"')\]”’]*)$")
_ADDRESS = re.compile(r"://|^www\.|@|/", re.I)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_GLUED_TO_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff][A-Za-z0-9_\-]+$")
# A Markdown link or image, inline code or HTML tag opened and not closed yet: [text… [text]
# [text](url… `code… <tag… (the same constructs as segment._MARKUP).
_OPEN_MARKUP = re.compile(
    r"!?\[[^\]\n]*(?:\](?:\((?:[^()\n]|\([^)\n]*\))*(?:\([^)\n]*)?)?)?$|`+[^`\n]*$|<[A-Za-z/][^<>\n]*$"
)
MAX_MARKUP = 500  # characters an open construct is held at most: longer, it is text after all
FEED_CHUNK = 1024  # a longer delta is fed in pieces of about this size: the work stays linear in it


def _chunks(delta: str) -> list[str]:
    """``delta`` in pieces of about ``FEED_CHUNK`` characters, each cut between two letters or
    digits (where no mark, space or markup is decided by the cut), else at ``FEED_CHUNK``."""
    out = []
    start = 0
    while len(delta) - start > FEED_CHUNK:
        cut = start + FEED_CHUNK
        for i in range(cut, cut - 64, -1):
            if delta[i - 1].isalnum() and delta[i].isalnum():
                cut = i
                break
        out.append(delta[start:cut])
        start = cut
    out.append(delta[start:])
    return out


def open_markup(text: str) -> int | None:
    """Where a Markdown construct that is still open at the end of ``text`` starts (None: none).

    Its cleanup (``cleanup.clean_for_speech``: a link's text, not its brackets and URL) needs the
    whole construct, so a stream holds it until it closes, a line ends or it outgrows ``MAX_MARKUP``.
    """
    closed = markup_spans(text)
    for m in _OPEN_MARKUP.finditer(text):
        if len(text) - m.start() <= MAX_MARKUP and not any(a <= m.start() < b for a, b in closed):
            return m.start()
    return None


def _ends_now(text: str) -> bool:
    """Whether ``text`` ends with a sentence-final mark that completes the sentence already (see
    the module docstring), without waiting for what follows."""
    m = _LIVE_END.search(text)
    if m is None:
        return False
    if m.group(1):
        return True
    i = m.start()
    before = text[i - 1] if i else " "
    if not (before.isalnum() or before in _CLOSERS):
        return False
    token = text[:i].rsplit(None, 1)[-1]
    if _ADDRESS.search(token):
        return False
    if m.group(0) == "!" and _HAN.match(before):
        return False  # 见! may open an image, 见![图](a.png): Chinese ends with ！
    if m.group(2) == ".":  # 3. (3.5), Mr., and a Latin word written against Han (邮件到zhang.san@…)
        return not (before.isdigit() or _is_abbreviation(text, i) or _GLUED_TO_HAN.search(text, 0, i))
    return True


class IncrementalSegmenter:
    """Segments a text that arrives a few characters at a time (LLM token stream).

    ``feed`` returns the segments that are certain now: every finished sentence (at once, see the
    module docstring), the first segment's clause once enough speech follows it, and the pieces of
    a long sentence but its last. ``flush`` returns the rest (a WebSocket ``flush``, the end of a
    reply); ``reset`` forgets the text held (it turned out to be reasoning). Segments hold at least
    one speakable character.
    """

    def __init__(self, *, first_max: int = 20, max_len: int = 80) -> None:
        segment_spans("", first_max=first_max, max_len=max_len)  # validates
        self.first_max = first_max
        self.max_len = max_len
        self._buffer = ""
        self._emitted = 0
        self._after_sentence = False  # the text released last ended a sentence: orphans may follow
        self._quotes = 0  # straight double quotes released so far: odd = one is open

    def feed(self, delta: str) -> list[str]:
        """The segments certain once ``delta`` is appended. A long ``delta`` is fed in pieces
        (``FEED_CHUNK``), so the work is linear in the text however it arrives: the buffer held
        between pieces is bounded (a sentence's last piece, an open construct)."""
        if len(delta) <= FEED_CHUNK:
            return self._feed(delta)
        return [seg for piece in _chunks(delta) for seg in self._feed(piece)]

    def _feed(self, delta: str) -> list[str]:
        self._buffer += delta
        self._drop_orphans()
        out: list[str] = []
        closed = self._closed_end()
        if closed:
            out += self._release(closed, final=True)
            self._drop_orphans()
        hold = open_markup(self._buffer)
        if visible := self._buffer[:hold]:
            spans = segment_spans(
                visible,
                first_max=self.first_max if not self._emitted else None,
                max_len=self.max_len,
                final=False,
            )
            if len(spans) > 1:  # a first clause, or the pieces of a long sentence but the last
                out += self._release(spans[-2][1], final=False, spans=spans[:-1])
        return out

    def flush(self) -> list[str]:
        self._drop_orphans()
        return self._release(len(self._buffer), final=True)

    def held_end(self) -> bool:
        """Whether the text held ends with a sentence mark that only the next character decides
        (``42.`` may go on as 42.5, ``Mr.``, a URL's last dot): if nothing follows, it ends a
        sentence. A list marker (``1.`` alone on its line) or an open Markdown construct is not one."""
        m = _LIVE_END.search(self._buffer)
        if m is None or not _speakable(self._buffer) or open_markup(self._buffer) is not None:
            return False
        return not (m.group(2) == "." and is_list_marker(self._buffer, m.start()))

    def release_held(self) -> list[str]:
        """The text held when it ends with a mark that ``held_end`` accepts (no more text arrived
        for a while: ``reply_segments`` calls this after ``idle_s``), else nothing."""
        return self._release(len(self._buffer), final=True) if self.held_end() else []

    def held_chars(self) -> int:
        """Characters held (not yet released)."""
        return len(self._buffer)

    def reset(self) -> None:
        """Forget the text held (not yet released)."""
        self._buffer = ""
        self._after_sentence = False

    def _closed_end(self) -> int:
        """The end of the last finished sentence in the buffer (0: none)."""
        hold = open_markup(self._buffer)
        visible = self._buffer[:hold]
        ends = _sentence_ends(visible)
        if hold is None and _ends_now(visible):
            ends.append(len(visible))
        return max(ends, default=0)

    def _release(self, end: int, *, final: bool, spans: list[tuple[int, int]] | None = None) -> list[str]:
        text = self._buffer[:end]
        if spans is None:
            spans = segment_spans(
                text, first_max=self.first_max if not self._emitted else None, max_len=self.max_len
            )
        out = [piece for a, b in spans if _speakable(piece := text[a:b])]
        self._buffer = self._buffer[end:]
        self._emitted += len(out)
        self._quotes += text.count('"')
        if text.strip():
            self._after_sentence = final and _ends_now(text.rstrip())
        return out

    def _drop_orphans(self) -> None:
        """Drop closing punctuation that follows an already released sentence (see module doc)."""
        if not self._after_sentence:
            return
        i = 0
        for ch in self._buffer:
            if ch == '"' and self._quotes % 2 == 1:
                self._quotes += 1
            elif not (ch.isspace() or ch in _ORPHANS):
                self._after_sentence = False
                break
            i += 1
        self._buffer = self._buffer[i:]
