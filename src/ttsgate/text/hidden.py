"""Blocks of LLM output that are never spoken, removed from whole texts and from token streams.

* **Reasoning**: ``<think>``, ``<thinking>``, ``<reasoning>``, ``<reason>``, ``<thought>``,
  ``<seed:think>`` (Seed-OSS) … up to the matching closing tag, in any case and with attributes
  (``<Think>``, ``<think type="x">``), nested blocks of the same name included; also the markers
  that are not XML: ``[THINK]…[/THINK]`` (Mistral Magistral), ``◁think▷…◁/think▷`` (Kimi),
  ``<|begin_of_thought|>…<|end_of_thought|>`` (Sky-T1 style; its ``<|begin_of_solution|>`` …
  ``<|end_of_solution|>`` wrap the answer: the markers are removed, the answer is spoken). A
  block still open when the text ends is reasoning to the end (a reply cut off while thinking says
  nothing of it). A closing tag *before any opening one* means the reply started inside reasoning
  (the chat template opened ``<think>``, as DeepSeek-R1's and Qwen3's do): everything before it is
  dropped (see ``HiddenBlocks.feed`` for what that means in a stream). Other stray closing tags
  are removed.
* **Collapsed blocks**: ``<details …>…</details>`` of any type, e.g. Open WebUI's
  ``<details type="reasoning" done="true" duration="4"><summary>Thought for 4 seconds</summary>``,
  ``type="tool_calls"`` or ``type="code_interpreter"``: what a reader sees collapsed is not read
  aloud, its summary line included.
* **Code fences** (``fences=True``, for streams): `````` ``` `````` / ``~~~`` blocks become one
  placeholder sentence, 代码略。 or "Code omitted." by the language of the text so far (the whole-text
  path leaves fences to ``cleanup.clean_for_speech``, which does the same; a stream is cleaned per
  segment, and a fence spans segments).

Tags and markers split across deltas (``<th`` + ``ink>``, ``[TH`` + ``INK]``) are recognized: a
trailing ``<`` (``[``, ``◁``) that may still become one of them, or a line start that may still
become a fence, is held back until it is decided (``flush`` releases it as text). Reasoning sent in
a separate field (Ollama's ``message.thinking``, OpenAI-compatible ``reasoning_content``) never
reaches this module: the LLM backends read ``content`` only. XML tag names are those of Open
WebUI's reasoning detection (https://github.com/open-webui/open-webui, ``DEFAULT_REASONING_TAGS``).
"""

from __future__ import annotations

import re

CODE_PLACEHOLDER = {"zh": "代码略。", "en": "Code omitted."}
REASONING_TAGS = ("think", "thinking", "reasoning", "reason", "thought", "seed:think")
_NAMES = (*REASONING_TAGS, "details")
# Reasoning markers that are not XML tags: text (lower case) → (closing, block name). The names are
# kept apart from the XML ones: a block closes only with its own kind of marker.
_MARKERS = {
    "[think]": (False, "[think]"),  # Mistral Magistral
    "[/think]": (True, "[think]"),
    "◁think▷": (False, "◁think▷"),  # Kimi
    "◁/think▷": (True, "◁think▷"),
    "<|begin_of_thought|>": (False, "<|thought|>"),  # Sky-T1, Bespoke-Stratos, OpenThinker
    "<|end_of_thought|>": (True, "<|thought|>"),
    "<|begin_of_solution|>": (False, "<|solution|>"),  # the answer: markers removed, text kept
    "<|end_of_solution|>": (True, "<|solution|>"),
}
_WRAPPERS = frozenset({"<|solution|>"})
_REASONING = frozenset(REASONING_TAGS) | ({name for _, name in _MARKERS.values()} - _WRAPPERS)
_MARKER_STARTS = frozenset(m[0] for m in _MARKERS)
_MAX_MARKER = max(map(len, _MARKERS))
_TAG = re.compile(
    r"<(/?)(" + "|".join(_NAMES) + r")(?=[\s/>])[^<>]*>|" + "|".join(map(re.escape, _MARKERS)), re.I
)
_PARTIAL_TAG = re.compile(r"<(/?)([A-Za-z:]*)([^<>]*)$")
_MAX_TAG = 400  # a "<details ..." longer than this without its ">" is not a tag
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})([^\n]*)(?:\n|\Z)", re.M)
_MAYBE_FENCE = re.compile(r"[ \t]{0,3}(?:`{0,2}|~{0,2}|`{3,}[^\n]*|~{3,}[^\n]*)")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def _parse(m: re.Match[str]) -> tuple[bool, str, bool]:
    """(closing, block name, empty) of a ``_TAG`` match."""
    if m.group(2):
        return m.group(1) == "/", m.group(2).lower(), m.group(0).endswith("/>")
    closing, name = _MARKERS[m.group(0).lower()]
    return closing, name, False


def _partial_marker(text: str) -> int | None:
    """Where the end of ``text`` that may still become one of ``_MARKERS`` starts (None: nowhere)."""
    for i in range(max(0, len(text) - _MAX_MARKER + 1), len(text)):
        if text[i] in _MARKER_STARTS and any(m.startswith(text[i:].lower()) for m in _MARKERS):
            return i
    return None


class HiddenBlocks:
    """Removes hidden blocks from a text that arrives in pieces (see the module docstring).

    ``feed(delta)`` returns ``(text, discard)``: the text now certain to be spoken-side text, and
    whether everything given out *before* it was reasoning after all (a closing tag with no opening
    one: the reply started inside reasoning). A stream can only drop what it has not spoken yet;
    ``reply_segments`` drops the text its segmenter still holds. ``flush()`` returns the rest.
    ``lang`` ("zh" or "en") picks the code placeholder until the text has letters of its own.
    """

    def __init__(self, *, fences: bool = True, lang: str = "zh") -> None:
        self.fences = fences
        self.lang = lang
        self._pending = ""
        self._block: tuple[str, int] | None = None  # (tag name, nesting depth) while inside one
        self._fence: tuple[str, int] | None = None  # (fence character, length) while inside one
        self._line_start = True  # whether _pending starts at the start of a line
        self._seen_reasoning = False
        self._han = 0
        self._latin = 0

    def feed(self, delta: str) -> tuple[str, bool]:
        self._pending += delta
        return self._run(final=False)

    def flush(self) -> str:
        text, _ = self._run(final=True)
        self._pending = ""
        return text

    def _consume(self, n: int) -> None:
        if n:
            self._line_start = self._pending[n - 1] == "\n"
            self._pending = self._pending[n:]

    def _run(self, *, final: bool) -> tuple[str, bool]:
        out: list[str] = []
        discard = False

        def emit(text: str) -> None:
            out.append(text)
            self._han += len(_HAN.findall(text))
            self._latin += len(_LATIN.findall(text))

        while self._pending:
            if self._block is not None:
                if not self._skip_block(final):
                    break
                continue
            if self._fence is not None:
                if not self._skip_fence(final):
                    break
                continue
            tag = _TAG.search(self._pending)
            fence = self._find_fence(final) if self.fences else None
            if fence is not None and (tag is None or fence.start() < tag.start()):
                emit(self._pending[: fence.start()])
                emit("\n" + CODE_PLACEHOLDER[self._language()] + "\n")
                self._fence = (fence.group(1)[0], len(fence.group(1)))
                self._consume(fence.end())
                self._line_start = True
            elif tag is not None:
                emit(self._pending[: tag.start()])
                closing, name, empty = _parse(tag)
                self._consume(tag.end())
                if empty or name in _WRAPPERS:
                    continue  # <think/>: empty; <|begin_of_solution|>: the answer follows
                if not closing:
                    self._block = (name, 1)
                    self._seen_reasoning |= name in _REASONING
                elif name in _REASONING and not self._seen_reasoning:
                    self._seen_reasoning = True  # the reply started inside reasoning
                    out.clear()
                    discard = True
            else:
                keep = len(self._pending) if final else self._undecided()
                emit(self._pending[:keep])
                self._consume(keep)
                break
        return "".join(out), discard

    def _undecided(self) -> int:
        """Where the text that may still become a tag or a fence starts (``len`` if nowhere)."""
        cut = len(self._pending)
        m = _PARTIAL_TAG.search(self._pending)
        if m is not None:
            name, rest = m.group(2).lower(), m.group(3)
            if (not rest and any(n.startswith(name) for n in _NAMES)) or (
                name in _NAMES and rest[:1] in (" ", "\t", "\n", "/") and len(m.group(0)) <= _MAX_TAG
            ):
                cut = m.start()
        marker = _partial_marker(self._pending)
        if marker is not None:
            cut = min(cut, marker)
        if self.fences:
            line = self._pending.rfind("\n") + 1
            if (line or self._line_start) and _MAYBE_FENCE.fullmatch(self._pending, line):
                cut = min(cut, line)
        return cut

    def _find_fence(self, final: bool) -> re.Match[str] | None:
        for m in _FENCE.finditer(self._pending):
            if m.start() == 0 and not self._line_start:
                continue
            if m.group(1)[0] == "`" and "`" in m.group(2):
                continue  # ```x``` on one line is inline code, not a fence
            if not m.group(0).endswith("\n") and not final:
                return None  # the opening line is not complete yet
            return m
        return None

    def _skip_block(self, final: bool) -> bool:
        """Drop hidden text up to the block's closing tag; False when it is not there yet."""
        assert self._block is not None
        name, depth = self._block
        for m in _TAG.finditer(self._pending):
            closing, tag, empty = _parse(m)
            if tag != name or empty:
                continue
            depth += -1 if closing else 1
            if depth == 0:
                self._block = None
                self._consume(m.end())
                return True
        self._block = (name, depth)
        hold = len(self._pending)  # from where the text may be the start of the closing tag
        if not final:
            partial = _PARTIAL_TAG.search(self._pending)
            if partial is not None and len(partial.group(0)) <= _MAX_TAG:
                hold = partial.start()
            marker = _partial_marker(self._pending)
            hold = hold if marker is None else min(hold, marker)
        self._consume(hold)
        return False

    def _skip_fence(self, final: bool) -> bool:
        """Drop code up to the closing fence line; False when it is not there yet."""
        assert self._fence is not None
        char, length = self._fence
        close = re.compile(rf"^[ \t]{{0,3}}{re.escape(char)}{{{length},}}[ \t]*(?:\n|\Z)", re.M)
        for m in close.finditer(self._pending):
            if m.start() == 0 and not self._line_start:
                continue
            if not m.group(0).endswith("\n") and not final:
                break
            self._fence = None
            self._consume(m.end())
            self._line_start = True
            return True
        self._consume(len(self._pending) if final else self._pending.rfind("\n") + 1)
        return False

    def _language(self) -> str:
        if not (self._han or self._latin):
            return self.lang if self.lang in CODE_PLACEHOLDER else "zh"
        return "zh" if self._han * 2 >= self._latin else "en"


def strip_hidden(text: str) -> str:
    """``text`` without its reasoning and ``<details>`` blocks (code fences are left in place)."""
    blocks = HiddenBlocks(fences=False)
    head, _ = blocks.feed(text)
    return head + blocks.flush()
