"""Segmentation of live text (LLM tokens, WebSocket messages): each segment as soon as it is certain.

``IncrementalSegmenter`` cuts a text that arrives a few characters at a time the way
``split_segments`` cuts the whole text, with one deliberate difference: **a finished sentence is
released the moment its sentence-final mark arrives**, never held for the text after it. A reply
that pauses after "好的，我来回答。" (a tool call, a thinking phase, a slow model) is speaking while it
pauses; the first audio follows the sentence's last token by that segment's synthesis time.

Sentence-final marks (``_ends_now``): 。！？；… (with any closing quotes or brackets that arrive in
the same delta) end a sentence at once. ASCII ``.`` ``!`` ``?`` at the end of the text so far end it
at once too, except where the next character decides: ``.`` after a digit (3.5), after an
abbreviation or a single letter (Mr. e.g. U.S.), or a mark inside a URL, e-mail address or path
token, or after a space; those wait for the next character, as ``split_segments`` does (an ASCII
mark followed by whitespace ends a sentence). LLM tokenizers keep ``.com``/``.py`` together with
the dot first, so a dot that *ends* a delta after a word ends a sentence in practice.

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

from ttsgate.text.segment import _is_abbreviation, _sentence_ends, _speakable, segment_spans

_CJK_MARKS = "。！？；…"
_CLOSERS = "”’」』）)]】》〉"
_ORPHANS = frozenset(_CLOSERS + _CJK_MARKS + ".!?")
# The closers each kind of mark takes along: the same as segment._CJK_END and segment._ASCII_END.
_LIVE_END = re.compile(r"(?:([。！？；…]+)[”’」』）)\]\"']*|([.!?]+)[\"')\]”’]*)$")
_ADDRESS = re.compile(r"://|^www\.|@|/", re.I)


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
    if m.group(2) == ".":
        return not (before.isdigit() or _is_abbreviation(text, i))
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
        self._buffer += delta
        self._drop_orphans()
        out: list[str] = []
        closed = self._closed_end()
        if closed:
            out += self._release(closed, final=True)
            self._drop_orphans()
        if self._buffer:
            spans = segment_spans(
                self._buffer,
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

    def reset(self) -> None:
        """Forget the text held (not yet released)."""
        self._buffer = ""
        self._after_sentence = False

    def _closed_end(self) -> int:
        """The end of the last finished sentence in the buffer (0: none)."""
        ends = _sentence_ends(self._buffer)
        if _ends_now(self._buffer):
            ends.append(len(self._buffer))
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
