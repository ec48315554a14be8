"""Text deltas (LLM tokens, WebSocket messages) → speakable ``Segment``s, as soon as each is certain.

Deltas pass ``HiddenBlocks`` (reasoning, ``<details>`` and code fences are never spoken, even when
their tags are split across deltas) and feed an ``IncrementalSegmenter``, which releases a finished
sentence the moment its final mark arrives; every segment goes through the text pipeline
(``prepare``: cleanup, language runs, normalization) and is yielded at once, so the first sentence
is spoken while the rest of the reply is still being generated, however long the LLM then pauses.
A ``Flush`` item speaks whatever is buffered now. Closing the generator closes the delta source
(an LLM request is cancelled with it).

A sentence whose last mark only the next character decides (``答案是42.`` may go on as 42.5;
``Mr.``; a URL's last dot) is held for that character, but not through a pause: when no delta
arrives within ``idle_s`` (LLM tokens come every few tens of milliseconds), the held sentence is
released as finished (``IncrementalSegmenter.release_held``). The wait is on the pending read
itself (``asyncio.wait`` with a timeout, the read is not cancelled): no polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeVar

from ttsgate.offload import INLINE_CHARS, off_loop
from ttsgate.text import IncrementalSegmenter, Segment, TextNormalizer, prepare
from ttsgate.text.hidden import HiddenBlocks
from ttsgate.text.lexicon import Lexicon

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _End:
    error: BaseException | None = None


async def read_ahead(source: AsyncIterator[T], *, maxsize: int = 64) -> AsyncGenerator[T, None]:
    """``source`` read by a task of its own, at most ``maxsize`` items ahead of the consumer.

    Why: a stream read inside a response body gets cancelled more than once when the client goes
    away (anyio's cancel scope re-delivers, ``gather`` re-cancels its children), and a second
    cancellation interrupts httpx while it closes the upstream connection, leaving the LLM
    generating into a socket nobody reads. The reader task here is cancelled exactly once, by us,
    and closes its source undisturbed.
    """
    queue: asyncio.Queue[T | _End] = asyncio.Queue(maxsize)

    async def pump() -> None:
        try:
            async for item in source:
                await queue.put(item)
            await queue.put(_End())
        except Exception as exc:
            await queue.put(_End(exc))
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()

    reader = asyncio.create_task(pump())
    try:
        while not isinstance(item := await queue.get(), _End):
            yield item
        if item.error is not None:
            raise item.error
    finally:
        reader.cancel()
        await asyncio.wait([reader])  # unlike gather, a cancellation of ours is not passed on to it


@dataclass(frozen=True, slots=True)
class Flush:
    """Marks the point where buffered text must be spoken without waiting for more."""


IDLE_S = 0.4  # a pause this long after an ambiguous sentence end ("42.") ends the sentence


async def _next(source: AsyncIterator[str | Flush]) -> str | Flush | _End:
    """The next item of ``source``, ``_End()`` after the last."""
    try:
        return await anext(source)
    except StopAsyncIteration:
        return _End()


async def reply_segments(
    deltas: AsyncIterator[str | Flush],
    *,
    normalizer: TextNormalizer,
    lang_hint: str | None = None,
    verbatim_latin: bool = False,
    on_delta: Callable[[str], None] | None = None,
    first_max: int = 20,
    max_len: int = 80,
    lexicon: Lexicon | None = None,
    idle_s: float = IDLE_S,
) -> AsyncGenerator[Segment, None]:
    """Speakable segments of the text in ``deltas``, in order (segments with nothing speakable are dropped).

    ``on_delta`` sees every text delta before the segment that contains it is yielded; ``lexicon``
    is applied to every segment (``prepare``); ``idle_s`` (0: never) is the pause after which a
    sentence held for its next character is spoken (module docstring).
    """
    segmenter = IncrementalSegmenter(first_max=first_max, max_len=max_len)
    hidden = HiddenBlocks(fences=True, lang="en" if lang_hint == "en" else "zh")
    emitted = 0

    def speakable(pieces: list[str]) -> list[Segment]:
        nonlocal emitted
        out = []
        for piece in pieces:
            # The segmenter already cut the first segment short; later pieces are not cut again.
            limit = first_max if emitted == 0 else max_len
            for seg in prepare(
                piece,
                lang_hint,
                normalizer=normalizer,
                first_max=limit,
                max_len=max_len,
                verbatim_latin=verbatim_latin,
                lexicon=lexicon,
            ):
                if seg.runs:
                    emitted += 1
                    out.append(seg)
        return out

    def take(delta: str | Flush) -> list[Segment]:
        """The segments certain once ``delta`` is in (the whole text step, run off the loop)."""
        if isinstance(delta, Flush):
            return speakable(segmenter.flush())
        visible, discard = hidden.feed(delta)
        if discard:  # the reply began inside reasoning: what is not spoken yet is dropped
            segmenter.reset()
        return speakable(segmenter.feed(visible) if visible else [])

    def finish() -> list[Segment]:
        return speakable(segmenter.feed(hidden.flush()) + segmenter.flush())

    def held() -> list[Segment]:
        return speakable(segmenter.release_held())

    # Text work costs microseconds per character: a long delta (or what the segmenter holds) is
    # handled in a worker thread (``off_loop``), never on the event loop; the segmenter holds a
    # bounded text between deltas (``IncrementalSegmenter.feed``), so its size bounds the rest.
    source = aiter(deltas)
    step: asyncio.Future[str | Flush | _End] | None = None  # the read in progress
    try:
        while True:
            if idle_s > 0 and segmenter.held_end():
                step = step or asyncio.ensure_future(_next(source))
                done, _ = await asyncio.wait({step}, timeout=idle_s)
                if not done:  # a pause after "42.": the sentence is finished
                    for seg in await off_loop(segmenter.held_chars(), held):
                        yield seg
            if step is not None:
                delta, step = await step, None
            else:
                delta = await _next(source)
            if isinstance(delta, _End):
                break
            size = segmenter.held_chars()
            if not isinstance(delta, Flush):
                if on_delta is not None:
                    on_delta(delta)
                size += len(delta)
            for seg in await off_loop(size, take, delta):
                yield seg
        for seg in await off_loop(segmenter.held_chars() + INLINE_CHARS + 1, finish):
            yield seg
    finally:
        if step is not None:
            step.cancel()
            await asyncio.wait({step})
        aclose = getattr(deltas, "aclose", None)
        if aclose is not None:
            await aclose()
